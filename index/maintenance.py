"""The index follows the archive: documents from the packages on disk, updates on archive events.

The archive is the source of truth. `archive_documents` reads every package under the archive root
(plus the catalog's tombstones of disposed packages, whose folders are gone) and is what `rebuild`
indexes; `IndexMaintainer.on_archive_event` applies one committed archive event (ingest, hold,
release, disposal) to the index, producing exactly the entry a rebuild would.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.api import SearchBackend
from index.extract import IndexDocument, PackageReadError, document_from_metadata, read_package

if TYPE_CHECKING:
    from archive.catalog import Catalog, Event

log = logging.getLogger(__name__)

INGEST_EVENTS = ("ingest", "ingest_recovered")
STATUS_EVENTS = ("hold", "release")
DISPOSAL_EVENTS = ("disposal_executed",)


def _iter_bags(root: Path) -> Iterator[Path]:
    from archive.package import iter_bags

    yield from iter_bags(root)


def package_on_disk(package_dir: Path) -> bool:
    """Is the package still there? (bagit.txt and data/ — the format's minimum, docs/package-format.md)"""
    from archive.package import is_bag

    return is_bag(package_dir)


def rel_path(root: Path, package_dir: Path) -> str:
    return package_dir.resolve().relative_to(root.resolve()).as_posix()


def case_status(catalog: Catalog | None, case_id: str) -> str:
    """held while any hold on the case is unreleased (litigation, dispute, regulator), else archived."""
    if catalog is None:
        return "archived"
    return "held" if catalog.active_holds(case_id) else "archived"


def _disposed_rel_paths(catalog: Catalog | None) -> set[str]:
    if catalog is None:
        return set()
    rows = catalog.conn.execute("SELECT rel_path FROM packages WHERE state = 'disposed'").fetchall()
    return {r["rel_path"] for r in rows}


def tombstones(catalog: Catalog | None, root: Path, case_id: str | None = None) -> Iterator[IndexDocument]:
    """Disposed packages as the catalog remembers them: metadata only, status 'disposed'."""
    if catalog is None:
        return
    sql = "SELECT rel_path, metadata FROM tombstones"
    args: tuple[Any, ...] = ()
    if case_id is not None:
        sql += " WHERE case_id = ?"
        args = (case_id,)
    try:
        rows = catalog.conn.execute(sql + " ORDER BY rel_path", args).fetchall()
    except sqlite3.OperationalError:  # a catalog from before tombstones existed
        return
    for row in rows:
        meta = json.loads(row["metadata"])
        yield document_from_metadata(meta, doc_id=row["rel_path"], package_path=row["rel_path"], status="disposed")


def archive_documents(root: Path, catalog: Catalog | None = None, *, errors: list[str] | None = None) -> Iterator[IndexDocument]:
    """Everything the index should hold, read from disk (and the catalog for holds and tombstones).

    A package that cannot be read is reported in `errors` and skipped: one damaged package must not
    stop the rest of the archive from being searchable (fsck/audit are where damage is dealt with).
    So is a package the catalog lists as kept but which is not on disk: an incident, never a quiet
    omission from search."""
    disposed = _disposed_rel_paths(catalog)
    seen: set[str] = set()
    for bag in _iter_bags(root):
        rel = rel_path(root, bag)
        if rel in disposed:
            continue
        seen.add(rel)
        try:
            doc = read_package(bag, doc_id=rel)
        except (PackageReadError, OSError, ValueError) as exc:
            if errors is None:
                raise
            errors.append(f"{rel}：{exc}")
            continue
        yield replace(doc, status=case_status(catalog, doc.case_id))
    for rel in _active_rel_paths(catalog) - seen:
        problem = f"{rel}：目录登记为在库，但档案包不在磁盘上（事故：请运行 gongu archive audit，从备份恢复）"
        if errors is None:
            raise PackageReadError(problem)
        errors.append(problem)
    yield from tombstones(catalog, root)


def _active_rel_paths(catalog: Catalog | None) -> set[str]:
    if catalog is None:
        return set()
    return {r["rel_path"] for r in catalog.packages(state="active")}


class IndexMaintainer:
    """An archive listener (archive/events.py: `callback(event, root)`) keeping one backend current."""

    def __init__(self, backend: SearchBackend, catalog: Catalog | None = None) -> None:
        self.backend = backend
        self.catalog = catalog

    def __call__(self, event: Event, root: Path) -> None:
        self.on_archive_event(event, root)

    def on_archive_event(self, event: Event, root: Path) -> None:
        if event.kind in INGEST_EVENTS:
            rel = str(event.details["rel_path"])
            status = case_status(self.catalog, event.case_id or "")
            self.backend.update(read_package(root / rel, doc_id=rel, status=status))
        elif event.kind in STATUS_EVENTS and event.case_id:
            status = case_status(self.catalog, event.case_id) if self.catalog is not None else (
                "held" if event.kind == "hold" else "archived")
            for doc_id in self.backend.doc_ids_for_case(event.case_id):
                doc = self.backend.get(doc_id)
                if doc is not None and doc.status != "disposed" and doc.status != status:
                    self.backend.update(replace(doc, status=status))
        elif event.kind in DISPOSAL_EVENTS and event.case_id:
            self._dispose(event.case_id, root)

    def _dispose(self, case_id: str, root: Path) -> None:
        """The text leaves the index; the tombstone stays findable as 'disposed'."""
        done = set()
        for doc in tombstones(self.catalog, root, case_id):
            self.backend.update(doc)
            done.add(doc.doc_id)
        for doc_id in self.backend.doc_ids_for_case(case_id):
            if doc_id in done:
                continue
            doc = self.backend.get(doc_id)
            if doc is not None:
                self.backend.update(doc.tombstone())


def on_archive_event(event: Event, root: Path, backend: SearchBackend, catalog: Catalog | None = None) -> None:
    """Module-level form of the hook, for callers holding no maintainer."""
    IndexMaintainer(backend, catalog).on_archive_event(event, root)
