"""Composition of archive and index for the application: where the index lives, and the listener that
keeps it following the archive (ingest, hold, release, disposal)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from gongu.settings import Settings
from index.api import SearchBackend, default_backend
from index.maintenance import IndexMaintainer

if TYPE_CHECKING:
    from archive.catalog import Catalog
    from archive.store import Archive


def index_dir(settings: Settings) -> Path:
    """GONGU_HOME/index, or gongu.toml [paths] index = …"""
    return settings.resolve(settings.paths.index)


def open_index(settings: Settings, *, procs: int = 1) -> SearchBackend:
    """The engine chosen by gongu.toml `[index] backend = "whoosh" | "tantivy"` (default whoosh).

    tantivy keeps its files in a folder of its own (index/tantivy): switching engines means
    `gongu index rebuild`, never reading the other engine's files."""
    if settings.index.backend == "tantivy":
        from index.tantivy_backend import TantivyBackend

        return TantivyBackend(index_dir(settings) / "tantivy", procs=procs)
    if procs > 1:
        from index.whoosh_backend import WhooshBackend

        return WhooshBackend(index_dir(settings), procs=procs)
    return default_backend(index_dir(settings))


def archive_root_and_catalog_path(settings: Settings) -> tuple[Path, Path]:
    return settings.resolve(settings.archive.root), settings.resolve(settings.archive.catalog)


@contextmanager
def open_catalog(settings: Settings) -> Iterator[Catalog | None]:
    """The archive catalog if there is one (read for holds and tombstones); None for a fresh home."""
    _, path = archive_root_and_catalog_path(settings)
    if not path.is_file():
        yield None
        return
    from archive.catalog import Catalog

    catalog = Catalog(path)
    try:
        yield catalog
    finally:
        catalog.close()


def subscribe_index(archive: Archive, settings: Settings) -> None:
    """Make `archive` update the search index after every committed change.

    A failing index update never undoes the archive change (archive/events.py); `gongu index rebuild`
    restores the index from the packages on disk."""
    archive.subscribe(IndexMaintainer(open_index(settings), archive.catalog))
