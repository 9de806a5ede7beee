"""「我的待办」: the work queue (gongu/pipeline/queue.py) of the logged-in account — each open step of the
cases it has, with its due time, time left and clause, 逾期 first — and the supervisor's assignment and
hand-over of a case's duties (gongu/pipeline/assigning.py), each recorded in the case's trail with who,
when and why.

Which steps an account sees: the cases need to know admits (gongu/access/case_access.py), and of them the
steps its person holds, the unassigned review steps of levels its roles decide, and for the kind's
supervisor every step of every case of the kind (filterable by person)."""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy import and_, or_, select, true
from sqlalchemy.sql.elements import ColumnElement
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from archive.accounts import level_roles
from archive.workspace import workspace_cases_table, workspace_due_table
from generator.types import beijing_date
from gongu.access.case_access import supervises
from gongu.pipeline import queue, workspace
from gongu.pipeline.assigning import assign_case, trail_entry
from gongu.web import trail
from gongu.web.access import page
from gongu.web.need_to_know import require_case, visible
from gongu.web.pages_cases import CASE_ROLES, KINDS, _now, case_page_with_errors, masked
from gongu.web.pages_review import form_version
from gongu.web.render import flash, render
from gongu.web.state import now, web_archive, web_settings

SUPERVISOR_ROLES = frozenset({"supervisor", "forensic_supervisor"})
LISTED = 5000  # visible case ids passed to the queue's queries as a list; more: as a subquery
SHOWN = 300  # rows a page shows (overdue and soonest first); the count says how many there are in all


def _mine(request: Request) -> ColumnElement[bool]:
    """The module docstring's rule as a condition on the due rows: every step of the kinds the account
    supervises (need to know admits all their cases); of the other cases it may see, the steps its person
    holds and the unassigned steps it may take — a review level its roles decide, or issuing / delivery /
    archiving when it is an approver (9.3 / 10.1)."""
    account = request.state.account
    d, t = workspace_due_table, workspace_cases_table
    takes = [and_(d.c.kind == kind, d.c.stage == stage) for kind in KINDS for stage in queue.REVIEW_STAGES
             if account.roles & level_roles(kind, stage)]
    if "approver" in account.roles:
        takes.append(d.c.stage.in_(("issue", "delivery", "archive")))
    held = [d.c.person == account.person]
    if takes:
        held.append(and_(d.c.person == queue.UNASSIGNED, or_(*takes)))
    # the cases need to know admits, looked up once (the page runs several queries on them); a very long
    # list stays a subquery
    found = web_archive(request).catalog._rows(select(t.c.case_id).where(visible(request)).limit(LISTED + 1))
    seen = (d.c.case_id.in_([r["case_id"] for r in found]) if len(found) <= LISTED
            else d.c.case_id.in_(select(t.c.case_id).where(visible(request))))
    mine = [and_(seen, or_(*held))]
    supervised = [kind for kind in KINDS if supervises(account, kind)]
    if len(supervised) == len(KINDS):
        return true()  # every step of every case: the queue's index order alone, no filter
    if supervised:
        mine.insert(0, d.c.kind.in_(supervised))
    return or_(*mine)


def page_of(request: Request, *, kind: str | None = None, stage: str | None = None, person: str | None = None,
            limit: int | None = SHOWN, people: bool = False) -> queue.QueuePage:
    """The steps the account sees (see the module's docstring), overdue first then by due time: one query
    on the catalog's due rows (need to know and the account's steps in SQL), `limit` rows at most."""
    d = workspace_due_table
    narrow = [c for c in (d.c.kind == kind if kind else None, d.c.stage == stage if stage else None,
                          d.c.person == person if person else None) if c is not None]
    return queue.queue_page(web_settings(request), web_archive(request).catalog, now=now(request),
                            where=[_mine(request)], narrow=narrow, limit=limit,
                            people=people)


def items_for(request: Request) -> list[queue.DueItem]:
    """Every step the account sees (see the module's docstring), overdue first then by due time."""
    return page_of(request, limit=None).items


def visible_ids(request: Request, case_ids: set[str]) -> set[str]:
    """Of `case_ids`, those the account may see (need to know): a reminder names only a case it may open."""
    if not case_ids:
        return set()
    t = workspace_cases_table
    rows = web_archive(request).catalog._rows(select(t.c.case_id).where(visible(request), t.c.case_id.in_(sorted(case_ids))))
    return {r["case_id"] for r in rows}


@page("/queue", roles=CASE_ROLES, name="queue", nav="我的待办")
def queue_page(request: Request) -> Response:
    q = request.query_params
    kind = q.get("kind") if q.get("kind") in KINDS else None
    stage = q.get("stage") if q.get("stage") in queue.STAGES else None
    person = (q.get("person") or "").strip()[:100] or None
    account = request.state.account
    supervisor = bool(account.roles & SUPERVISOR_ROLES)
    found = page_of(request, kind=kind, stage=stage, person=person, people=supervisor)  # the 人员 filter's names
    catalog = web_archive(request).catalog
    from archive.workspace import cases_by_id

    rows = {cid: masked(r) for cid, r in cases_by_id(catalog, sorted({i.case_id for i in found.items})).items()}
    from gongu.pipeline.reminders import reminders_for

    reminders = reminders_for(catalog, account.person, beijing_date(now(request)))  # the daily scan's, for this person
    return render(request, "queue.html", {
        "reminders": [r for r in reminders if r.case_id in visible_ids(request, {r.case_id for r in reminders})],
        "items": [(i, queue.time_left(i)) for i in found.items], "total": found.total, "rows": rows,
        "kinds": KINDS, "stages": queue.STAGES,
        "filters": {"kind": kind, "stage": stage, "person": person}, "people": found.people,
        "overdue": found.overdue,
        "supervisor": supervisor})


@page("/cases/{case_id}/assign", methods=("POST",), roles=SUPERVISOR_ROLES, name="case_assign")
def assign(request: Request) -> Response:
    case_id = request.path_params["case_id"]
    if not isinstance(found := require_case(request, case_id), workspace.WorkspaceCase):
        return found
    form = request.state.form
    duty, assignee = str(form.get("duty", ""))[:20], str(form.get("assignee", ""))[:200]
    reason = str(form.get("reason", ""))[:2000]
    try:
        done = assign_case(web_archive(request).catalog, case_id, duty=duty, assignee=assignee, reason=reason,
                           account=request.state.account, now=_now(request), expected_version=form_version(form),
                           home=web_settings(request).home)
    except workspace.WorkspaceRefused as exc:
        return case_page_with_errors(request, case_id, ["未能指派：", *exc.reasons])
    a, before = done.assignment, done.previous
    action, detail = trail_entry(done)
    trail.record(request, action, **detail)
    flash(request, f"已{'移交' if before else '指派'}：{a.duty_title} → {a.person}（{a.account}）")
    return RedirectResponse(f"/cases/{quote(case_id)}", status_code=303)
