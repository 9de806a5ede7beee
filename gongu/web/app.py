"""The ASGI app: Starlette, signed-cookie sessions, the account of each request, the
pages registered with `gongu.web.access.page`, static files (vendored htmx), security headers.

`create_app(home)` reads settings like every command (GONGU_HOME, gongu.toml), opens (and migrates) the
catalog once, and serves every page module listed in PAGE_MODULES."""

from __future__ import annotations

import gc
import importlib
import os
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from archive.catalog import CatalogUnavailable
from generator.clock import SYSTEM_CLOCK, Clock
from gongu.settings import Settings, load_settings, use_home_calendar
from gongu.web.access import ENDPOINTS, Account
from gongu.web.state import WebState
from index.postgres_backend import SearchUnavailableError

# Each area's pages live in gongu/web/pages_<area>.py; one line per module (a one-line merge at most).
PAGE_MODULES = [
    "gongu.web.pages_login",
    "gongu.web.pages_accounts",
    "gongu.web.pages_cases",
    "gongu.web.pages_review",
    "gongu.web.pages_queue",
    "gongu.web.pages_forensic",
    "gongu.web.pages_archive",
    "gongu.web.pages_jobs",
    "gongu.web.pages_drafting",
    "gongu.web.pages_photos",
]

SECRET_FILE = "web-secret.key"
SESSION_COOKIE = "gongu_session"
STATIC = Path(__file__).with_name("static")
# script-src 'self': no inline script runs, so hostile case text cannot execute even if escaping failed.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "object-src 'self'; frame-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'")


def secret_key(home: Path) -> str:
    """The session signing key, GONGU_HOME/web-secret.key, created 0600 on first start — never in gongu.toml."""
    path = home / SECRET_FILE
    home.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    return path.read_text(encoding="ascii").strip()


class AccountMiddleware:
    """Puts the logged-in Account in request.state.account (None when not logged in). The signed cookie
    carries a random session id; its account comes from the catalog's session table on every request, so
    a session ended by logout, a password or role change or disabling is refused even from a copied
    cookie. A session older than [web] session_hours, or of a disabled or deleted account, ends here."""

    def __init__(self, app: ASGIApp, web: WebState) -> None:
        self.app = app
        self.web = web
        self.max_seconds = web.settings.web.session_hours * 3600

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["account"] = None
        session = scope.get("session", {})
        sid = session.get("sid")
        if sid is not None:
            login_at = session.get("login_at", 0)
            account = None
            if isinstance(login_at, (int, float)) and 0 <= time.time() - login_at <= self.max_seconds:
                from starlette.concurrency import run_in_threadpool

                try:
                    account = await run_in_threadpool(self._load, str(sid))
                except CatalogUnavailable as exc:  # the shared server is down: say so, not a 500
                    await _server_down(str(exc))(scope, receive, send)
                    return
            if account is None:
                session.clear()
            else:
                state["account"] = account
        await self.app(scope, receive, send)

    def _load(self, sid: str) -> Account | None:
        from archive.accounts import get_account_by_id
        from archive.sessions import session_account

        catalog = self.web.archive().catalog
        account_id = session_account(catalog, sid)
        found = get_account_by_id(catalog, account_id) if account_id is not None else None
        if found is None or found.disabled:
            return None
        return Account(found.id, found.username, found.person, found.roles, found.password_own)


def _server_down(message: str) -> Response:
    """A bare 503 page for a failure before any page runs (no template: no account is known yet)."""
    from html import escape

    from starlette.responses import HTMLResponse

    body = (f"<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>数据库暂时不可用</title>"
            f"<h1>数据库暂时不可用</h1><p>{escape(message)}</p><p>请稍后刷新本页。</p></html>")
    return HTMLResponse(body, status_code=503)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = time.perf_counter()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                # Server-Timing: the time spent in the app (what bench/web_bench.py reports as server-side)
                elapsed = (time.perf_counter() - started) * 1000
                headers.append((b"server-timing", f"app;dur={elapsed:.2f}".encode()))
                # A response may bring its own policy (the case page's PDF, shown in our own <iframe>)
                if not any(k.lower() == b"content-security-policy" for k, _ in headers):
                    headers.append((b"content-security-policy", CSP.encode()))
                headers += [(b"x-content-type-options", b"nosniff"),
                            (b"referrer-policy", b"same-origin"), (b"x-frame-options", b"SAMEORIGIN")]
                if not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))  # pages show case data: not kept in caches
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    from gongu.web.render import render

    assert isinstance(exc, HTTPException)
    titles = {404: "页面不存在", 405: "不支持的请求方法", 400: "请求有误"}
    return render(request, "error.html", {"title": titles.get(exc.status_code, "出错了"),
                                          "message": exc.detail if exc.status_code not in titles else ""},
                  status=exc.status_code)


