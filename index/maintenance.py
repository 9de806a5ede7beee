"""The index follows the archive: documents from the packages on disk, updates on archive events.

The archive is the source of truth. `archive_documents` reads every package under the archive root
(plus the catalog's tombstones of disposed packages, whose folders are gone) and is what `rebuild`
indexes; `IndexMaintainer.on_archive_event` applies one committed archive event (ingest, hold,
release, disposal) to the index, producing exactly the entry a rebuild would.

Each such event is queued in the catalog (index_queue) in the transaction that makes the change;
the maintainer removes it once applied. `apply_queued` applies what a crashed process left queued, and
`sync` also compares catalog and index and repairs any difference (`gongu index sync`, fsck --repair).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from index.backend import SearchBackend
from index.extract import IndexDocument, PackageReadError, document_from_metadata, read_package

if TYPE_CHECKING:
    from archive.catalog import Catalog, Event

log = logging.getLogger(__name__)

INGEST_EVENTS = ("ingest", "ingest_recovered")
STATUS_EVENTS = ("hold", "release")
DISPOSAL_EVENTS = ("disposal_executed",)
# the kinds archive.catalog queues for the index (INDEXED_EVENT_KINDS)
INDEXED_EVENTS = (*INGEST_EVENTS, *STATUS_EVENTS, *DISPOSAL_EVENTS)


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
    return {r["rel_path"] for r in catalog.packages(state="disposed")}


def tombstones(catalog: Catalog | None, root: Path, case_id: str | None = None) -> Iterator[IndexDocument]:
    """Disposed packages as the catalog remembers them: metadata only, status 'disposed'."""
    if catalog is None:
        return
    for row in catalog.tombstones(case_id):
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
        if self.catalog is not None and event.kind in INDEXED_EVENTS:
            self.catalog.index_done([event.seq])  # applied: no longer pending

    def on_archive_event(self, event: Event, root: Path) -> None:
        if event.kind in INGEST_EVENTS:
            rel = str(event.details["rel_path"])
            row = self.catalog.package(event.case_id or "", event.report_number or "") if self.catalog else None
            if row is not None and row["state"] == "disposed":  # replayed after the package's disposal
                self._dispose(row["case_id"], root)
                return
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


def apply_queued(backend: SearchBackend, catalog: Catalog, root: Path) -> tuple[int, list[str]]:
    """Apply the index work a crashed (or index-less) process left queued; (applied, failures)."""
    maintainer = IndexMaintainer(backend, catalog)
    done: list[int] = []
    failures: list[str] = []
    for event in catalog.pending_index_events():
        try:
            maintainer.on_archive_event(event, root)
        except (PackageReadError, OSError, ValueError, KeyError) as exc:
            failures.append(f"事件 {event.seq}（{event.kind} {event.case_id}）：{exc}")
            continue
        done.append(event.seq)
    catalog.index_done(done)
    return len(done), failures


def _expected(catalog: Catalog) -> dict[str, str]:
    """doc id (package path) → the status the index must show, from the catalog."""
    held = catalog.held_case_ids()
    return {r["rel_path"]: "disposed" if r["state"] == "disposed" else ("held" if r["case_id"] in held else "archived")
            for r in catalog.packages()}


@dataclass
class IndexDrift:
    """Differences between the catalog and the search index."""
    pending: int = 0  # queued index work not yet applied
    missing: list[str] = field(default_factory=list)  # catalogued, not in the index
    wrong_status: list[str] = field(default_factory=list)  # in the index with another status
    extra: int = 0  # index documents the catalog does not know

    @property
    def clean(self) -> bool:
        return not (self.pending or self.missing or self.wrong_status or self.extra)

    def lines(self) -> list[str]:
        out = []
        if self.pending:
            out.append(f"{self.pending} 项索引更新待完成（中断的归档/冻结/销毁之后）")
        out += [f"已归档但检索不到：{rel}" for rel in self.missing]
        out += [f"索引中的状态与目录不符：{rel}" for rel in self.wrong_status]
        if self.extra:
            out.append(f"索引中有 {self.extra} 个目录中没有的文档")
        return out


def index_drift(backend: SearchBackend, catalog: Catalog) -> IndexDrift:
    drift = IndexDrift(pending=len(catalog.pending_index_events()))
    expected = _expected(catalog)
    for rel, status in expected.items():
        doc = backend.get(rel)
        if doc is None:
            drift.missing.append(rel)
        elif doc.status != status:
            drift.wrong_status.append(rel)
    drift.extra = max(0, backend.count() - (len(expected) - len(drift.missing)))
    return drift


def sync(backend: SearchBackend, catalog: Catalog, root: Path) -> tuple[IndexDrift, list[str], list[str]]:
    """Bring the index into line with the catalog: drain the queue, then re-index every catalogued
    package the index lacks or shows with another status (a full rebuild when it holds unknown
    documents). Returns (the drift found, what was repaired, what could not be)."""
    drift = index_drift(backend, catalog)
    applied, failures = apply_queued(backend, catalog, root)
    repaired = [f"已补做 {applied} 项待完成的索引更新"] if applied else []
    if drift.extra:
        errors: list[str] = []
        count = backend.rebuild(archive_documents(root, catalog, errors=errors))
        return drift, [*repaired, f"已重建索引（{count} 个文档）"], failures + errors
    expected = _expected(catalog)
    tombs = {doc.doc_id: doc for doc in tombstones(catalog, root)}
    after = index_drift(backend, catalog)
    for rel in after.missing + after.wrong_status:
        try:
            if expected[rel] == "disposed":
                doc = tombs.get(rel)
                if doc is None:
                    failures.append(f"{rel}：已销毁但目录中没有墓碑")
                    continue
            else:
                doc = read_package(root / rel, doc_id=rel, status=expected[rel])
            backend.update(doc)
            repaired.append(f"已重新索引 {rel}")
        except (PackageReadError, OSError, ValueError) as exc:
            failures.append(f"{rel}：{exc}")
    return drift, repaired, failures
