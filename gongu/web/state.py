"""What pages share: the settings the app was made with, and an Archive per worker thread.

A Catalog holds its open transaction on the object, so one object must not serve two threads at once;
each threadpool thread gets its own (opened on first use, kept for the life of the app)."""

from __future__ import annotations

import threading
from datetime import datetime

from starlette.requests import Request

from archive.store import Archive
from generator.clock import SYSTEM_CLOCK, Clock
from gongu.settings import Settings
from index.api import SearchBackend


class WebState:
    def __init__(self, settings: Settings, clock: Clock = SYSTEM_CLOCK) -> None:
        self.settings = settings
        self.clock = clock
        self._local = threading.local()
        self._all: list[Archive] = []
        self._searchers: list[SearchBackend] = []
        self._lock = threading.Lock()

    def archive(self) -> Archive:
        found: Archive | None = getattr(self._local, "archive", None)
        if found is None:
            from gongu.pipeline.archiving import build_archive

            # catch_up=False: the index is brought up to date by the commands that change it, not per request
            found = build_archive(self.settings, catch_up=False, clock=self.clock)
            self._local.archive = found
            with self._lock:
                self._all.append(found)
        return found

    def index(self) -> SearchBackend:
        """The search engine for this thread. A PostgreSQL engine keeps its connection open between
        requests (one per worker thread, like the Archive); an embedded engine is opened per request,
        so every request reads the index's newest commit."""
        from gongu.pipeline.indexing import index_engine, open_index

        if index_engine(self.settings).engine != "postgresql":
            return open_index(self.settings)
        found: SearchBackend | None = getattr(self._local, "index", None)
        if found is None:
            found = open_index(self.settings)
            self._local.index = found
            with self._lock:
                self._searchers.append(found)
        return found

    def close(self) -> None:
        with self._lock:
            for archive in self._all:
                archive.close()
            self._all.clear()
            for backend in self._searchers:
                close = getattr(backend, "close", None)
                if close is not None:
                    close()
            self._searchers.clear()


def web_state(request: Request) -> WebState:
    return request.app.state.web


def web_settings(request: Request) -> Settings:
    return web_state(request).settings


def web_index(request: Request) -> SearchBackend:
    """This thread's search engine (WebState.index)."""
    return web_state(request).index()


def web_archive(request: Request) -> Archive:
    """This thread's Archive (catalog, packages, clock, firm key when its passphrase is in the environment)."""
    return web_state(request).archive()


def now(request: Request) -> datetime:
    return web_archive(request).now()
