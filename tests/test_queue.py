"""The work queue (gongu/pipeline/queue.py): due times worked out by hand from the clauses — 4.4 contact
within 30 minutes of the assignment, 5.1.1–5.1.5 arrival, 通则 Art 13 acceptance and Art 28 completion in
working days across weekends, holidays and make-up days, 估算 for a year with no official calendar —
and the supervisor's assignment / hand-over with its version check (gongu/pipeline/assigning.py,
archive/workspace_assign.py) on the embedded SQLite catalog and on PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from archive.catalog import Catalog
from archive.workspace import WorkspaceCase, get_case
from archive.workspace_assign import Assignment, assignments
from generator.kinds import Case
from generator.loading import load_case
from generator.types import SHANGHAI
from gongu.pipeline.assigning import assign_case
from gongu.pipeline.queue import DueItem, case_steps, open_steps, time_left
from gongu.pipeline.workspace import CaseConflict, WorkspaceRefused, review_case, submit_case, upload_case
from gongu.settings import load_settings
from tests import test_workspace_store as store
from tests.storekit import store_kind  # noqa: F401  (module-scoped, parametrised: sqlite, postgresql)
from tests.test_workspace_store import HANDLER, NOW, PROOF, RECHECK, Acct, example_data, files_of

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
home, catalog = store.home, store.catalog  # a home with registered people, its catalog (both stores)

SUPERVISOR = Acct(10, "boss", "王五", frozenset({"supervisor"}))
FORENSIC_SUPERVISOR = Acct(11, "fboss", "王五", frozenset({"forensic_supervisor"}))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def row(case_id: str, kind: str = "car_survey", status: str = "draft", *, next_level: str | None = None,
        assigned_at: str | None = None) -> WorkspaceCase:
    return WorkspaceCase(case_id=case_id, kind=kind, status=status, handler="wang", handler_person="王志强",
                         case_name="", project="", insured="", report_number="R", next_level=next_level,
                         created_at=NOW, updated_at=NOW, version=1, assigned_at=assigned_at)


def case_of(tmp_path: Path, name: str, change: Any) -> Case:
    data = json.loads((EXAMPLES / name / "case.json").read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return load_case(path).case


def account(catalog: Catalog, username: str, person: str, roles: frozenset[str]) -> None:
    from archive.accounts import add_account

    add_account(catalog, username, password="queue-test-password-2026", roles=roles, person=person, now=at(NOW[:19]))


def by_stage(items: list[DueItem]) -> dict[str, DueItem]:
    return {i.stage: i for i in items}


# ───────────────────────────── survey: 4.4 and 5.1 ─────────────────────────────

def _not_contacted(data: dict[str, Any]) -> None:
    data.pop("contact")  # no contact recorded yet, no agreed survey time
    _not_surveyed(data)


def _not_surveyed(data: dict[str, Any]) -> None:
    data["survey"]["record_items"] = []  # no survey record yet: 5.1 still open
    for item in (*data["survey"]["photos"], *data["losses"]):
        item.pop("record_item", None)


def test_assignment_at_0900_makes_contact_due_0930_and_arrival_due_1500_for_the_city_surroundings(tmp_path: Path) -> None:
    case = case_of(tmp_path, "slope-collapse", _not_contacted)  # location_band: surrounding (5.1.2, 6 hours)
    r = row("SA-2025-0917", assigned_at="2026-01-05T09:00:00+08:00")  # a supervisor's assignment restarts 4.4
    items = by_stage(case_steps(r, case, {}, at("2026-01-05T09:20:00")))
    assert list(items) == ["contact", "survey", "write"]
    contact = items["contact"]
    assert (contact.due_at, contact.clause, contact.person) == (at("2026-01-05T09:30:00"), "4.4", "王志强")
    assert contact.hours_left == pytest.approx(10 / 60, abs=0.01) and not contact.overdue
    assert time_left(contact) == "剩 10 分钟"
    survey = items["survey"]
    assert (survey.due_at, survey.clause, survey.hours_left) == (at("2026-01-05T15:00:00"), "5.1.2", 5.67)
    assert items["write"].due_at is None and time_left(items["write"]) == "无时限"


def test_contact_at_exactly_thirty_minutes_is_in_time_and_one_minute_later_overdue(tmp_path: Path) -> None:
    case = case_of(tmp_path, "slope-collapse", _not_contacted)
    r = row("SA-2025-0917", assigned_at="2026-01-05T09:00:00+08:00")
    assert not by_stage(case_steps(r, case, {}, at("2026-01-05T09:30:00")))["contact"].overdue  # 4.4 "within"
    late = by_stage(case_steps(r, case, {}, at("2026-01-05T09:31:00")))["contact"]
    assert late.overdue and late.hours_left == pytest.approx(-1 / 60, abs=0.01) and time_left(late) == "逾期 1 分钟"


def test_without_a_workspace_assignment_the_clock_starts_at_the_case_files_assignment(tmp_path: Path) -> None:
    def city(data: dict[str, Any]) -> None:
        _not_contacted(data)
        data["survey"]["location_band"] = "city"  # 5.1.1: 3 hours

    case = case_of(tmp_path, "slope-collapse", city)  # 指派时间 2025-07-12T09:40
    items = by_stage(case_steps(row("SA-2025-0917"), case, {}, at("2025-07-12T10:00:00")))
    assert items["contact"].due_at == at("2025-07-12T10:10:00")
    assert (items["survey"].due_at, items["survey"].clause) == (at("2025-07-12T12:40:00"), "5.1.1")


def test_an_agreed_survey_time_replaces_the_band_limit(tmp_path: Path) -> None:
    case = case_of(tmp_path, "slope-collapse", _not_surveyed)  # contact recorded, with 约定查勘时间 14:30
    items = by_stage(case_steps(row("SA-2025-0917"), case, {}, at("2025-07-12T15:00:00")))
    assert "contact" not in items  # done: the contact is recorded
    assert (items["survey"].due_at, items["survey"].clause, items["survey"].overdue) == (
        at("2025-07-12T14:30:00"), "5.1.5", True)
    assert time_left(items["survey"]) == "逾期 30 分钟"


def test_review_steps_are_held_by_the_assigned_reviewer_or_by_the_role(tmp_path: Path) -> None:
    case = case_of(tmp_path, "slope-collapse", lambda d: None)
    r = row("SA-2025-0917", status="in_review", next_level="recheck")
    [item] = case_steps(r, case, {}, at("2026-01-05T10:00:00"))
    assert (item.stage, item.stage_title, item.person, item.clause, item.due_at) == ("recheck", "复核", "", "9.3", None)
    held = {"recheck": Assignment("SA-2025-0917", "recheck", "sun", "孙立军", "boss", NOW, "轮值")}
    [item] = case_steps(r, case, held, at("2026-01-05T10:00:00"))
    assert item.person == "孙立军"
    [issue] = case_steps(row("X", status="in_review"), case, {}, at("2026-01-05T10:00:00"))
    [archive] = case_steps(row("X", status="issued"), case, {}, at("2026-01-05T10:00:00"))
    assert (issue.stage, issue.clause, archive.stage, archive.clause) == ("issue", "9.3", "archive", "10.1")
    assert case_steps(row("X", status="archived"), case, {}, at("2026-01-05T10:00:00")) == []


# ───────────────────────────── forensic: 通则 Arts 13 and 28 in working days ─────────────────────────────

def _received(when: str, *, effective: str | None = None, completed: str | None = None) -> Any:
    def change(data: dict[str, Any]) -> None:
        data["timeline"] = {"received_at": when, "accepted_at": None if effective is None else when,
                            "effective_on": effective, "extensions": [], "suspensions": [], "completed_on": completed}
    return change


def test_acceptance_due_seven_working_days_after_receipt_across_the_dragon_boat_holiday(tmp_path: Path) -> None:
    # received Wed 2026-06-17: Thu 18 (1); Fri 19 – Sun 21 端午; Mon 22 – Fri 26 (2–6); Mon 29 (7)
    case = case_of(tmp_path, "forensic-joint-grade10", _received("2026-06-17T10:00:00"))
    r = row("F1", kind="forensic_appraisal")
    items = by_stage(case_steps(r, case, {}, at("2026-06-24T10:00:00")))
    acc = items["acceptance"]
    assert (acc.due_at, acc.clause, acc.estimated) == (at("2026-06-29T23:59:59"), "通则 Art 13", False)
    assert acc.working_days_left == 3 and not acc.overdue and time_left(acc) == "剩 3 个工作日"  # Thu 25, Fri 26, Mon 29
    assert items["appraisal"].due_at is None  # no 委托书 in effect yet: Art 28 has not started
    on_the_day = by_stage(case_steps(r, case, {}, at("2026-06-29T23:00:00")))["acceptance"]
    assert (on_the_day.working_days_left, on_the_day.overdue) == (0, False)
    late = by_stage(case_steps(r, case, {}, at("2026-06-30T08:00:00")))["acceptance"]
    assert (late.working_days_left, late.overdue, time_left(late)) == (-1, True, "逾期 1 个工作日")


def test_a_make_up_saturday_counts_as_a_working_day(tmp_path: Path) -> None:
    # received Fri 2026-05-08: Sat 9 is the Labour Day make-up working day (1); Mon 11 – Fri 15 (2–6); Mon 18 (7)
    case = case_of(tmp_path, "forensic-joint-grade10", _received("2026-05-08T16:00:00"))
    acc = by_stage(case_steps(row("F1", kind="forensic_appraisal"), case, {}, at("2026-05-08T17:00:00")))["acceptance"]
    assert acc.due_at == at("2026-05-18T23:59:59") and acc.working_days_left == 7


def test_completion_due_the_agreed_twenty_working_days_after_the_commission_takes_effect(tmp_path: Path) -> None:
    # agreed 20 working days from Mon 2026-05-11: 12–15 (4), 18–22 (9), 25–29 (14), 1–5 June (19), Mon 8 June (20)
    case = case_of(tmp_path, "forensic-joint-grade10", _received("2026-05-08T10:05:00", effective="2026-05-11"))
    items = by_stage(case_steps(row("F1", kind="forensic_appraisal"), case, {}, at("2026-06-09T09:00:00")))
    assert "acceptance" not in items  # decided
    done = items["appraisal"]
    assert (done.due_at, done.clause, done.overdue, done.working_days_left) == (
        at("2026-06-08T23:59:59"), "通则 Art 28", True, -1)


def test_a_year_without_an_official_calendar_is_marked_estimated(tmp_path: Path) -> None:
    case = case_of(tmp_path, "forensic-joint-grade10", _received("2027-09-28T10:00:00"))
    acc = by_stage(case_steps(row("F1", kind="forensic_appraisal"), case, {}, at("2027-09-28T11:00:00")))["acceptance"]
    assert acc.estimated and time_left(acc).endswith("（估算）")


def test_forensic_review_issue_and_delivery_cite_the_rules(tmp_path: Path) -> None:
    case = case_of(tmp_path, "forensic-joint-grade10", lambda d: None)
    now = at("2026-06-01T09:00:00")
    [review] = case_steps(row("F1", kind="forensic_appraisal", status="in_review", next_level="recheck"), case, {}, now)
    [issue] = case_steps(row("F1", kind="forensic_appraisal", status="in_review"), case, {}, now)
    [after] = case_steps(row("F1", kind="forensic_appraisal", status="issued"), case, {}, now)
    assert [(i.stage, i.clause) for i in (review, issue)] == [("recheck", "通则 Art 35"), ("issue", "通则 Art 37")]
    assert after.clause == "通则 Art 42" and after.stage in ("delivery", "archive")


# ───────────────────────────── the whole workspace, assignment, versions (both stores) ─────────────────────────────

def _uploaded(catalog: Catalog, home: Path) -> str:
    return upload_case(catalog, home, files_of(example_data()), account=HANDLER, now=NOW).case_id


def test_a_supervisor_hands_the_case_over_and_the_contact_clock_restarts(catalog: Catalog, home: Path) -> None:
    case_id = _uploaded(catalog, home)
    settings = load_settings(home)
    before = get_case(catalog, case_id)
    assert before is not None and before.version == 1 and before.assigned_at is None
    other = store.OTHER_HANDLER  # 陈晓梅, a handler named on the case
    account(catalog, other.username, other.person, other.roles)
    done = assign_case(catalog, case_id, duty="handler", assignee="chen", reason="王志强出差，移交陈晓梅",
                       account=SUPERVISOR, now="2026-01-05T10:00:00+08:00", expected_version=1)
    assert done.previous is None and (done.assignment.person, done.assignment.assigned_by) == ("陈晓梅", "boss")
    assert (done.row.handler, done.row.handler_person, done.row.assigned_at, done.row.version) == (
        "chen", "陈晓梅", "2026-01-05T10:00:00+08:00", 2)
    items = open_steps(settings, catalog, now=at("2026-01-05T10:10:00"), person="陈晓梅")
    assert [i.stage for i in items] == ["write"]  # the example records its contact and survey: done
    # a second supervisor acting on the page rendered at version 1 is told, and nothing changes
    with pytest.raises(CaseConflict) as info:
        assign_case(catalog, case_id, duty="handler", assignee="wang", reason="再移交", account=SUPERVISOR,
                    now="2026-01-05T10:01:00+08:00", expected_version=1)
    assert "案件已被他人更新，请刷新后重试" in info.value.reasons[0]
    assert assignments(catalog, case_id)["handler"].account == "chen"
    assert get_case(catalog, case_id).version == 2  # type: ignore[union-attr]


def test_assignment_is_refused_with_reasons_and_leaves_nothing(catalog: Catalog, home: Path) -> None:
    case_id = _uploaded(catalog, home)
    account(catalog, "zhao", "赵丽", frozenset({"proofreader", "rechecker"}))
    for who, kwargs, words in (
            (HANDLER, {"duty": "proofread", "assignee": "zhao", "reason": "x"}, "只有「公估主管」可以指派"),
            (FORENSIC_SUPERVISOR, {"duty": "proofread", "assignee": "zhao", "reason": "x"}, "只有「公估主管」"),
            (SUPERVISOR, {"duty": "proofread", "assignee": "zhao", "reason": "  "}, "须写明原因"),
            (SUPERVISOR, {"duty": "appraiser", "assignee": "zhao", "reason": "x"}, "职责无效"),
            (SUPERVISOR, {"duty": "approve", "assignee": "zhao", "reason": "x"}, "没有「审核」所需的角色"),
            (SUPERVISOR, {"duty": "proofread", "assignee": "nobody", "reason": "x"}, "没有可用的账户")):
        with pytest.raises(WorkspaceRefused) as info:
            assign_case(catalog, case_id, account=who, now=NOW, expected_version=None, **kwargs)
        assert any(words in r for r in info.value.reasons), info.value.reasons
    assert assignments(catalog, case_id) == {} and get_case(catalog, case_id).version == 1  # type: ignore[union-attr]


def test_two_reviewers_deciding_at_once_the_second_is_told_and_the_first_stands(catalog: Catalog, home: Path) -> None:
    settings = load_settings(home)
    case_id = _uploaded(catalog, home)
    submit_case(catalog, home, case_id, account=HANDLER, now=NOW)
    shown = get_case(catalog, case_id).version  # type: ignore[union-attr]  # both pages rendered at this version
    first = review_case(catalog, home, case_id, account=PROOF, level="proofread", decision="approve", comment=None,
                        now="2026-01-05T10:00:00+08:00", settings=settings, expected_version=shown)
    assert first.next_level == "recheck" and first.version == shown + 1
    with pytest.raises(CaseConflict) as info:
        review_case(catalog, home, case_id, account=RECHECK, level="proofread", decision="return", comment="重写",
                    now="2026-01-05T10:00:01+08:00", settings=settings, expected_version=shown)
    assert info.value.reasons[0].startswith("案件已被他人更新，请刷新后重试")
    after = get_case(catalog, case_id)
    assert after is not None and (after.status, after.next_level, after.version) == ("in_review", "recheck", shown + 1)
    data = json.loads((home / "workspace" / case_id / "case.json").read_text(encoding="utf-8"))
    assert [(r["level"], r["decision"]) for r in data["reviews"]] == [("proofread", "approve")]


def test_an_assigned_level_is_decided_by_its_assignee_only(catalog: Catalog, home: Path) -> None:
    settings = load_settings(home)
    case_id = _uploaded(catalog, home)
    submit_case(catalog, home, case_id, account=HANDLER, now=NOW)
    account(catalog, "sun", "孙立军", frozenset({"rechecker", "proofreader"}))
    assign_case(catalog, case_id, duty="proofread", assignee="sun", reason="专业对口", account=SUPERVISOR, now=NOW,
                expected_version=None)
    with pytest.raises(WorkspaceRefused) as info:
        review_case(catalog, home, case_id, account=PROOF, level="proofread", decision="approve", comment=None,
                    now=NOW, settings=settings)
    assert "本案的校对已由主管指派给账户 sun（孙立军）" in info.value.reasons
    items = open_steps(settings, catalog, now=at("2026-01-05T10:00:00"))
    assert [(i.stage, i.person) for i in items] == [("proofread", "孙立军")]
