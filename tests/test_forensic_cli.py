"""`gongu check`, `gongu review`, `gongu adjust` and issuance checks on the forensic kind (issue 13 §2):
the same output format, the kind's level titles 校对 / 复核 / 签发 (通则 Art 35), the Art 13/28 time limits."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from case_edits import FORENSIC_JOINT, forensic_joint, make_single
from typer.testing import CliRunner

from generator.issuance import check_issuable, first_issue_problems, issuance_entry, reissue_number
from generator.loading import load_case, validate_data
from generator.review import review_state
from generator.rules import all_rules
from gongu.cli.app import app
from gongu.pipeline.issuing import unregistered_reviewers
from gongu.settings import load_settings
from tests.peoplekit import people_home

runner = CliRunner()
STAFF = ["王一帆", "宋建华", "罗永康", "唐志明", "邓晓梅"]
OPINION_DAY = "2026-05-29"  # example (a)'s report.issued_on: the day its 意见书 is sealed


@pytest.fixture(autouse=True)
def _registered_staff(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`gongu check --stage issue` shows what `gongu issue` refuses, approvals by unregistered persons too."""
    people_home(tmp_path / "gongu-home", monkeypatch, names=STAFF, accounts=True)


def write(tmp_path: Path, data: dict) -> Path:
    import simplejson

    path = tmp_path / "case.json"
    path.write_text(simplejson.dumps(data, use_decimal=True, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


# ── gongu check ──

def test_check_forensic_example_exit_0_and_json() -> None:
    result = runner.invoke(app, ["check", str(FORENSIC_JOINT), "--today", OPINION_DAY])
    assert result.exit_code == 0, result.output
    assert "未发现缺项" in result.output and "首次出具（gongu issue）" in result.output
    payload = json.loads(runner.invoke(app, ["check", str(FORENSIC_JOINT), "--json", "--today", OPINION_DAY]).output)
    assert (payload["case_id"], payload["blocking"], payload["warnings"], payload["findings"]) == (
        "SJ-2026-0318", 0, 0, [])


def test_check_issue_stage_refuses_an_opinion_dated_other_than_its_sealing_day(tmp_path: Path) -> None:
    """通则 Art 37: the date above the seal is the day of sealing; `gongu check` says so as `gongu issue` does."""
    payload = json.loads(runner.invoke(app, ["check", str(FORENSIC_JOINT), "--json", "--today", "2026-12-07"]).output)
    (f,) = payload["findings"]
    assert (f["rule"], f["clause"], f["severity"], f["path"], f["value"]) == (
        "forensic.issue.dated_on_sealing_day", "通则 Art 37", "blocking", "$.report.issued_on", "2026-05-29")
    assert "2026-05-29" in f["message"] and "2026-12-07" in f["message"]
    # The printable QC sheet has a row for it too (a condition of issuing, not a registered rule).
    sheet = tmp_path / "qc.html"
    runner.invoke(app, ["check", str(FORENSIC_JOINT), "--today", "2026-12-07", "--html", str(sheet)])
    html = sheet.read_text(encoding="utf-8")
    assert "forensic.issue.dated_on_sealing_day" in html and html.count("✗ 不符合") == 1
    # The review stage is about the file alone: no sealing day there.
    review = json.loads(runner.invoke(app, ["check", str(FORENSIC_JOINT), "--json", "--stage", "review"]).output)
    assert review["findings"] == [] and "issuance" not in review


def test_check_forensic_blocking_exit_1_grouped_by_clause(tmp_path: Path) -> None:
    data = forensic_joint()
    data["process"]["identity_shown"] = False  # Sichuan 三(二)
    data["report"]["signatures"].pop()  # 通则 Art 19
    data["timeline"]["completed_on"] = "2026-06-09"  # 通则 Art 28, a day late: warning
    result = runner.invoke(app, ["check", str(write(tmp_path, data)), "--today", OPINION_DAY])
    assert result.exit_code == 1
    out = result.output
    assert "阻止出具 2 项，提示 1 项" in out
    assert out.index("Sichuan 三(二)") < out.index("通则 Art 19") < out.index("通则 Art 28")
    payload = json.loads(runner.invoke(app, ["check", str(write(tmp_path, data)), "--json", "--today", OPINION_DAY]).output)
    assert {(f["rule"], f["clause"], f["severity"]) for f in payload["findings"]} == {
        ("forensic.process.identity_shown", "Sichuan 三(二)", "blocking"),
        ("forensic.signoff.two_appraisers", "通则 Art 19", "blocking"),
        ("forensic.time.completion", "通则 Art 28", "warning")}


def test_qc_sheet_for_forensic_kind_lists_its_rules_and_levels(tmp_path: Path) -> None:
    data = forensic_joint()
    data["recusals"].pop()
    html_path = tmp_path / "qc.html"
    result = runner.invoke(app, ["check", str(write(tmp_path, data)), "--html", str(html_path), "--today", OPINION_DAY])
    assert result.exit_code == 1
    html = html_path.read_text(encoding="utf-8")
    assert "司法鉴定质量审核表（通则 Art 35）" in html and "公估" not in html
    assert "<td>校对：</td><td>复核：</td><td>签发：</td>" in html
    assert "<td>鉴定人</td><td>唐志明、邓晓梅</td>" in html
    forensic = all_rules("forensic_appraisal")
    for rule in forensic:
        assert rule.id in html
    assert "<small>review.three_levels<" not in html and "handlers.two" not in html  # no survey rule
    assert html.count("✗ 不符合") == 1 and html.count("✓ 符合") == len(forensic) - 1
    assert html.count("<td>签发</td>") == 1  # the recorded approve-level review, titled for the kind


# ── gongu review ──

def test_review_records_forensic_levels_with_its_titles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    people_home(tmp_path / "home", monkeypatch, names=STAFF, accounts=True)
    data = forensic_joint()
    data["reviews"] = []
    case_file = write(tmp_path, data)
    outputs = []
    for level, who, at in (("proofread", "王一帆", "2026-05-27T10:00:00+08:00"),
                           ("recheck", "宋建华", "2026-05-27T15:00:00+08:00"),
                           ("approve", "罗永康", "2026-05-28T17:00:00+08:00")):
        result = runner.invoke(app, ["review", str(case_file), "--level", level, "--reviewer", who,
                                     "--decision", "approve", "--at", at])
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    assert "已记录：签发 罗永康 通过；本轮已通过：校对、复核、签发" in outputs[-1]
    assert review_state(load_case(case_file).case).complete


def test_review_refuses_an_appraiser_of_the_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    people_home(tmp_path / "home", monkeypatch, names=STAFF, accounts=True)
    data = forensic_joint()
    data["reviews"] = []
    case_file = write(tmp_path, data)
    before = case_file.read_bytes()
    result = runner.invoke(app, ["review", str(case_file), "--level", "proofread", "--reviewer", "唐志明",
                                 "--decision", "approve", "--at", "2026-05-27T10:00:00+08:00"])
    assert result.exit_code == 2
    assert "是本案鉴定人" in result.output and "校对" in result.output
    assert case_file.read_bytes() == before


# ── gongu adjust: the time limits ──

def test_adjust_prints_time_limit_computation() -> None:
    result = runner.invoke(app, ["adjust", str(FORENSIC_JOINT)])
    assert result.exit_code == 0, result.output
    out = result.output
    # Received Fri 8 May, Sat 9 May a make-up working day: decision due Mon 18 May; agreed 20 working
    # days from Mon 11 May end on Mon 8 Jun.
    for text in ("2026-05-08", "2026-05-18", "2026-05-11", "20 个工作日", "2026-06-08", "2026-05-29", "✓ 符合"):
        assert text in out, text
    payload = json.loads(runner.invoke(app, ["adjust", str(FORENSIC_JOINT), "--json"]).output)
    assert payload["acceptance"]["decision_due"] == "2026-05-18" and payload["acceptance"]["met"] is True
    assert payload["completion"]["deadline"] == "2026-06-08" and payload["completion"]["met"] is True
    years = payload["calendar"]["years"]
    assert [(y["year"], y["origin"], y["file"]) for y in years] == [(2026, "official", "2026.toml")]
    assert payload["calendar"]["estimated_years"] == [] and payload["calendar"]["note"] is None
    assert payload["completion"]["deadline_estimated"] is False


def test_adjust_into_a_year_without_a_calendar_file_prints_every_limit_marked_estimated(tmp_path: Path) -> None:
    data = forensic_joint()
    data["timeline"].update(received_at="2026-12-21T10:00:00", accepted_at="2026-12-22T09:00:00",
                            effective_on="2026-12-22", completed_on=None)
    path = write(tmp_path, data)
    result = runner.invoke(app, ["adjust", str(path)])
    assert result.exit_code == 0, result.output
    out = result.output.replace("\n", "")
    # Art 13: Mon 21 Dec + 7: 22–25 = 4, 28–30 = 7 → Wed 30 Dec 2026, exact (2026 has its file).
    assert "2026-12-30" in out and "2026-12-30（估算）" not in out
    # Art 28, agreed 20 from Tue 22 Dec: 23–25 = 3, 28–31 = 7, Fri 1 Jan 2027 off (estimated), 4–8 Jan = 12,
    # 11–15 = 17, 18–20 = 20 → Wed 20 Jan 2027, an estimate.
    assert "2027-01-20（估算）" in out
    assert "2027 年尚无国务院办公厅节假日安排文件" in out and "gongu calendar check" in out
    payload = json.loads(runner.invoke(app, ["adjust", str(path), "--json"]).output)
    assert payload["acceptance"]["decision_due"] == "2026-12-30" and payload["acceptance"]["decision_due_estimated"] is False
    assert payload["completion"]["deadline"] == "2027-01-20" and payload["completion"]["deadline_estimated"] is True
    assert payload["calendar"]["estimated_years"] == [2027]


# ── issuance accepts the kind ──

def test_issuance_checks_accept_a_forensic_case() -> None:
    case = validate_data(forensic_joint(), "<test>")
    assert check_issuable(case) == []
    assert first_issue_problems(case) == []
    assert reissue_number(case) == "蜀正司鉴〔2026〕临鉴字第0318号R1"
    entry = issuance_entry(case, datetime.fromisoformat("2026-05-29T16:00:00+08:00"), {"pdf": ("a.pdf", "ab" * 32)})
    assert entry["number"] == "蜀正司鉴〔2026〕临鉴字第0318号" and entry["pdf_file"] == "a.pdf"
    data = forensic_joint()
    data["reviews"].pop()
    reasons = check_issuable(validate_data(data, "<test>"))
    assert reasons == ["[通则 Art 35] 品质审核记录：签发（approve）尚未通过（$.reviews）"]


def test_unregistered_reviewers_named_with_forensic_titles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    people_home(tmp_path / "home", monkeypatch, names=["王一帆", "宋建华"])
    case = validate_data(forensic_joint(), "<test>")
    (reason,) = unregistered_reviewers(case, load_settings())
    assert reason.startswith("[通则 Art 35] 签发的审核人「罗永康」") and "$.reviews[2]" in reason


def test_single_commission_variant_checks_clean() -> None:
    data = forensic_joint()
    make_single(data)
    assert check_issuable(validate_data(data, "<test>"), today=date(2026, 5, 29)) == []


def test_issue_refuses_an_opinion_dated_other_than_the_beijing_day_of_sealing(tmp_path: Path) -> None:
    """通则 Art 37: the 意见书 dated 29 May 2026 is sealed on 29 May (Beijing) or refused, never re-dated."""
    from datetime import UTC

    from generator.clock import FixedClock
    from generator.issuance import IssueRefused
    from gongu.pipeline.issuing import issue_case

    case_file = write(tmp_path, forensic_joint())
    before = case_file.read_bytes()
    rendered: list[Path] = []

    def stop_at_render(loaded: Any, work: Path, templates: Path | None, mark: str | None, codes: Any) -> list[Any]:
        rendered.append(work)
        return []  # nothing rendered: issue_case then refuses ("exactly one primary"), after the decision

    # 16:30 UTC on 29 May is 00:30 on 30 May in Beijing: another day than the one printed.
    with pytest.raises(IssueRefused) as refused:
        issue_case(case_file, signer=None, unsealed=True, settings=load_settings(), out_dir=tmp_path / "o",
                   clock=FixedClock(datetime(2026, 5, 29, 16, 30, tzinfo=UTC)), render_many=stop_at_render)
    assert refused.value.reasons == [
        "[通则 Art 37] 司法鉴定意见书落款的出具日期为 2026-05-29，盖章出具之日为 2026-05-30（北京时间），"
        "两者应为同一天：请核实后将出具日期改为实际盖章出具之日（$.report.issued_on）"]
    assert rendered == [] and case_file.read_bytes() == before
    # 15:59 UTC is 23:59 on 29 May in Beijing: the day printed, so the decision passes and rendering starts.
    with pytest.raises(IssueRefused, match="主文书"):
        issue_case(case_file, signer=None, unsealed=True, settings=load_settings(), out_dir=tmp_path / "o",
                   clock=FixedClock(datetime(2026, 5, 29, 15, 59, tzinfo=UTC)), render_many=stop_at_render)
    assert len(rendered) == 1
