"""Log in, log out, setting one's own password, and the home page. Failed logins, lockouts, log in,
log out and password changes are recorded in the tamper-evident log; sessions and the rate limits are
in the catalog (archive/accounts.py)."""

from __future__ import annotations

import secrets
import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from archive.accounts import LOCK_MINUTES, MAX_FAILURES, AccountError, check_login, set_password
from archive.sessions import end_session, start_session
from gongu.web.access import ALL_ROLES, csrf_ok, page
from gongu.web.render import flash, render
from gongu.web.state import web_archive, web_settings
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
        if locked is not None and outcome.client_locked:
            message = (f"此终端登录失败次数过多，{LOCK_MINUTES} 分钟内不再受理任何账户的登录，"
                       f"请于 {locked.strftime('%H:%M')}（北京时间）后再试")
        elif locked is not None:
            message = (f"连续 {MAX_FAILURES} 次登录失败，账户在此终端已锁定 {LOCK_MINUTES} 分钟，"
                       f"请于 {locked.strftime('%H:%M')}（北京时间）后再试")
            status = 429
        else:
            message = "用户名或密码错误，或账户已停用"
            status = 401
        return render(request, "login.html", {"error": message, "username": username, "next": target}, status=status)
    account = outcome.account
    _new_session(request, account.id)
    from gongu.web.access import Account

    request.state.account = Account(account.id, account.username, account.person, account.roles,
                                    account.password_own)
    record(request, "login")
    if not account.password_own:  # an admin chose this password: the person sets their own first
        return RedirectResponse("/account/password", status_code=303)
    return RedirectResponse(target, status_code=303)


def _new_session(request: Request, account_id: int) -> None:
    """A new server-side session in a fresh cookie (no session fixation): new id, CSRF token, login time."""
    archive = web_archive(request)
    old = request.session.get("sid")
    if old:
        end_session(archive.catalog, str(old))
    sid = start_session(archive.catalog, account_id, archive.now(),
                        max_hours=web_settings(request).web.session_hours)
    request.session.clear()
    request.session.update({"sid": sid, "login_at": int(time.time()), "csrf": secrets.token_urlsafe(32)})


@page("/logout", methods=("POST",), roles=ALL_ROLES, name="logout")
def logout(request: Request) -> Response:
    record(request, "logout")
    sid = request.session.get("sid")
    if sid:
        end_session(web_archive(request).catalog, str(sid))  # a copy of this cookie dies with it
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@page("/account/password", roles=ALL_ROLES, name="account_password")
def account_password(request: Request) -> Response:
    return render(request, "account_password.html", {"forced": not request.state.account.password_own})


@page("/account/password", methods=("POST",), roles=ALL_ROLES, name="account_password_set")
def account_password_set(request: Request) -> Response:
    """The person sets their own password (with the current one). Every session of the account ends,
    this browser gets a new one."""
    form = request.state.form
    account = request.state.account
    current, new, again = (str(form.get(k, "")) for k in ("current", "new_password", "again"))
    archive = web_archive(request)
    forced = not account.password_own
    error = None
    if check_login(archive.catalog, account.username, current, client_of(request), archive.now()).account is None:
        error = "当前密码不对（或此终端已因多次失败被锁定）"
    elif new != again:
        error = "两次输入的新密码不一致"
    elif new == current:
        error = "新密码不能与当前密码相同"
    else:
        try:
            set_password(archive.catalog, account.username, new, own=True, now=archive.now())
        except AccountError as exc:
            error = str(exc)
    if error is not None:
        return render(request, "account_password.html", {"forced": forced, "error": error}, status=400)
    record(request, "password_change")
    _new_session(request, account.id)
    flash(request, "已设置新密码；此账户的其他会话均已结束")
    return RedirectResponse("/", status_code=303)


@page("/", roles=ALL_ROLES, name="home")
def home(request: Request) -> Response:
    return render(request, "home.html", {})

