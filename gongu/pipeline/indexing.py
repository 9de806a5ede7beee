"""Composition of archive and index for the application: where the index lives, and the listener that
keeps it following the archive (ingest, hold, release, disposal)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gongu.settings import Settings
from index.api import EngineChoice, SearchBackend, backend_for, choose_engine
from index.maintenance import IndexDrift, IndexMaintainer, apply_queued, index_drift, sync

if TYPE_CHECKING:
    from archive.store import Archive


def index_dir(settings: Settings) -> Path:
    """GONGU_HOME/index, or gongu.toml [paths] index = …"""
    return settings.resolve(settings.paths.index)


def store_url(settings: Settings) -> str | None:
    """gongu.toml `[store] url` when the catalog is on PostgreSQL, else None."""
    return settings.store.url


def index_engine(settings: Settings, *, rebuilding: bool = False) -> EngineChoice:
    """Which engine this home searches with, and why (index/api.py choose_engine)."""
    return choose_engine(index_dir(settings), settings.index.backend, store_url(settings), rebuilding=rebuilding)


def open_index(settings: Settings, *, procs: int = 1, rebuilding: bool = False) -> SearchBackend:
    """The engine chosen by gongu.toml `[index] backend = "tantivy" | "whoosh" | "postgresql"`; unset:
    PostgreSQL when `[store] url` is PostgreSQL, else the engine of the home's existing index, else
    tantivy. tantivy keeps its files in a folder of its own (index/tantivy): switching engines means
    `gongu index rebuild`, never reading the other engine's files."""
    from gongu.output import GonguError

    try:
        return backend_for(index_dir(settings), settings.index.backend, store_url(settings), procs=procs,
                           rebuilding=rebuilding, connect_timeout=settings.store.connect_timeout,
                           statement_timeout=settings.store.statement_timeout)
    except ValueError as exc:
        raise GonguError(str(exc)) from None


def subscribe_index(archive: Archive, settings: Settings, *, catch_up: bool = True) -> None:
    """Make `archive` update the search index after every committed change.

    A failing index update never undoes the archive change (archive/events.py); `gongu index rebuild`
    restores the index from the packages on disk. Index work a crashed process left queued in the
    catalog is applied first, so a package archived just before a crash becomes searchable here
    (fsck and audit pass catch_up=False: they report the difference before repairing it)."""
    backend = open_index(settings)
    archive.subscribe(IndexMaintainer(backend, archive.catalog))
    if catch_up and archive.catalog.pending_index_events():
        archive.listener_failures += apply_queued(backend, archive.catalog, archive.root)[1]


def catalog_index_drift(archive: Archive, settings: Settings) -> IndexDrift:
    """How the search index differs from the catalog (fsck, audit)."""
    return index_drift(open_index(settings), archive.catalog)


def sync_index(archive: Archive, settings: Settings) -> tuple[IndexDrift, list[str], list[str]]:
    """`gongu index sync`, `fsck --repair`: bring the index into line with the catalog."""
    return sync(open_index(settings), archive.catalog, archive.root)
