"""The work ledger's rows of archived cases, kept in the catalog (archive/ledger_rows.py) so the ledger page
reads one query, not every package on disk: each row is computed from the package's case file by the same
`ledger_row` the export uses — when the package is ingested (a listener on the archive's ingest events),
by `gongu archive fsck --repair` for packages ingested before, and again for any row computed with other
ledger code or another holiday calendar (`computed_with`). Light to import: the case models load only when
a row is computed."""

from __future__ import annotations

import hashlib
from dataclasses import fields
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from archive.catalog import Catalog, Event
    from archive.store import Archive
    from gongu.pipeline.ledger import LedgerRow, StoredRow

FORENSIC = "forensic_appraisal"
# The package a row's warning names is written when the row is read (the archive root may have moved).
_WHERE = "\x00"


def computed_with() -> str:
    """The ledger code's version and the holiday calendar in use (every official year's file hash)."""
    from generator.forensic.holiday_calendar import active_calendar
    from gongu.pipeline.ledger import LEDGER_ROW_VERSION

    years = sorted(active_calendar().official.items())
    digest = hashlib.sha256("|".join(f"{y}:{c.sha256}" for y, c in years).encode()).hexdigest()[:16]
    return f"{LEDGER_ROW_VERSION}:{digest}"


def _cells(row: LedgerRow) -> dict[str, Any]:
    return {f.name: (v.isoformat() if isinstance(v, date) else v) for f in fields(row) for v in [getattr(row, f.name)]}


def _row(cells: dict[str, Any]) -> LedgerRow:
    from gongu.pipeline.ledger import COLUMNS, LedgerRow

    dated = {c.key for c in COLUMNS if c.is_date}
    return LedgerRow(**{k: date.fromisoformat(v) if k in dated and v is not None else v for k, v in cells.items()})


def compute(package: Any, root: Path, version: str) -> dict[str, Any]:
    """The stored form of one forensic package's row (package: its catalog row), from its case file;
    LedgerSourceError when the package or its case file cannot be read (the ledger is then not made)."""
    from gongu.pipeline.ledger import LedgerCase, Source, ledger_row
    from gongu.pipeline.ledger_sources import LedgerSourceError, archived_case

    bag = root.joinpath(*package["rel_path"].split("/"))
    case = archived_case(bag)
    if case is None:
        raise LedgerSourceError(f"目录登记为司法鉴定的档案包中不是司法鉴定案件文件，未生成台账：{bag}（请运行 gongu archive audit）")
    warnings: list[str] = []
    row = ledger_row(LedgerCase(case, Source.archive, _WHERE), warnings)
    return {"package_id": package["id"], "received_on": row.received_on.isoformat(),
            "issued_on": case.report.issued_on.isoformat(), "cells": _cells(row), "warnings": warnings,
            "computed_with": version}


def fill(catalog: Catalog, root: Path) -> tuple[list[dict[str, Any]], bool]:
    """Compute the rows missing or stale in the catalog and store them; returns them (each with its
    package's rel_path) and whether they were stored — a catalog that refuses the write (read-only) still
    gets its rows shown, computed again by the next reader who may write, or by fsck --repair."""
    from archive.catalog import CatalogError
    from archive.ledger_rows import put_rows, stale_packages

    version = computed_with()
    rows = [{**compute(p, root, version), "rel_path": p["rel_path"]} for p in stale_packages(catalog, FORENSIC, version)]
    try:
        put_rows(catalog, rows)
    except CatalogError:
        return rows, False
    return rows, True


def stored_rows(catalog: Catalog, root: Path, start: date, end: date) -> list[StoredRow]:
    """The archived cases' rows for the period, from the catalog (computing first any that are missing
    or stale), in package path order."""
    from archive.ledger_rows import rows_between
    from gongu.pipeline.ledger import StoredRow

    computed, stored = fill(catalog, root)
    first, last = start.isoformat(), end.isoformat()
    found = {r["package_id"]: r for r in rows_between(catalog, first, last)}
    if not stored:
        found.update({r["package_id"]: r for r in computed if first <= r["received_on"] <= last})
    out = []
    for r in sorted(found.values(), key=lambda r: r["rel_path"]):
        warnings = r["warnings"]
        if warnings:
            where = str(root.joinpath(*r["rel_path"].split("/")))
            warnings = [w.replace(_WHERE, where) for w in warnings]
        out.append(StoredRow(_row(r["cells"]), date.fromisoformat(r["issued_on"]), tuple(warnings)))
    return out


def subscribe_ledger(archive: Archive) -> None:
    """Compute the ledger row of each forensic package as it is ingested (or registered by fsck)."""
    catalog = archive.catalog

    def on_event(event: Event, root: Path) -> None:
        if event.kind not in ("ingest", "ingest_recovered") or not event.case_id or not event.report_number:
            return
        package = catalog.package(event.case_id, event.report_number)
        if package is None or package["kind"] != FORENSIC:
            return
        from archive.ledger_rows import put_rows

        put_rows(catalog, [compute(package, root, computed_with())])

    archive.subscribe(on_event)
