"""`make demo`'s day in the workspace (gongu/demo/workday.py) on a real demo home: the demo PKI and loopback
TSA, accounts of the example's people, the archive initialised. Three cases handed over to 王志强 fall due
as the queue counts them (4.4: contact within 30 minutes of the hand-over; 5.1.5: the survey at the agreed
time), and a fourth is issued and archived by an "issue" job. A second run adds nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from archive.catalog import Catalog
from archive.workspace import get_case
from gongu.demo.keys import demo_signing
from gongu.demo.workday import IN_PROGRESS, ISSUED_SUFFIX, demo_workday
from gongu.jobs.api import list_jobs
from gongu.pipeline.queue import open_steps
from gongu.settings import load_settings
from tests.archivekit import init_home
from tests.webkit import make_account

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
CASE_ID = "SAGC-2025-0712"  # examples/slope-collapse
ACCOUNTS = {"demo-handler": ("王志强", {"handler"}), "demo-handler2": ("陈晓梅", {"handler"}),
            "demo-supervisor": ("演示公估主管", {"supervisor"}), "demo-proofreader": ("赵丽", {"proofreader"}),
            "demo-rechecker": ("孙立军", {"rechecker"}), "demo-approver": ("刘建国", {"approver"})}


def test_the_demo_day_leaves_work_due_and_issues_through_a_job(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with demo_signing(home, EXAMPLES):  # the demo PKI in home/demo-keys and the demo gongu.toml
        pass
    init_home(home)
    for username, (person, roles) in ACCOUNTS.items():
        make_account(home, username, roles, person, "demo-day-pass-1")
    settings = load_settings(home)
    before = datetime.now().astimezone()
    demo_workday(settings, EXAMPLES)
    after = datetime.now().astimezone()

    catalog = Catalog(home / "archive" / "catalog.sqlite")
    try:
        for suffix in IN_PROGRESS:
            row = get_case(catalog, CASE_ID + suffix)
            assert row is not None and (row.status, row.handler, row.handler_person) == ("draft", "demo-handler", "王志强")
        steps = {(i.case_id, i.stage): i for i in open_steps(settings, catalog, now=after, person="王志强")}
        d1, d2, d3 = (CASE_ID + s for s in ("-D1", "-D2", "-D3"))
        # D1 handed over 3 hours before the run: contact was due 30 minutes later, 2.5 hours before it
        contact1 = steps[(d1, "contact")]
        assert contact1.overdue and contact1.clause == "4.4"
        assert before - timedelta(hours=2, minutes=31) <= contact1.due_at <= after - timedelta(hours=2, minutes=29)
        # D2 handed over 10 minutes before: contact due in 20 minutes
        contact2 = steps[(d2, "contact")]
        assert not contact2.overdue
        assert before + timedelta(minutes=19) <= contact2.due_at <= after + timedelta(minutes=21)
        # D3 contacted, survey agreed two days on (5.1.5), no contact step
        assert (d3, "contact") not in steps
        survey3 = steps[(d3, "survey")]
        assert survey3.clause == "5.1.5" and not survey3.overdue
        assert before + timedelta(days=2) - timedelta(seconds=1) <= survey3.due_at <= after + timedelta(days=2)

        issued = get_case(catalog, CASE_ID + ISSUED_SUFFIX)
        assert issued is not None and issued.status == "archived"
        jobs = list_jobs(catalog)
        issue_jobs = [j for j in jobs if j.kind == "issue"]
        assert [(j.case_id, j.state, j.started_by) for j in issue_jobs] == [(CASE_ID + ISSUED_SUFFIX, "done", "demo-approver")]
        assert catalog.package(CASE_ID + ISSUED_SUFFIX, "SA-GC-20250905-017" + ISSUED_SUFFIX) is not None
    finally:
        catalog.close()

    demo_workday(settings, EXAMPLES)  # a second run: every case is there already
    catalog = Catalog(home / "archive" / "catalog.sqlite")
    try:
        assert len([j for j in list_jobs(catalog) if j.kind == "issue"]) == 1
    finally:
        catalog.close()
