"""`make demo`: a day's work in the web workspace, so that 「我的待办」 (/queue, `gongu queue`) shows real
work and one report goes out the way an approver issues it — through a background job.

Three early copies of the slope-collapse example are in progress, each handed over by the demo supervisor
to 演示承办 王志强 (demo-handler) at a time chosen so that one step is overdue, one is due today and one is
due later — the due times are the queue's own (4.4 contact within 30 minutes of the assignment; 5.1.5 the
survey at the time agreed with the parties). A fourth copy passes the three review levels under the demo
accounts of the example's reviewers and is issued by an "issue" job (render → seal → record → archive).
Each run adds what is missing only: a case already in the workspace is left as it is."""

from __future__ import annotations

import copy
import io
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.markup import escape

from archive.accounts import Account, get_account
from archive.catalog import Catalog
from archive.workspace import get_case
from generator.clock import SYSTEM_CLOCK
from generator.types import SHANGHAI
from gongu.output import console
from gongu.settings import Settings

EXAMPLE = "slope-collapse"
# suffix → (how long ago the supervisor handed the case over, the survey time agreed with the parties
# from now, or None: not yet contacted)
IN_PROGRESS: dict[str, tuple[timedelta, timedelta | None]] = {
    "-D1": (timedelta(hours=3), None),  # contact due 30 minutes after the hand-over: overdue (4.4)
    "-D2": (timedelta(minutes=10), None),  # contact due in 20 minutes (4.4)
    "-D3": (timedelta(minutes=5), timedelta(days=2)),  # contacted; survey due in two days (5.1.5)
}
ISSUED_SUFFIX = "-D4"


