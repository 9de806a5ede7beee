"""Work-queue bench: with 10,000 cases in progress, 「我的待办」 (/queue) answers with p95 ≤ 100 ms
server-side for a supervisor (every step of every case of the kinds supervised) and for a handler (the
steps of their own cases), measured with a bounded loop against 127.0.0.1.

    .venv/bin/python -m bench.queue_bench [--cases 10000] [--requests 100] [--home DIR]

The cases are made directly and fast, not by uploading 10,000 case folders: workspace rows, their people
and the due rows the workspace would have recorded (archive/workspace_due.py) — `build_queue_rows`, which
other benches may call to put a queue beside their own load. No case file exists, so any read of one
would show as a case with no rows being computed (and fail the figures): the page reads only the catalog.
Server-side time is the app's `Server-Timing: app` header, as in bench/web_bench.py."""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

TARGET_MS = 100.0
PASSWORD = "measure-the-queue-2046"
HANDLERS = [f"承办{i:02d}" for i in range(50)]  # 10,000 cases among 50 handlers: 200 each
SUPERVISOR = ("boss", "主管甲", {"supervisor", "forensic_supervisor"})
HANDLER = ("hand", HANDLERS[0], {"handler", "appraiser"})


def build_queue_rows(catalog: Any, n: int, *, now: datetime, prefix: str = "QB") -> int:
    """`n` cases in progress with their due rows, written directly into the catalog (one transaction):
    a quarter forensic, the rest surveys; drafts with contact / survey / write steps due around `now`
    (some overdue), cases in review waiting for a level (a third assigned to a named reviewer), issued
    cases waiting to be archived. Returns the number of due rows."""
    from sqlalchemy import insert

    from archive.workspace import (
        workspace_case_people_table,
        workspace_cases_table,
        workspace_due_table,
    )
    from archive.workspace_due import stamp

    cases, people, due = [], [], []
    at = now.isoformat()
    for i in range(n):
        case_id = f"{prefix}-{i:06d}"
        forensic = i % 4 == 3
        kind = "forensic_appraisal" if forensic else "car_survey"
        person = HANDLERS[i % len(HANDLERS)]
        status = ("draft", "draft", "in_review", "issued", "returned")[i % 5]
        level = ("proofread", "recheck", "approve", None)[i // 5 % 4] if status == "in_review" else None
        cases.append({"case_id": case_id, "kind": kind, "status": status, "handler": f"h{i % len(HANDLERS)}",
                      "handler_person": person, "case_name": f"测试案件 {i}", "project": f"项目 {i % 300}",
                      "insured": f"被保险人 {i % 700}", "report_number": f"{prefix}-R-{i:06d}", "next_level": level,
                      "search_text": f"{case_id} 项目 {i % 300}".lower(), "created_at": at, "updated_at": at,
                      "version": 1, "assigned_at": at})
        people.append({"case_id": case_id, "person": person})

        def row(stage: str, holder: str, due_at: datetime | None, clause: str, *, case_id: str = case_id,
                kind: str = kind, day: bool = False) -> dict[str, Any]:
            return {"case_id": case_id, "stage": stage, "kind": kind, "person": holder,
                    "due_at": stamp(due_at) if due_at else None,
                    "due_day": due_at.date().isoformat() if day and due_at else None, "estimated": 0,
                    "clause": clause, "computed_at": stamp(now)}

        spread = timedelta(minutes=(i * 37) % 4000 - 1000)  # from 17 hours overdue to 50 hours ahead
        if status in ("draft", "returned") and not forensic:
            due += [row("contact", person, now + spread / 100, "4.4"),
                    row("survey", person, now + spread, "5.1.2"), row("write", person, None, "9.1")]
        elif status in ("draft", "returned"):
            end = (now + timedelta(days=(i * 7) % 60 - 10)).replace(hour=23, minute=59, second=59)
            due += [row("appraisal", person, end, "通则 Art 28", day=True)]
        elif status == "in_review":
            holder = "复核员甲" if i % 3 == 0 else ""
            due.append(row(level or "issue", holder, None, "9.3" if not forensic else "通则 Art 35"))
        else:
            due.append(row("archive" if not forensic else "delivery", "", None, "10.1" if not forensic else "通则 Art 42"))
    with catalog.write():
        conn = catalog._writing()
        for table, rows in ((workspace_cases_table, cases), (workspace_case_people_table, people),
                            (workspace_due_table, due)):
            for start in range(0, len(rows), 5000):
                conn.execute(insert(table), rows[start:start + 5000])
    return len(due)


def _account(catalog: Any, username: str, person: str, roles: set[str], now: datetime) -> None:
    from sqlalchemy import update

    from archive.accounts import account_grants_table, add_account, get_account, set_password

    if get_account(catalog, username) is None:
        add_account(catalog, username, password=PASSWORD + "-first", roles=roles, person=person, now=now)
        set_password(catalog, username, PASSWORD, own=True, now=now)
        with catalog.write():  # the bench's grants count as confirmed by a second admin
            catalog._writing().execute(update(account_grants_table).where(account_grants_table.c.confirmed_by.is_(None))
                                       .values(confirmed_by="bench", confirmed_at=now.isoformat()))


def _login(client: Any, username: str) -> None:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token, "no login form"
    r = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)})
    assert r.status_code in (200, 303) and "/login" not in str(r.url), f"login of {username} failed"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--requests", type=int, default=100, help="requests per page (the bounded loop)")
    ap.add_argument("--home", type=Path, help="GONGU_HOME to build in (default: a temporary directory)")
    args = ap.parse_args()

    import httpx

    from archive.catalog import Catalog
    from bench.web_bench import measure, start_server
    from generator.types import SHANGHAI
    from gongu.pipeline.archiving import archive_config
    from gongu.settings import load_settings
    from gongu.web.app import load_page_modules

    with tempfile.TemporaryDirectory(prefix="gongu-queue-bench-") as tmp:
        home = args.home or Path(tmp)
        load_page_modules()
        now = datetime.now(SHANGHAI)
        catalog = Catalog(archive_config(load_settings(home)).catalog_path)
        try:
            started = time.perf_counter()
            rows = build_queue_rows(catalog, args.cases, now=now)
            print(f"{args.cases} cases in progress, {rows} due rows in {time.perf_counter() - started:.1f} s")
            for username, person, roles in (SUPERVISOR, HANDLER):
                _account(catalog, username, person, roles, now)
        finally:
            catalog.close()
        base, server, thread = start_server(home)
        worst: list[float] = []
        try:
            for username, plan in (
                    ("boss", [("/queue supervisor (all steps)", ["/queue"]),
                              ("/queue supervisor (kind + stage)", ["/queue?kind=car_survey&stage=contact",
                                                                    "/queue?kind=forensic_appraisal&stage=appraisal"]),
                              ("/queue supervisor (one person)", [f"/queue?person={p}" for p in HANDLERS[:10]])]),
                    ("hand", [("/queue handler (own steps)", ["/queue"])])):
                with httpx.Client(base_url=base, follow_redirects=True, timeout=60) as client:
                    _login(client, username)
                    first = time.perf_counter()
                    client.get("/queue")
                    print(f"{username}: first /queue {1000 * (time.perf_counter() - first):.0f} ms round trip")
                    for label, urls in plan:
                        worst.append(measure(client, label, urls, args.requests)[1])
        finally:
            server.should_exit = True
            thread.join(timeout=30)
        top = max(worst)
        print(f"worst p95 {top:.1f} ms (target ≤ {TARGET_MS:.0f} ms): {'met' if top <= TARGET_MS else 'NOT met'}"
              f"; median of the p95s {statistics.median(worst):.1f} ms")
        sys.exit(0 if top <= TARGET_MS else 1)


if __name__ == "__main__":
    main()
