"""The due facts kept in the catalog (archive/workspace_due.py, written by gongu.pipeline.queue.refresh_due):
they follow each kind of change the workspace makes — upload, assignment and hand-over, review, issue,
archive — in the same transaction, on the embedded SQLite catalog and on PostgreSQL; the queue reads them,
not the case files, so a case file edited on disk outside the workspace changes no due time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from archive.catalog import Catalog
from archive.workspace import set_status, workspace_due_table
from gongu.pipeline.assigning import assign_case
from gongu.pipeline.queue import open_steps, refresh_all, refresh_due
from gongu.pipeline.workspace import review_case, submit_case, upload_case
from gongu.settings import load_settings
from tests import test_workspace_store as store
from tests.storekit import store_kind  # noqa: F401  (module-scoped, parametrised: sqlite, postgresql)
from tests.test_queue import SUPERVISOR, account, at
from tests.test_workspace_store import HANDLER, LIU, NOW, OTHER_HANDLER, RECHECK, example_data, files_of

home, catalog = store.home, store.catalog  # a home with registered people, its catalog (both stores)
CASE = "SAGC-2025-0712"  # the example's case id


def due(catalog: Catalog, case_id: str = CASE) -> dict[str, tuple[str, str | None, str]]:
    """stage → (holder, due_at as stored, clause): the catalog's rows of the case."""
    t = workspace_due_table
    return {r["stage"]: (r["person"], r["due_at"], r["clause"])
            for r in catalog._rows(select(t).where(t.c.case_id == case_id))}


def not_contacted() -> dict[str, Any]:
    data = example_data()
    data.pop("contact")  # the example was assigned 2025-07-12 09:40 (Beijing) and surveyed; contact still open
    return data


def test_upload_and_hand_over_write_the_rows_and_an_edit_on_disk_is_not_trusted(catalog: Catalog, home: Path) -> None:
    upload_case(catalog, home, files_of(not_contacted()), account=HANDLER, now=NOW)
    # 4.4: 09:40 + 30 minutes = 10:10 Beijing = 02:10 UTC
    assert due(catalog) == {"contact": ("王志强", "2025-07-12T02:10:00.000000Z", "4.4"), "write": ("王志强", None, "9.1")}
    account(catalog, "chen", "陈晓梅", OTHER_HANDLER.roles)
    assign_case(catalog, CASE, duty="handler", assignee="chen", reason="移交", account=SUPERVISOR,
                now="2026-01-05T10:00:00+08:00", expected_version=None, home=home)
    # the hand-over restarts the 4.4 clock: 10:00 + 30 minutes = 10:30 Beijing = 02:30 UTC, now 陈晓梅's
    assert due(catalog) == {"contact": ("陈晓梅", "2026-01-05T02:30:00.000000Z", "4.4"), "write": ("陈晓梅", None, "9.1")}
    # someone writes a contact into the case file on disk, outside the workspace: the queue does not believe it
    path = home / "workspace" / CASE / "case.json"
    edited = json.loads(path.read_text(encoding="utf-8"))
    edited["contact"] = example_data()["contact"]
    path.write_text(json.dumps(edited, ensure_ascii=False), encoding="utf-8")
    settings = load_settings(home)
    items = open_steps(settings, catalog, now=at("2026-01-05T10:40:00"), person="陈晓梅")
    assert [(i.stage, i.due_at, i.overdue, i.hours_left) for i in items] == [
        ("contact", at("2026-01-05T10:30:00"), True, -0.17), ("write", None, False, None)]
    # the same contact uploaded through the workspace by the handler is taken in
    upload_case(catalog, home, files_of(example_data()), account=OTHER_HANDLER, now="2026-01-05T10:41:00+08:00")
    assert due(catalog) == {"write": ("陈晓梅", None, "9.1")}


