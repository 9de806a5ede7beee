"""The page registry: every page declares its path, methods and the roles that may use it.

`page` records an `Endpoint` in `ENDPOINTS` — the role × endpoint matrix test enumerates it, so a page
added later is covered without touching the test — and wraps the function so that:
- not logged in → redirect to /login (GET) or 401 (other methods);
- logged in without one of `roles` → 403 page;
- any non-GET request without the session's CSRF token (form field `csrf_token` or header
  `X-CSRF-Token`) → 403, before the page runs.
Sync page functions run in Starlette's threadpool (render, seal and archive steps block); for them the
parsed form of a non-GET request is in `request.state.form` (an async page may `await request.form()`)."""

from __future__ import annotations

import functools
import hmac
import inspect
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from archive.accounts import ALL_ROLES, ROLES  # defined where accounts are stored; pages import them here
from gongu.web.endpoints import ENDPOINTS, SAFE_METHODS, Endpoint
from gongu.web.render import render

PageFunc = Callable[[Request], Response] | Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Account:
    """The logged-in account (request.state.account). `person` is the registered Chinese name the case
    files and catalog records carry; rules that need two people compare `id`/`username`."""

    id: int
    username: str
    person: str
    roles: frozenset[str]
    password_own: bool = True  # False: an admin set the password; every page but setting one's own is closed


# the pages open to an account whose password an admin set: it sets its own first
OWN_PASSWORD_PAGES = frozenset({"account_password", "account_password_set", "logout"})




def _forbidden(request: Request, message: str) -> Response:
    return render(request, "error.html", {"title": "无权访问", "message": message}, status=403)


def csrf_ok(request: Request, form: Any | None) -> bool:
    expected = request.session.get("csrf") if "session" in request.scope else None
    given = request.headers.get("x-csrf-token") or (form.get("csrf_token") if form is not None else None)
    return bool(expected) and isinstance(given, str) and hmac.compare_digest(given.encode(), str(expected).encode())


def page(path: str, methods: Iterable[str] = ("GET",), *, roles: Iterable[str], name: str,
         nav: str | None = None) -> Callable[[PageFunc], Callable[[Request], Awaitable[Response]]]:
    allowed = frozenset(roles)
    unknown = allowed - ALL_ROLES
    if unknown or not allowed:
        raise ValueError(f"page {name}: unknown or no roles {sorted(unknown)}")
    verbs = tuple(m.upper() for m in methods)
    if any(e.name == name for e in ENDPOINTS):
        raise ValueError(f"page name {name} registered twice")

    def decorate(func: PageFunc) -> Callable[[Request], Awaitable[Response]]:
        is_async = inspect.iscoroutinefunction(func)

        @functools.wraps(func)
        async def guarded(request: Request) -> Response:
            account: Account | None = getattr(request.state, "account", None)
            if account is None:
                if request.method in SAFE_METHODS:
                    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                    return RedirectResponse(f"/login?next={quote(back)}", status_code=303)
                return PlainTextResponse("未登录（login required）", status_code=401)
            if not account.password_own and name not in OWN_PASSWORD_PAGES:
                if request.method in SAFE_METHODS:
                    return RedirectResponse("/account/password", status_code=303)
                return _forbidden(request, "请先设置本人密码（管理员设置的密码只用于首次登录）")
            if not account.roles & allowed:
                need = "、".join(ROLES[r] for r in sorted(allowed))
                return _forbidden(request, f"此页面仅限以下角色使用：{need}")
            if request.method not in SAFE_METHODS:
                form: Any = FormData()
                kind = request.headers.get("content-type", "")
                if kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
                    form = await request.form()  # parsed here so sync pages find it in request.state.form
                request.state.form = form
                if not csrf_ok(request, form):
                    return _forbidden(request, "表单已过期或缺少安全令牌（CSRF），请刷新页面后重试")
            if is_async:
                return await func(request)  # type: ignore[misc]
            return await run_in_threadpool(func, request)  # type: ignore[arg-type]

        ENDPOINTS.append(Endpoint(path, verbs, allowed, name, guarded, nav))
        return guarded

    return decorate
