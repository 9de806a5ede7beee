"""The action trail: every state-changing action, every view or download of an archived
package, log in/out and failed logins go into the archive's tamper-evident event log (kind "web"),
with the account's username as the actor. Never pass a password or passphrase in `detail`."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from archive.catalog import Event
from gongu.web.state import web_archive

_SECRET_KEYS = frozenset({"password", "passphrase", "csrf_token", "new_password"})


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def append(request: Request, actor: str, action: str, detail: dict[str, Any]) -> Event:
    """Append one "web" event for `actor` (an account username; for a failed login the name typed)."""
    if _SECRET_KEYS & detail.keys():
        raise ValueError("secrets are never logged")
    case_id = detail.pop("case_id", None)
    report_number = detail.pop("report_number", None)
    account = getattr(request.state, "account", None)
    details: dict[str, Any] = {"action": action, "client": client_of(request), "path": request.url.path, **detail}
    if account is not None:
        details["account"] = account.username
        details["person"] = account.person
    archive = web_archive(request)
    cat = archive.catalog
    with cat.write():
        event = cat.append_event("web", archive.now(), actor, case_id, report_number, details)
    archive.committed([event])
    return event


def record(request: Request, action: str, **detail: Any) -> None:
    """Record `action` by the logged-in account; `case_id=` / `report_number=` go into the event's
    columns (so the case's log shows it), everything else into its details."""
    account = getattr(request.state, "account", None)
    if account is None:
        raise RuntimeError("trail.record needs a logged-in account")
    append(request, account.username, action, dict(detail))
