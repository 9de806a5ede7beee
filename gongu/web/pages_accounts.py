"""Accounts administration (admin): list, add, disable/enable, roles, and confirming another admin's
grants. The same functions as `gongu users …` (archive/accounts.py); every change is recorded in the
trail. Every pending grant is listed here with its age, so every admin sees it before it counts."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from archive.accounts import (
    AccountError,
    add_account,
    confirm_grants,
    grant_wait,
    grants,
    list_accounts,
    set_disabled,
    set_roles,
)
from gongu.settings import UnknownPerson
from gongu.web.access import ROLES, page
from gongu.web.render import flash, render
from gongu.web.state import web_archive, web_settings
from gongu.web.trail import record


@page("/accounts", roles={"admin"}, name="accounts", nav="账户管理")
def accounts(request: Request) -> Response:
    settings = web_settings(request)
    archive = web_archive(request)
    now = archive.now()
    delay = settings.accounts.grant_delay_hours
    # the grants still waiting: each counts once confirmed or once its wait is over
    pending = [{"grant": g, "age": (now - g.granted_at).total_seconds() / 3600, "wait": grant_wait(g, now, delay)}
               for g in grants(archive.catalog, pending_only=True) if grant_wait(g, now, delay) > 0]
    return render(request, "accounts.html", {"accounts": list_accounts(archive.catalog), "pending": pending,
                                             "delay": delay, "people": settings.people.names, "roles": ROLES,
                                             "me": request.state.account.username})


def _roles_from(form: object) -> set[str]:
    return {str(r) for r in form.getlist("roles")}  # type: ignore[attr-defined]


@page("/accounts", methods=("POST",), roles={"admin"}, name="account_add")
def account_add(request: Request) -> Response:
    form = request.state.form
    username = str(form.get("username", "")).strip()
    person = str(form.get("person", "")).strip()
    roles = _roles_from(form)
    archive = web_archive(request)
    settings = web_settings(request)
    try:
        if settings.people.names:
            person = settings.people.require(person, "姓名")
        add_account(archive.catalog, username, password=str(form.get("password", "")), roles=roles,
                    person=person, now=archive.now(), by=request.state.account.username)
    except (AccountError, UnknownPerson) as exc:  # shown on the page, never a traceback
        flash(request, str(exc), "error")
        return RedirectResponse("/accounts", status_code=303)
    record(request, "account_add", username=username, person=person, roles=sorted(roles))
    flash(request, f"已添加账户 {username}（{person}）")
    return RedirectResponse("/accounts", status_code=303)


@page("/accounts/{username}/disable", methods=("POST",), roles={"admin"}, name="account_disable")
def account_disable(request: Request) -> Response:
    username = request.path_params["username"]
    enable = request.state.form.get("enable") == "1"
    if not enable and username == request.state.account.username:
        flash(request, "不能停用自己正在使用的账户", "error")
        return RedirectResponse("/accounts", status_code=303)
    try:
        set_disabled(web_archive(request).catalog, username, not enable)
    except AccountError as exc:
        flash(request, str(exc), "error")
        return RedirectResponse("/accounts", status_code=303)
    record(request, "account_enable" if enable else "account_disable", username=username)
    flash(request, f"已{'启用' if enable else '停用'}账户 {username}")
    return RedirectResponse("/accounts", status_code=303)


@page("/accounts/{username}/roles", methods=("POST",), roles={"admin"}, name="account_roles")
def account_roles(request: Request) -> Response:
    username = request.path_params["username"]
    roles = _roles_from(request.state.form)
    try:
        archive = web_archive(request)
        set_roles(archive.catalog, username, roles, by=request.state.account.username, now=archive.now())
    except AccountError as exc:
        flash(request, str(exc), "error")
        return RedirectResponse("/accounts", status_code=303)
    record(request, "account_roles", username=username, roles=sorted(roles))
    flash(request, f"已更新账户 {username} 的角色")
    return RedirectResponse("/accounts", status_code=303)


@page("/accounts/{username}/confirm", methods=("POST",), roles={"admin"}, name="account_confirm")
def account_confirm(request: Request) -> Response:
    """A second admin confirms the account's pending grants (roles, an admin-set password)."""
    username = request.path_params["username"]
    archive = web_archive(request)
    try:
        count = confirm_grants(archive.catalog, username, by=request.state.account.username, now=archive.now())
    except AccountError as exc:
        flash(request, str(exc), "error")
        return RedirectResponse("/accounts", status_code=303)
    record(request, "account_confirm", username=username, grants=count)
    flash(request, f"已确认账户 {username} 的 {count} 项授予")
    return RedirectResponse("/accounts", status_code=303)