async def _unavailable(request: Request, exc: Exception) -> Response:
    """The catalog or search server of a multi-office home is down or too slow (after the one retry):
    the page says which and why, with 503, never a traceback; nothing was half-done (each unit of work
    is one transaction)."""
    from gongu.web.render import render

    return render(request, "error.html", {"title": "数据库暂时不可用", "message": str(exc)}, status=503)


async def _server_error(request: Request, exc: Exception) -> Response:
    """Any unexpected failure (Starlette's default is a bare English "Internal Server Error"): a Chinese
    page with 500, no traceback shown. It runs outside the session middleware (ServerErrorMiddleware), so
    it is a self-contained page rather than a template needing the account; the traceback still goes to
    the server log (Starlette re-raises after answering)."""
    from starlette.responses import HTMLResponse

    body = ("<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>服务器内部错误</title>"
            "<h1>服务器内部错误</h1><p>处理本次请求时出错，操作可能未完成。错误已记入服务器日志，请稍后重试；"
            "如一再出现，请联系系统管理员。</p><p><a href=\"/\">返回首页</a></p></html>")
    return HTMLResponse(body, status_code=500)


def load_page_modules() -> None:
    for name in PAGE_MODULES:
        importlib.import_module(name)


SERVER_PERIODIC_AFTER_S = 600.0


def worker_count(settings: Settings, workers: int | None) -> int:
    """How many job worker threads run inside the web server: as asked, else one on an embedded (SQLite)
    home — no other process to install — and none on a PostgreSQL home, whose workers are `gongu worker`
    processes on any machine."""
    if workers is not None:
        if workers < 0:
            raise ValueError("workers must be 0 or more")
        return workers
    return 1 if settings.server_store() is None else 0


_FROZEN: list[bool] = []


def _freeze_startup_objects() -> None:
    """Once per process, when the server starts: the objects alive then (modules, templates, table
    metadata) leave the collector's scans (gc.freeze), so a full collection no longer pauses a request
    for ~100 ms (bench/queue_bench.py measured the pauses as the p95 of 「我的待办」)."""
    if not _FROZEN:
        _FROZEN.append(True)
        gc.collect()
        gc.freeze()


def create_app(home: Path | None = None, *, clock: Clock = SYSTEM_CLOCK, workers: int | None = None) -> Starlette:
    """`workers`: job worker threads inside the server (worker_count: None = the home's default)."""
    settings = load_settings(home)
    threads = worker_count(settings, workers)
    use_home_calendar(settings)  # time limits on every page count on this home's calendar files
    web = WebState(settings, clock)  # clock: tests inject a FixedClock; nothing moves it in production
    web.archive()  # open and migrate the catalog now, not inside the first request
    load_page_modules()
    from gongu.web.pages_check import check
    from gongu.web.pages_login import login

    # /login (it is how one logs in) and /v/<code> (the check page printed on every issued document, for
    # whoever holds one) are the public pages, so they are not `page`s and not in ENDPOINTS.
    routes: list[Route | Mount] = [Route("/login", login, methods=["GET", "POST"], name="login"),
                                   Route("/v/{code:path}", check, methods=["GET", "POST"], name="check_code")]
    # paths without parameters first (stable): /cases/new is never taken for the case "new"
    routes += [Route(e.path, e.func, methods=list(e.methods), name=e.name)
               for e in sorted(ENDPOINTS, key=lambda e: "{" in e.path)]
    routes.append(Mount("/static", StaticFiles(directory=str(STATIC)), name="static"))

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        _freeze_startup_objects()
        runner = None
        if threads:
            from gongu.jobs.runner import EmbeddedWorker

            # periodic jobs (the weekly whole-archive audit among them) wait until the server has been up a
            # while: they run in this process, beside the pages people open right after a restart
            runner = EmbeddedWorker(settings, concurrency=threads, periodic_after_s=SERVER_PERIODIC_AFTER_S)
            runner.start()
        try:
            yield
        finally:
            if runner is not None:
                runner.stop()  # a job in its step finishes that step first: nothing is left half-written
            web.close()

    middleware = [
        Middleware(SecurityHeaders),
        Middleware(SessionMiddleware, secret_key=secret_key(settings.home), session_cookie=SESSION_COOKIE,
                   max_age=settings.web.session_hours * 3600, same_site="lax", https_only=settings.web.secure_cookies),
        Middleware(AccountMiddleware, web=web),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                    exception_handlers={HTTPException: _http_error, CatalogUnavailable: _unavailable,
                                        SearchUnavailableError: _unavailable, Exception: _server_error})
    app.state.web = web
    return app
