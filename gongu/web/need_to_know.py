"""The per-request side of need to know (gongu/access/case_access.py holds the rule): every page, download and
action on one case asks `require_case` first, every list adds `visible(request)` to its query, and every
opening of a forensic appraisal's content is a `forensic_read` event in the tamper-evident log — who
read whose file, when — that the kind's supervisor sees on the case page."""

from __future__ import annotations

from typing import Any

from sqlalchemy.sql.elements import ColumnElement
from starlette.requests import Request
from starlette.responses import Response

from archive.catalog import Event
from archive.workspace import WorkspaceCase
from generator.kinds import is_forensic
from gongu.access import case_access
from gongu.web import trail
from gongu.web.render import render
from gongu.web.state import web_archive

READ_ACTION = "forensic_read"


def visible(request: Request) -> ColumnElement[bool]:
    """The need-to-know condition for the logged-in account (for list, count and queue queries)."""
    return case_access.visible_filter(request.state.account)


def not_found(request: Request, case_id: str) -> Response:
    """The answer for a case that does not exist and for one the account may not see: the same 404, so a
    changed id in the URL does not tell whether the case exists."""
    return render(request, "error.html", {"title": "没有此案件", "message": f"工作台中没有案件 {case_id}"}, status=404)


def require_case(request: Request, case_id: str) -> WorkspaceCase | Response:
    row = case_access.visible_case(web_archive(request).catalog, request.state.account, case_id)
    return row if row is not None else not_found(request, case_id)


def may_see_folder(request: Request, case_id: str, kind: str) -> bool:
    """For pages that read case folders (a folder may have no workspace row): the same rule."""
    return case_id in case_access.visible_ids(web_archive(request).catalog, request.state.account, [case_id], kind)


def log_read(request: Request, case: Any, what: str, **detail: Any) -> None:
    """Record one opening of a forensic case's content (the case page, a document, the report): whose file
    (the appraised parties), what, by whom (the trail adds the account and its person)."""
    if not is_forensic(case):
        return
    subjects = "、".join(p.name for p in case.parties)
    trail.record(request, READ_ACTION, case_id=case.case_id, what=what, subjects=subjects, **detail)


def reads(request: Request, case_id: str) -> list[Event]:
    """The forensic_read events of a case, newest first (shown to the kind's supervisor)."""
    events = web_archive(request).catalog.events(case_id)
    return [e for e in reversed(events) if e.kind == "web" and e.details.get("action") == READ_ACTION]
