"""Log in, log out and the home page (issue 15 §2). Failed logins, lockouts, log in and log out are
recorded in the tamper-evident log; the rate limit is in the catalog (archive/accounts.py)."""

from __future__ import annotations

import secrets
import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from archive.accounts import LOCK_MINUTES, MAX_FAILURES, check_login
from gongu.web.access import ALL_ROLES, csrf_ok, page
from gongu.web.render import render
from gongu.web.state import web_archive
from gongu.web.trail import append, client_of, record


def _safe_next(value: str | None) -> str:
    # only a path on this site: never //evil.example or https://… (open redirect)
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


async def login(request: Request) -> Response:
    if request.method == "GET":
        if getattr(request.state, "account", None) is not None:
            return RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
        return render(request, "login.html", {"next": _safe_next(request.query_params.get("next"))})
    form = await request.form()
    if not csrf_ok(request, form):
        return render(request, "error.html", {"title": "无权访问",
                                              "message": "表单已过期或缺少安全令牌（CSRF），请刷新登录页后重试"}, status=403)
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "")))
    return await run_in_threadpool(_login, request, username, password, target)


def _login(request: Request, username: str, password: str, target: str) -> Response:
    archive = web_archive(request)
    now = archive.now()
    outcome = check_login(archive.catalog, username, password, client_of(request), now)
    if outcome.account is None:
        locked = outcome.locked_until
        append(request, username or "（空）", "login_failed", {"locked": locked is not None})
        if locked is not None:
            message = (f"连续 {MAX_FAILURES} 次登录失败，账户在此终端已锁定 {LOCK_MINUTES} 分钟，"
                       f"请于 {locked.strftime('%H:%M')}（北京时间）后再试")
            status = 429
        else:
            message = "用户名或密码错误，或账户已停用"
            status = 401
        return render(request, "login.html", {"error": message, "username": username, "next": target}, status=status)
    account = outcome.account
    # a new session on login (no session fixation): new CSRF token, login time for the expiry
    request.session.clear()
    request.session.update({"account_id": account.id, "login_at": int(time.time()), "csrf": secrets.token_urlsafe(32)})
    from gongu.web.access import Account

    request.state.account = Account(account.id, account.username, account.person, account.roles)
    record(request, "login")
    return RedirectResponse(target, status_code=303)


@page("/logout", methods=("POST",), roles=ALL_ROLES, name="logout")
def logout(request: Request) -> Response:
    record(request, "logout")
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@page("/", roles=ALL_ROLES, name="home")
def home(request: Request) -> Response:
    return render(request, "home.html", {})