def _iso(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds")


def _example(examples: Path) -> dict[str, Any]:
    data = json.loads((examples / EXAMPLE / "case.json").read_text(encoding="utf-8"))
    data.pop("reviews", None)  # reviews are recorded in the workspace, never uploaded
    return data


def _renumbered(data: dict[str, Any], suffix: str) -> dict[str, Any]:
    out = copy.deepcopy(data)
    out["case_id"] += suffix
    out["report"]["number"] += suffix
    return out


def _early(data: dict[str, Any], agreed: datetime | None) -> dict[str, Any]:
    """The case as it stands just after the assignment: not surveyed yet (no record items, no losses), and
    either not contacted yet or contacted with a survey time agreed."""
    out = copy.deepcopy(data)
    out["survey"]["record_items"] = []
    out["losses"] = []
    for photo in out["survey"].get("photos", []):
        photo.pop("record_item", None)
    if agreed is None:
        out.pop("contact", None)
    else:
        out["contact"]["agreed_survey_time"] = agreed.astimezone(SHANGHAI).replace(tzinfo=None).isoformat(
            timespec="seconds")
    return out


def _files(data: dict[str, Any], folder: Path) -> list[tuple[str, io.BytesIO]]:
    out = [("case.json", io.BytesIO(json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")))]
    for photo in sorted((folder / "photos").iterdir()):
        out.append((f"photos/{photo.name}", io.BytesIO(photo.read_bytes())))
    return out


def _accounts(catalog: Catalog, usernames: tuple[str, ...]) -> dict[str, Account] | None:
    found = {u: get_account(catalog, u) for u in usernames}
    return None if any(a is None for a in found.values()) else found  # type: ignore[return-value]


def demo_workday(settings: Settings, examples: Path) -> None:
    """Put the cases in progress and the one job-issued report into the demo home's workspace."""
    from gongu.pipeline.archiving import open_store
    from gongu.settings import load_settings

    settings = load_settings(settings.home)  # the demo wrote gongu.toml (people, signing) after it started
    catalog = open_store(settings)
    try:
        people = _accounts(catalog, ("demo-handler", "demo-handler2", "demo-supervisor", "demo-proofreader",
                                     "demo-rechecker", "demo-approver"))
        # the example's people must be the demo accounts' (gongu.toml people.names, written by the demo)
        if people is None or people["demo-handler"].person != _example(examples)["handlers"][0]["name"]:
            console.print("[yellow]![/] 演示账户与示例案件的人员不一致，跳过在办案件的演示")
            return
        now = SYSTEM_CLOCK.now()
        _cases_in_progress(catalog, settings, examples, people, now)
        _issue_through_a_job(catalog, settings, examples, people, now)
        _show_queue(catalog, settings, now)
    finally:
        catalog.close()


def _cases_in_progress(catalog: Catalog, settings: Settings, examples: Path, people: dict[str, Account],
                       now: datetime) -> None:
    from gongu.pipeline.assigning import assign_case
    from gongu.pipeline.workspace import upload_case

    base = _example(examples)
    for suffix, (ago, agreed_in) in IN_PROGRESS.items():
        data = _early(_renumbered(base, suffix), now + agreed_in if agreed_in else None)
        if get_case(catalog, data["case_id"]) is not None:
            continue
        handed = now - ago
        # 陈晓梅 (demo-handler2) takes the case in; the supervisor hands it over to 王志强 (demo-handler)
        upload_case(catalog, settings.home, _files(data, examples / EXAMPLE), account=people["demo-handler2"],
                    now=_iso(handed - timedelta(minutes=1)))
        done = assign_case(catalog, data["case_id"], duty="handler", assignee="demo-handler",
                           reason="演示：按地区分工移交", account=people["demo-supervisor"], now=_iso(handed),
                           expected_version=None, home=settings.home)
        _trail(settings, catalog, people["demo-supervisor"], "case_handover", data, handed,
               to="demo-handler", reason=done.assignment.reason)
        console.print(escape(f"✓ 在办案件 {data['case_id']}：{_iso(handed)} 移交 王志强"))


def _trail(settings: Settings, catalog: Catalog, account: Account, action: str, data: dict[str, Any],
           at: datetime, **detail: Any) -> None:
    """The hand-over in the case's trail, as the web's assignment form records it (gongu/web/trail.py)."""
    details = {"action": action, "client": "make demo", "account": account.username, "person": account.person,
               **detail}
    with catalog.write():
        catalog.append_event("web", at, account.username, data["case_id"], data["report"]["number"], details)


@contextmanager
def _demo_passphrases() -> Iterator[None]:
    """The demo keys' passphrase for the in-process job (DEMO — NOT FOR PRODUCTION by construction)."""
    from signing.keys import DEMO_PASSPHRASE

    names = ("GONGU_FIRM_KEY_PASSPHRASE", "GONGU_HANDLER_KEY_PASSPHRASE")
    before = {n: os.environ.get(n) for n in names}
    os.environ.update({n: DEMO_PASSPHRASE for n in names})
    try:
        yield
    finally:
        for n, value in before.items():
            if value is None:
                os.environ.pop(n, None)
            else:
                os.environ[n] = value


def _issue_through_a_job(catalog: Catalog, settings: Settings, examples: Path, people: dict[str, Account],
                         now: datetime) -> None:
    from gongu.demo.keys import demo_signing
    from gongu.jobs.api import enqueue, get_job
    from gongu.jobs.model import STATE_TITLES
    from gongu.jobs.runner import machine_name, run_one
    from gongu.pipeline.workspace import confirm_signature, review_case, submit_case, upload_case

    data = _renumbered(_example(examples), ISSUED_SUFFIX)
    case_id = data["case_id"]
    if get_case(catalog, case_id) is not None:
        return
    at = _iso(now)
    upload_case(catalog, settings.home, _files(data, examples / EXAMPLE), account=people["demo-handler"], now=at)
    submit_case(catalog, settings.home, case_id, account=people["demo-handler"], now=at)
    for who, level in (("demo-proofreader", "proofread"), ("demo-rechecker", "recheck"), ("demo-approver", "approve")):
        review_case(catalog, settings.home, case_id, account=people[who], level=level, decision="approve",
                    comment=None, now=at, settings=settings)
    confirm_signature(catalog, settings.home, case_id, account=people["demo-handler2"], now=at)
    approver = people["demo-approver"]
    job = enqueue(catalog, "issue", {"case_id": case_id, "account_id": approver.id, "account": approver.username},
                  by=approver.username, person=approver.person, case_id=case_id, now=now)
    # The demo's loopback TSA runs only while the demo does: the job seals against it.
    with demo_signing(settings.home, examples) as config, _demo_passphrases():
        assert settings.signing is not None
        signing = settings.signing.model_copy(update={"tsa_url": config.tsa_url})
        run_settings = settings.model_copy(update={"toml": settings.toml.model_copy(update={"signing": signing})})
        run_one(run_settings, catalog, worker="make demo", machine=machine_name(), job_id=job.id)
    done = get_job(catalog, job.id)
    assert done is not None
    mark = "[green]✓[/]" if done.state == "done" else "[red]✗[/]"
    console.print(f"{mark} " + escape(f"后台任务 #{done.id}（出具 {case_id}）：{STATE_TITLES[done.state]}"
                                      + (f"：{done.error}" if done.error else "")))


def _show_queue(catalog: Catalog, settings: Settings, now: datetime) -> None:
    from gongu.pipeline.queue import open_steps, time_left

    items = [i for i in open_steps(settings, catalog, now=now, person="王志强") if i.due_at is not None]
    console.print(escape(f"王志强 的待办（gongu queue --person 王志强）：{len(items)} 项有期限"))
    for item in items:
        assert item.due_at is not None
        console.print(escape(f"  {item.case_id}  {item.stage_title}  截止 {_iso(item.due_at)}  "
                             f"{time_left(item)}（{item.clause}）"), soft_wrap=True)
