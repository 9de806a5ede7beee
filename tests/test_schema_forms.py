"""Section forms generated from the case models (gongu/web/schema_forms.py, form_parse.py): what a browser
would submit from the rendered HTML parses back to the exact JSON of every example; problems of
`load_case` land beside their inputs; the row buttons; empty forms; escaping. No browser: the HTML is read
with the standard library's parser, submitting the way a browser does (selected options, textarea text,
no disabled controls, no buttons)."""

from __future__ import annotations

import copy
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from generator.loading import CaseFileError, load_case
from generator.model import CarSurveyCase
from gongu.web.form_fields import NOT_RENDERED, case_model, fields_of
from gongu.web.schema_forms import apply_row_op, input_id, parse_section, section_fields

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
CASES = sorted(p.parent.name for p in EXAMPLES.glob("*/case.json"))
VOID = {"input", "br", "img", "hr", "meta", "link"}


class Page(HTMLParser):
    """The form data a browser submits, every control with its attributes, and the text inside each id."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.submitted: dict[str, list[str]] = {}
        self.controls: list[tuple[str, dict[str, str | None]]] = []
        self.labels: dict[str, str] = {}
        self.text: dict[str, str] = {}
        self.buttons: list[dict[str, str | None]] = []
        self._open: list[tuple[str, str | None]] = []
        self._textarea: dict[str, str | None] | None = None
        self._select: tuple[dict[str, str | None], list[str], list[str]] | None = None
        self._label: str | None = None
        self.feed(html)
        self.close()

    def _submit(self, attrs: dict[str, str | None], value: str) -> None:
        if "disabled" not in attrs and attrs.get("name"):
            self.submitted.setdefault(str(attrs["name"]), []).append(value)

    def handle_starttag(self, tag: str, attr_list: list[tuple[str, str | None]]) -> None:
        attrs = dict(attr_list)
        if tag not in VOID:
            self._open.append((tag, attrs.get("id")))
        if tag == "input":
            self.controls.append((tag, attrs))
            if attrs.get("type") not in ("submit", "button", "checkbox", "radio") or "checked" in attrs:
                self._submit(attrs, attrs.get("value") or "")
        elif tag == "textarea":
            self.controls.append((tag, attrs))
            self._textarea, self._textarea_text = attrs, ""
        elif tag == "select":
            self.controls.append((tag, attrs))
            self._select = (attrs, [], [])
        elif tag == "option" and self._select is not None:
            self._select[1].append(attrs.get("value") or "")
            if "selected" in attrs:
                self._select[2].append(attrs.get("value") or "")
        elif tag == "button":
            self.buttons.append(attrs)
        elif tag == "label":
            self._label = attrs.get("for")
            self.labels[str(self._label)] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea_text += data
        if self._label is not None:
            self.labels[self._label] += data
        for _, element_id in self._open:
            if element_id:
                self.text[element_id] = self.text.get(element_id, "") + data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None:
            text = self._textarea_text
            self._submit(self._textarea, text[1:] if text.startswith("\n") else text)  # HTML drops one
            self._textarea = None
        elif tag == "select" and self._select is not None:
            attrs, values, selected = self._select
            self._submit(attrs, (selected or values)[-1 if selected else 0])
            self._select = None
        elif tag == "label":
            self._label = None
        if tag not in VOID:
            while self._open:
                if self._open.pop()[0] == tag:
                    break


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name / "case.json").read_text(encoding="utf-8"))


def without_nulls(value: Any) -> Any:
    """null and absent mean the same to the model (every nullable field defaults to None); a form omits it."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def round_trip(kind: str, keys: tuple[str, ...], data: dict[str, Any]) -> dict[str, Any]:
    page = Page(str(section_fields(kind, keys, data, [])))
    return parse_section(kind, keys, page.submitted)


@pytest.mark.parametrize("name", CASES)
def test_every_section_of_every_example_round_trips_exactly(name: str) -> None:
    data = example(name)
    keys = [k for k in data if k not in NOT_RENDERED]
    assert len(keys) > 15  # the examples fill most of the case
    for key in keys:
        assert round_trip(data["kind"], (key,), data) == without_nulls({key: data[key]}), key


def test_workspace_keys_are_neither_rendered_nor_returned() -> None:
    data = example("slope-collapse")
    data["reviews"] = [{"level": "proofread", "reviewer": "张三", "at": "2025-08-01T10:00:00", "decision": "approve"}]
    keys = ("schema_version", "kind", "case_id", "reviews", "issuances", "case_name")
    html = str(section_fields("car_survey", keys, data, []))
    assert 'name="$.reviews' not in html and 'name="$.case_id"' not in html and 'name="$.kind"' not in html
    assert round_trip("car_survey", keys, data) == {"case_name": data["case_name"]}
    with pytest.raises(ValueError, match="losess"):
        section_fields("car_survey", ("losess",), data, [])
    with pytest.raises(ValueError, match="losess"):
        parse_section("car_survey", ("losess",), {})


