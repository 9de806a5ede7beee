"""The account side of the two-person rule on the pages: whether the logged-in account may take part in
a two-person decision now (archive/accounts.py decision_blocker, with [accounts] grant_delay_hours),
and how old the accounts and grants behind such decisions are, for the disposal and review pages."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from archive.accounts import account_age_hours, decision_blocker, grant_wait, grants, list_accounts
from gongu.web.state import web_archive, web_settings


def blocker(request: Request, role: str | None) -> str | None:
    """Why the logged-in account may not decide (as `role`) yet, in Chinese; None when it may."""
    archive = web_archive(request)
    return decision_blocker(archive.catalog, request.state.account.username, archive.now(),
                            web_settings(request).accounts.grant_delay_hours, role)


def standing(request: Request, roles: frozenset[str]) -> list[dict[str, Any]]:
    """Every enabled account holding one of `roles`: its age, each grant of those roles (or of an
    admin-set password) with its age and whether it is confirmed, and what still blocks it."""
    archive = web_archive(request)
    catalog = archive.catalog
    now = archive.now()
    delay = web_settings(request).accounts.grant_delay_hours
    rows = []
    for account in list_accounts(catalog):
        held = account.roles & roles
        if account.disabled or not held:
            continue
        shown = [{"what": g.what, "age": (now - g.granted_at).total_seconds() / 3600, "by": g.granted_by,
                  "confirmed_by": g.confirmed_by, "wait": grant_wait(g, now, delay)}
                 for g in grants(catalog, account.username) if g.what in held or g.what == "password"]
        rows.append({"username": account.username, "person": account.person, "roles": sorted(held),
                     "age": account_age_hours(catalog, account.username, now) or 0.0, "grants": shown,
                     "blocker": decision_blocker(catalog, account.username, now, delay,
                                                 next(iter(sorted(held))) if len(held) == 1 else None)})
    return rows