def test_review_decisions_and_reviewer_assignment_move_the_rows(catalog: Catalog, home: Path) -> None:
    settings = load_settings(home)
    upload_case(catalog, home, files_of(example_data()), account=HANDLER, now=NOW)
    submit_case(catalog, home, CASE, account=HANDLER, now=NOW)
    assert due(catalog) == {"proofread": ("", None, "9.3")}  # held by every proofreader until assigned
    account(catalog, "liu", "刘建国", LIU.roles)
    assign_case(catalog, CASE, duty="proofread", assignee="liu", reason="轮值", account=SUPERVISOR, now=NOW,
                expected_version=None, home=home)
    assert due(catalog) == {"proofread": ("刘建国", None, "9.3")}
    review_case(catalog, home, CASE, account=LIU, level="proofread", decision="approve", comment=None,
                now="2026-01-05T09:10:00+08:00", settings=settings)
    assert due(catalog) == {"recheck": ("", None, "9.3")}
    review_case(catalog, home, CASE, account=RECHECK, level="recheck", decision="return", comment="损失清单须复核",
                now="2026-01-05T09:20:00+08:00", settings=settings)
    assert due(catalog) == {"write": ("王志强", None, "9.1")}  # back with its handler


def test_issue_leaves_the_archive_step_and_archiving_removes_every_row(catalog: Catalog, home: Path) -> None:
    upload_case(catalog, home, files_of(example_data()), account=HANDLER, now=NOW)
    submit_case(catalog, home, CASE, account=HANDLER, now=NOW)
    with catalog.write():  # as issue_and_archive and the issue job record the issue
        set_status(catalog, CASE, "issued", next_level=None, at=NOW)
        refresh_due(catalog, home, CASE, at("2026-01-05T09:00:00"))
    assert due(catalog) == {"archive": ("", None, "10.1")}
    with catalog.write():  # a status change alone drops the rows in its transaction: archived leaves none
        set_status(catalog, CASE, "archived", next_level=None, at=NOW)
    assert due(catalog) == {}
    assert open_steps(load_settings(home), catalog, now=at("2026-01-05T10:00:00")) == []
    assert due(catalog) == {}  # an archived case is never computed again


def test_a_case_without_rows_is_computed_on_the_next_read_and_refresh_recomputes(catalog: Catalog, home: Path) -> None:
    settings = load_settings(home)
    upload_case(catalog, home, files_of(not_contacted()), account=HANDLER, now=NOW)
    with catalog.write():  # a change that did not compute the rows (as an older catalog has none)
        set_status(catalog, CASE, "draft", next_level=None, at=NOW)
    assert due(catalog) == {}
    items = open_steps(settings, catalog, now=at("2025-07-12T10:00:00"))
    assert [(i.stage, i.due_at, i.hours_left) for i in items] == [("contact", at("2025-07-12T10:10:00"), 0.17),
                                                                 ("write", None, None)]
    assert due(catalog)["contact"] == ("王志强", "2025-07-12T02:10:00.000000Z", "4.4")
    assert refresh_all(settings, catalog, at("2025-07-12T10:00:00")) == 1
    assert set(due(catalog)) == {"contact", "write"}


def test_a_working_day_limit_keeps_its_beijing_day_and_counts_days_left_when_read() -> None:
    from datetime import date

    from archive.workspace_due import DueRow
    from gongu.pipeline.queue import DueItem, due_rows, item_of

    step = DueItem("F1", "forensic_appraisal", "appraisal", "完成鉴定", "李明", at("2026-06-15T23:59:59"), 4, None,
                   False, False, "通则 Art 28")
    [kept] = due_rows([step])
    assert kept.due_day == date(2026, 6, 15)
    # read on Tue 9 June: 10, 11, 12 and Mon 15 June are left (4); on Tue 16 June it is a day overdue
    assert item_of(kept, at("2026-06-09T09:00:00")) == step
    late = item_of(DueRow("F1", "appraisal", "forensic_appraisal", "李明", None, date(2026, 6, 15), False,
                          "通则 Art 28"), at("2026-06-16T09:00:00"))
    assert (late.due_at, late.overdue, late.working_days_left) == (at("2026-06-15T23:59:59"), True, -1)