def test_inputs_by_kind_and_timestamps_keep_their_seconds() -> None:
    data = example("pile-collapse")  # period_end 2027-02-28T23:59:59
    data["assigned_at"] = "2025-07-12T09:20:00+08:00"  # a zone the datetime-local input cannot hold
    page = Page(str(section_fields("car_survey", ("policy", "assigned_at", "statutory", "attachments"), data, [])))
    controls = {a["name"]: (tag, a) for tag, a in page.controls if a.get("name") and a["name"] != "_keep"}
    start = controls["$.policy.period_start"][1]
    assert (start["type"], start["step"], start["value"]) == ("datetime-local", "1", "2024-09-01T00:00:00")
    end = controls["$.policy.period_end"][1]
    assert (end["type"], end["step"], end["value"]) == ("datetime-local", "1", "2027-02-28T23:59:59")
    assert controls["$.assigned_at"][1]["type"] == "text"
    amount = controls["$.policy.items[0].sum_insured"][1]
    assert (amount["type"], amount["inputmode"]) == ("text", "decimal")
    assert controls["$.attachments[0].pages"][1]["type"] == "number"
    assert controls["$.statutory"][0] == "select"
    assert controls["$.policy.special_clauses[0].text"][0] == "textarea"  # prose by key (form_fields.LONG_TEXT)
    parsed = parse_section("car_survey", ("policy", "assigned_at"), page.submitted)
    assert parsed["assigned_at"] == "2025-07-12T09:20:00+08:00"
    assert parsed["policy"]["period_end"] == "2027-02-28T23:59:59"
    # A minute from the browser gets ":00"; a time with seconds stays as typed.
    form = {"$.assigned_at": ["2025-07-12T09:20"], "$.case_name": ["  x  "]}
    assert parse_section("car_survey", ("assigned_at", "case_name"), form) == {"assigned_at": "2025-07-12T09:20:00",
                                                                                 "case_name": "x"}


def test_an_empty_timestamp_takes_a_time_to_the_second() -> None:
    """A new policy's period ends at 23:59:59: the empty input must offer seconds (an input stepping by
    minutes would refuse 23:59:59 as a step mismatch and the form would not submit), and it parses back."""
    page = Page(str(section_fields("car_survey", ("policy",), {}, [])))
    controls = {a["name"]: a for _, a in page.controls if a.get("name")}
    end = controls["$.policy.period_end"]
    assert (end["type"], end["step"], end["value"]) == ("datetime-local", "1", "")
    parsed = parse_section("car_survey", ("policy",), {"$.policy.period_end": ["2026-08-31T23:59:59"]})
    assert parsed["policy"]["period_end"] == "2026-08-31T23:59:59"


def test_no_other_insurance_is_a_finding_the_form_can_state() -> None:
    """8.1 asks whether other insurance exists: [] (found none) is not the same as leaving it out (not asked),
    so an empty 其他保险 has a 「经核实没有」 box, ticked when the file says [], that writes [] back."""
    def box(data: dict[str, object]) -> dict[str, str]:
        page = Page(str(section_fields("car_survey", ("policy",), data, [])))
        [found] = [a for t, a in page.controls if a.get("id") == "f-policy-other_insurance-none"]
        return found

    unasked = box({"policy": {"number": "P1"}})
    assert (unasked["type"], unasked["name"], unasked["value"]) == ("checkbox", "_keep", "$.policy.other_insurance")
    assert "checked" not in unasked
    assert "checked" in box({"policy": {"number": "P1", "other_insurance": []}})
    ticked = {"$.policy.number": ["P1"], "_keep": ["$.policy.other_insurance"]}
    assert parse_section("car_survey", ("policy",), ticked) == {"policy": {"number": "P1", "items": [], "other_insurance": []}}
    assert parse_section("car_survey", ("policy",), {"$.policy.number": ["P1"]}) == {"policy": {"number": "P1", "items": []}}  # items: required
    # a list where [] and absent mean the same keeps its hidden input only
    page = Page(str(section_fields("car_survey", ("rescue_costs",), {"rescue_costs": []}, [])))
    assert not any(a.get("type") == "checkbox" for _, a in page.controls)


