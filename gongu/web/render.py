"""Rendering pages: Jinja2 with autoescape ON for every template (case text is untrusted: a `<script>` in
a case name is shown as text), plus what every page needs — account, CSRF token, navigation, flash."""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, pass_context
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from archive.accounts import ROLES
from archive.catalog import EVENT_KINDS
from archive.holds import HOLD_KINDS
from generator.clauses import clause_label, clauses_in
from generator.types import SHANGHAI
from gongu.web.endpoints import ENDPOINTS, SAFE_METHODS

TEMPLATES = Path(__file__).with_name("templates")


@pass_context
def _csrf_field(context: Any) -> Markup:
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(context.get("csrf_token", ""))


def beijing_time(value: object) -> Markup:
    """An ISO timestamp as a Beijing wall-clock time to the second ("2026-11-28 20:34:32"), the exact
    stored value kept in the title: the log records microseconds and offsets, a reader wants the time."""
    text = str(value or "")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return Markup("{}").format(text)  # not a timestamp: shown as it is (escaped)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    shown = moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    return Markup('<time datetime="{}" title="{}">{}</time>').format(text, text, shown)


def bdi(value: object) -> Markup:
    """Case text (names, comments, reasons, numbers) isolated from the text around it: a U+202E or a
    right-to-left name inside cannot reorder the dates and names beside it (UAX #9 isolates)."""
    return Markup("<bdi>{}</bdi>").format("" if value is None else value)


# Explicit directional formatting characters (UAX #9 §2): embeddings, overrides, isolates, marks.
_BIDI_CONTROLS = {c: f"[U+{c:04X}]" for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def shown_controls(value: object) -> str:
    """A message the system composed (flash, refusal, blocker) that may quote case text: its bidi
    controls are shown as [U+202E] instead of acting, so a quoted name cannot reorder the message."""
    text = "" if value is None else str(value)
    return text.translate(_BIDI_CONTROLS)


def _names(request: Request) -> tuple[dict[str, str], dict[str, list[str]]]:
    """username → person and person → usernames of every account, read once per request."""
    cached = getattr(request.state, "account_names", None)
    if cached is None:
        from sqlalchemy import select

        from archive.accounts import accounts_table
        from gongu.web.state import web_archive

        t = accounts_table
        rows = web_archive(request).catalog._rows(select(t.c.username, t.c.person).order_by(t.c.username))
        people: dict[str, list[str]] = defaultdict(list)
        for r in rows:
            people[r["person"]].append(r["username"])
        cached = ({r["username"]: r["person"] for r in rows}, dict(people))
        request.state.account_names = cached
    return cached


@pass_context
def who(context: Any, name: object, username: object = None) -> Markup:
    """A person acting through an account, the same way on every page: 「姓名（username）」. Given one of
    the two (archive events keep the name, the trail the username), the other is looked up among the
    accounts; a name no account carries (a reviewer named in a case file) is shown alone."""
    person, user = str(name or "").strip(), str(username or "").strip()
    request = context.get("request")
    if request is not None and (not person or not user) and "（" not in person:
        by_user, by_person = _names(request)
        if not person and user:
            person = by_user.get(user, "")
        elif person in by_user and person not in by_person:  # one value given, and it is a username
            person, user = by_user[person], person
        elif not user:
            user = "、".join(by_person.get(person, []))
    if person and user:
        return Markup('<span class="who-name"><bdi class="person">{}</bdi>（<bdi class="username">{}</bdi>）</span>').format(
            person, user)
    return Markup('<bdi class="person">{}</bdi>').format(person or user)


def _environment() -> Environment:
    # autoescape=True for every template, whatever its extension: no page may opt out by file name.
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.globals["csrf_field"] = _csrf_field
    env.globals["ROLES"] = ROLES
    env.globals["who"] = who
    env.filters["beijing_time"] = beijing_time
    env.filters["bdi"] = bdi
    env.filters["shown_controls"] = shown_controls
    env.filters["clause"] = clause_label  # stored codes stay codes; every page shows the document's title
    env.filters["clauses_in"] = clauses_in  # the same inside a message that cites them
    env.filters["hold_kind"] = lambda kind: HOLD_KINDS.get(str(kind), str(kind))
    env.filters["event_kind"] = lambda kind: EVENT_KINDS.get(str(kind), str(kind)).split("（")[0]
    return env


env = _environment()


def add_template_dir(path: Path) -> None:
    """Let a page module keep templates elsewhere (searched after gongu/web/templates)."""
    loader = env.loader
    assert isinstance(loader, FileSystemLoader)
    if str(path) not in loader.searchpath:
        loader.searchpath.append(str(path))


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def flash(request: Request, message: str, kind: str = "info") -> None:
    """A message shown once on the next rendered page (after a redirect)."""
    request.session.setdefault("flash", [])
    request.session["flash"] = [*request.session["flash"], [kind, message]]


def nav_for(account: Any) -> list[dict[str, str]]:
    if account is None:
        return []
    items = []
    for e in ENDPOINTS:
        if e.nav and "{" not in e.path and set(e.methods) & SAFE_METHODS and account.roles & e.roles:
            items.append({"name": e.name, "label": e.nav, "url": e.path})
    return items


def render(request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200) -> HTMLResponse:
    account = getattr(request.state, "account", None)
    ctx = {"request": request, "account": account, "csrf_token": csrf_token(request), "nav": nav_for(account),
           "flash": request.session.pop("flash", []), "path": request.url.path, **(context or {})}
    html = env.get_template(template).render(ctx)
    return HTMLResponse(html, status_code=status)


__all__ = ["add_template_dir", "csrf_token", "env", "escape", "flash", "render"]
