"""`gongu check`: findings by clause, --json, --html QC sheet, --today, --stage, exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from case_edits import ROOT, copy_photos, slope
from typer.testing import CliRunner

from generator.rules import all_rules
from gongu.cli.app import app
from tests.peoplekit import people_home

runner = CliRunner()
EXAMPLES = sorted((ROOT / "examples").glob("*/case.json"))


@pytest.fixture(autouse=True)
def _registered_staff(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--stage issue` (the default) shows what `gongu issue` refuses, approvals by unregistered persons too."""
    people_home(tmp_path / "gongu-home", monkeypatch)


def write(tmp_path: Path, data: dict) -> Path:
    import simplejson

    copy_photos(tmp_path)
    path = tmp_path / "case.json"
    path.write_text(simplejson.dumps(data, use_decimal=True, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.parent.name)
def test_every_example_passes_check(example: Path) -> None:
    # As of the example's own report date: the day its report (or 意见书) would be sealed.
    day = json.loads(example.read_text(encoding="utf-8"))["report"]["issued_on"]
    result = runner.invoke(app, ["check", str(example), "--today", day])
    assert result.exit_code == 0, result.output
    payload = json.loads(runner.invoke(app, ["check", str(example), "--json", "--today", day]).output)
    assert payload["blocking"] == 0 and payload["issuance"] == "issue" and payload["sealing_day"] == day


def test_blocking_finding_exit_1_and_grouped_by_clause(tmp_path: Path) -> None:
    data = slope()
    data["survey"].pop("rescue_notice")
    data["report"]["firm_seal"] = False
    result = runner.invoke(app, ["check", str(write(tmp_path, data))])
    assert result.exit_code == 1
    assert "5.2.6" in result.output and "9.2" in result.output and "施救告知书" in result.output
    assert result.output.index("5.2.6") < result.output.index("9.2")


def test_warnings_only_exit_0(tmp_path: Path) -> None:
    data = slope()
    data["contact"]["contacted_at"] = "2025-07-12T10:11:00"  # 31 minutes after assignment (4.4)
    result = runner.invoke(app, ["check", str(write(tmp_path, data)), "--json"])
    assert result.exit_code == 0
    payload = json.loads(result.output)
    assert payload["blocking"] == 0 and payload["warnings"] == 1
    (f,) = payload["findings"]
    assert (f["rule"], f["clause"], f["severity"], f["path"]) == ("contact.within_30_min", "4.4", "warning",
                                                                  "$.contact.contacted_at")


def test_today_option_and_stage(tmp_path: Path) -> None:
    data = slope()
    data["survey"]["documents"].append({"code": "C5.12", "status": "outstanding", "due_on": "2025-09-10"})
    data["delivery"] = {}
    path = write(tmp_path, data)
    on_report_date = json.loads(runner.invoke(app, ["check", str(path), "--json"]).output)
    assert "documents.overdue" not in {f["rule"] for f in on_report_date["findings"]}
    later = json.loads(runner.invoke(app, ["check", str(path), "--json", "--today", "2025-09-11"]).output)
    assert "documents.overdue" in {f["rule"] for f in later["findings"]} and later["today"] == "2025-09-11"
    assert runner.invoke(app, ["check", str(path)]).exit_code == 0  # 10.1 is a warning at issuance …
    assert runner.invoke(app, ["check", str(path), "--stage", "archive"]).exit_code == 1  # … blocking at archiving


@pytest.mark.parametrize("args", [["--today", "soon"], ["--stage", "draft"]])
def test_bad_options_exit_2(tmp_path: Path, args: list[str]) -> None:
    result = runner.invoke(app, ["check", str(write(tmp_path, slope())), *args])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_invalid_case_exit_2(tmp_path: Path) -> None:
    data = slope()
    data["handlers"] = []
    result = runner.invoke(app, ["check", str(write(tmp_path, data)), "--json"])
    assert result.exit_code == 2
    assert json.loads(result.output)["valid"] is False


def test_html_qc_sheet_lists_every_rule_and_escapes_case_text(tmp_path: Path) -> None:
    data = slope()
    data["case_name"] = "<script>alert('x')</script>边坡案"
    data["reviews"][0]["comment"] = "<b>数字</b>与附表一致"
    data["survey"]["photos"][0].pop("record_item")  # R1 loses its only photo: two 5.3.1 failures
    sheet = tmp_path / "qc.html"
    result = runner.invoke(app, ["check", str(write(tmp_path, data)), "--html", str(sheet)])
    assert result.exit_code == 1
    html = sheet.read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;数字" in html
    for rule in all_rules():
        assert rule.id in html
    assert html.count("✗ 不符合") == 2 and html.count("✓ 符合") == len(all_rules()) - 2
    assert "赵丽" in html and "孙立军" in html and "刘建国" in html  # the sign-offs


def test_json_values_stay_json(tmp_path: Path) -> None:
    data = slope()
    data["handlers"] = data["handlers"][:1]
    data["report"]["signatures"] = data["report"]["signatures"][:1]
    data["losses"][1].pop("salvage_method")
    payload = json.loads(runner.invoke(app, ["check", str(write(tmp_path, data)), "--json"]).output)
    values = {f["rule"]: f["value"] for f in payload["findings"]}
    assert values["handlers.two"] == ["王志强"]
    assert values["loss.salvage_method"] == "21500"