def test_every_control_has_its_chinese_label_and_every_choice_a_chinese_title() -> None:
    data = example("slope-collapse")
    keys = tuple(k for k in data if k not in NOT_RENDERED)
    page = Page(str(section_fields("car_survey", keys, data, [])))
    shown = [(t, a) for t, a in page.controls if a.get("type") != "hidden"]
    assert len(shown) > 200
    for _, attrs in shown:
        named = str(attrs["value"]) if attrs["name"] == "_keep" else str(attrs["name"])  # 「经核实没有」 names its list
        assert attrs["id"] == input_id(named) + ("-none" if attrs["name"] == "_keep" else "")
        assert page.labels.get(str(attrs["id"])), attrs["name"]
    assert page.labels["f-policy-items-0-sum_insured"] == "保险金额*"
    assert page.labels["f-losses-0-salvage"] == "残值"  # has a default: not marked required
    assert "公估人所在城市周边地区" in page.text["f-survey"]
    for kind in ("car_survey", "forensic_appraisal"):
        seen: set[type] = set()
        todo = [case_model(kind)]
        while todo:
            model = todo.pop()
            if model in seen:
                continue
            seen.add(model)
            for spec in fields_of(model):
                if model is case_model(kind) and spec.key in NOT_RENDERED:
                    continue
                if spec.model is not None:
                    todo.append(spec.model)
                for value, title in spec.choices:
                    assert title != value or not value.isascii(), f"{model.__name__}.{spec.key}: {value}"


