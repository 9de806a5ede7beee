"""Helpers for web workspace tests (issue 15): a real server on 127.0.0.1, accounts, a Playwright browser
(Debian's chromium, no download), logging in. One server and one browser per test module (2-core CI)."""

from __future__ import annotations

import atexit
import functools
import os
import re
import secrets
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
# The folder screenshots go to: `make screenshots` points it at docs/web; a test run leaves it unset, so
# the tracked images stay as they are and the tests write only into a temporary folder.
SCREENSHOTS_ENV = "GONGU_SCREENSHOTS"


@functools.cache
def _temporary_shots() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="gongu-shots-"))
    atexit.register(shutil.rmtree, folder, True)  # a test run leaves nothing behind
    return folder


def screenshot_dir() -> Path:
    """Where `screenshot` writes: $GONGU_SCREENSHOTS if set, else one temporary folder per test process."""
    target = os.environ.get(SCREENSHOTS_ENV)
    folder = Path(target) if target else _temporary_shots()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(page: Any, name: str, **options: Any) -> Path:
    """Save a screenshot of `page` as `name` (e.g. "home.png") in `screenshot_dir()`; returns its path."""
    path = screenshot_dir() / name
    page.screenshot(path=str(path), **options)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(home: Path, clock: Any = None, workers: int | None = None) -> Iterator[str]:
    """The workspace app of `home` served by uvicorn in a thread on 127.0.0.1:<free port>; yields the base URL.
    `clock`: a generator.clock.FixedClock to run the archive at another time (retention tests); `workers`:
    job worker threads inside the server (None: the home's default, as `gongu serve`)."""
    import uvicorn

    from gongu.web.app import create_app

    app = create_app(home, workers=workers) if clock is None else create_app(home, clock=clock, workers=workers)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def make_account(home: Path, username: str, roles: set[str] | list[str] | tuple[str, ...], person: str,
                 password: str, *, fresh: bool = False) -> Any:
    """Add an account to the catalog of `home` (the same function as `gongu users add`). Unless `fresh`,
    it is an account in use for a while: added 30 days ago (its grants past any wait) and its person has
    set `password` as their own. `fresh`: just added, with the password an admin chose."""
    from archive.accounts import add_account, get_account, set_password
    from archive.catalog import Catalog
    from generator.types import SHANGHAI
    from gongu.pipeline.archiving import archive_config
    from gongu.settings import load_settings

    settings = load_settings(home)
    catalog = Catalog(settings.server_store() or archive_config(settings).catalog_path)  # either store
    now = datetime.now(SHANGHAI)
    try:
        if fresh:
            return add_account(catalog, username, password=password, roles=set(roles), person=person, now=now)
        made = add_account(catalog, username, password=secrets.token_urlsafe(12), roles=set(roles), person=person,
                           now=now - timedelta(days=30))
        set_password(catalog, made.username, password, own=True, now=now - timedelta(days=29))
        return get_account(catalog, made.username)
    finally:
        catalog.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM)
        try:
            yield b
        finally:
            b.close()


def login(page: Any, base_url: str, username: str, password: str) -> None:
    """Log in through the login form; returns once the browser has left /login (asserting it did)."""
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    if re.search(r"/login(\?|$)", page.url):
        raise AssertionError(f"login as {username} failed: {page.inner_text('main')}")


def logout(page: Any) -> None:
    page.click("header .who button[type=submit]")
    page.wait_for_load_state()


def csrf_from(html: str) -> str:
    """The CSRF token a rendered page carries (for TestClient/httpx form posts)."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "page has no csrf_token field"
    return found.group(1)


def register_cases(home: Path, username: str, case_ids: list[str]) -> None:
    """Record folders already in GONGU_HOME/workspace as uploaded by `username` (draft), with the people
    their case files name — as the upload page records them — so need to know puts that account on them."""
    from archive.accounts import get_account
    from archive.catalog import Catalog
    from archive.workspace import put_case
    from generator.loading import load_case
    from gongu.pipeline.archiving import archive_config
    from gongu.pipeline.workspace import case_file, case_summary, people_named
    from gongu.settings import load_settings

    settings = load_settings(home)
    catalog = Catalog(settings.server_store() or archive_config(settings).catalog_path)
    try:
        account = get_account(catalog, username)
        assert account is not None, username
        with catalog.write():
            for case_id in case_ids:
                case = load_case(case_file(home, case_id)).case
                put_case(catalog, case_id=case_id, kind=case.kind, status="draft", handler=account.username,
                         handler_person=account.person, next_level=None, at="2026-03-01T09:00:00+08:00",
                         people=people_named(case), **case_summary(case))
    finally:
        catalog.close()