def test_a_problem_from_load_case_appears_beside_its_input(tmp_path: Path) -> None:
    data = example("slope-collapse")
    data["policy"]["items"][0]["sum_insured"] = "48,000,000"
    del data["commission"]
    (tmp_path / "case.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CaseFileError) as caught:
        load_case(tmp_path / "case.json")
    problems = caught.value.problems
    by_path = {p.path: p for p in problems}
    assert set(by_path) == {"$.policy.items[0].sum_insured", "$.commission"}
    html = str(section_fields("car_survey", ("commission", "policy"), data, problems))
    page = Page(html)
    amount = by_path["$.policy.items[0].sum_insured"]
    error = page.text["f-policy-items-0-sum_insured-err"]
    assert amount.message in error and "48,000,000" in error
    described = [a for _, a in page.controls if a.get("name") == "$.policy.items[0].sum_insured"][0]
    assert described["aria-describedby"] == "f-policy-items-0-sum_insured-err"
    assert described["aria-invalid"] == "true"
    assert by_path["$.commission"].message in page.text["f-commission-err"]  # at the missing object's fieldset
    assert html.count(amount.message) == 1 and "f-policy-err" not in page.text
    # A missing required object still renders its empty inputs, so it can be filled.
    assert 'name="$.commission.subject"' in html


def test_list_and_deep_problems_show_at_the_nearest_rendered_ancestor(tmp_path: Path) -> None:
    data = example("slope-collapse")
    data["policy"]["items"] = []
    data["losses"][1]["colour"] = "red"  # not a field of the model: no input carries this path
    data["survey"]["participants"][1] = "陈晓梅\u200b"  # an item of a one-per-line textarea
    (tmp_path / "case.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CaseFileError) as caught:
        load_case(tmp_path / "case.json")
    problems = caught.value.problems
    assert {p.path for p in problems} == {"$.policy.items", "$.losses[1].colour", "$.survey.participants[1]"}
    page = Page(str(section_fields("car_survey", ("policy", "losses", "survey"), data, problems)))
    assert "不可见的控制字符" in page.text["f-survey-participants-err"]
    assert "至少需要一项" in page.text["f-policy-items-err"]
    assert "未定义的字段" in page.text["f-losses-1-err"]  # the row's fieldset
    assert "f-losses-err" not in page.text


def test_empty_form_omits_what_is_optional_and_keeps_required_containers() -> None:
    keys = tuple(k for k in CarSurveyCase.model_fields if k not in NOT_RENDERED)
    # Worked out from the model: required objects / lists stay as {} / [] so the problems name their
    # fields; required scalars (case_name, assigned_at) and everything optional are simply absent.
    expected = {"firm": {}, "commission": {}, "handlers": [], "policy": {}, "project": {}, "incident": {},
                "survey": {}, "report": {}}
    assert parse_section("car_survey", keys, {}) == expected
    rendered_empty = Page(str(section_fields("car_survey", keys, {}, [])))
    assert parse_section("car_survey", keys, rendered_empty.submitted) == expected
    assert all(v == "" for vs in rendered_empty.submitted.values() for v in vs)


def test_an_absent_optional_object_renders_empty_inputs_and_comes_back_only_when_filled() -> None:
    data = example("slope-collapse")
    del data["survey"]["client_notice"]
    page = Page(str(section_fields("car_survey", ("survey",), data, [])))
    assert page.submitted["$.survey.client_notice.signed_by"] == [""]
    assert "client_notice" not in parse_section("car_survey", ("survey",), page.submitted)["survey"]
    page.submitted["$.survey.client_notice.signed_by"] = ["  周海涛 "]
    page.submitted["$.survey.client_notice.signed_at"] = ["2025-07-12T14:28"]
    assert parse_section("car_survey", ("survey",), page.submitted)["survey"]["client_notice"] == {
        "signed_by": "周海涛", "signed_at": "2025-07-12T14:28:00"}


def test_row_buttons_add_remove_and_move_loss_lines() -> None:
    data = example("slope-collapse")
    page = Page(str(section_fields("car_survey", ("losses",), data, [])))
    ops = [b["value"] for b in page.buttons]
    assert "add:$.losses" in ops and "remove:$.losses[1]" in ops and "down:$.losses[0]" in ops
    assert all("formnovalidate" in b and b["type"] == "submit" and b["name"] == "_op" for b in page.buttons)
    values = parse_section("car_survey", ("losses",), page.submitted)
    ids = [row["id"] for row in values["losses"]]
    assert len(ids) >= 3
    moved = apply_row_op(values, "down:$.losses[0]")
    assert [r["id"] for r in moved["losses"]] == [ids[1], ids[0], *ids[2:]]
    assert [r["id"] for r in values["losses"]] == ids  # the input is not changed
    assert [r["id"] for r in apply_row_op(values, "up:$.losses[2]")["losses"]] == [ids[0], ids[2], ids[1], *ids[3:]]
    assert [r["id"] for r in apply_row_op(values, "up:$.losses[0]")["losses"]] == ids  # already first
    assert [r["id"] for r in apply_row_op(values, "remove:$.losses[1]")["losses"]] == [ids[0], *ids[2:]]
    added = apply_row_op(values, "add:$.losses")
    assert added["losses"][-1] == {} and len(added["losses"]) == len(ids) + 1
    # The added row renders as empty inputs; saved untouched it stays an (invalid) row until 删除.
    again = Page(str(section_fields("car_survey", ("losses",), added, [])))
    n = len(ids)
    assert again.submitted[f"$.losses[{n}].id"] == [""]
    assert parse_section("car_survey", ("losses",), again.submitted)["losses"][n] == {}
    # A list inside a row that is not there yet is created.
    survey = {"survey": {"record_items": [{"id": "R1"}]}}
    assert apply_row_op(survey, "add:$.survey.record_items[0].measurements") == {
        "survey": {"record_items": [{"id": "R1", "measurements": [{}]}]}}
    for bad in ("add:$.losses[0]", "remove:$.losses", "remove:$.losses[99]", "drop:$.losses[0]", "up:"):
        with pytest.raises(ValueError):
            apply_row_op(values, bad)


def test_starlette_form_data_with_repeated_names_parses_like_lists() -> None:
    from starlette.datastructures import FormData

    data = example("forensic-joint-grade10")  # timeline.extensions and .suspensions are written as []
    page = Page(str(section_fields("forensic_appraisal", ("timeline",), data, [])))
    assert len(page.submitted["_keep"]) == 2
    form = FormData([(name, value) for name, values in page.submitted.items() for value in values])
    assert parse_section("forensic_appraisal", ("timeline",), form) == {"timeline": data["timeline"]}


def test_hostile_text_is_escaped_and_comes_back_as_written() -> None:
    data = copy.deepcopy(example("slope-collapse"))
    hostile = '<script>alert("x")</script>" onfocus="alert(1)'
    data["case_name"] = hostile
    data["incident"]["course"] = "</textarea><script>alert(2)</script>"
    data["survey"]["location_band"] = '"><script>alert(3)</script>'
    html = str(section_fields("car_survey", ("case_name", "incident", "survey"), data, []))
    assert "<script>" not in html and "&lt;script&gt;" in html
    back = round_trip("car_survey", ("case_name", "incident", "survey"), data)
    assert back["case_name"] == hostile
    assert back["incident"]["course"] == data["incident"]["course"]
    assert back["survey"]["location_band"] == data["survey"]["location_band"]  # kept, for validation to name


def test_readonly_shows_the_values_disabled_without_buttons() -> None:
    data = example("forensic-joint-grade10")
    keys = ("materials", "commission", "examination")
    html = str(section_fields("forensic_appraisal", keys, data, [], readonly=True))
    page = Page(html)
    assert page.buttons == [] and 'name="_op"' not in html
    assert page.controls and all("disabled" in a for _, a in page.controls)
    assert page.submitted == {}
    assert data["examination"]["analysis"] in page.text["f-examination"]
