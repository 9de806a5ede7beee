"""The work ledger's rows of archived cases (工作台账, Sichuan opinion 五(三)) kept in the catalog, so the
ledger page reads one query instead of every package on disk. The archive stores them as opaque JSON: what
a row says is the gongu layer's (gongu/pipeline/ledger.py), which computes it from the package's case file
when the package is ingested, when `gongu archive fsck --repair` finds it missing, and whenever the code or
holiday calendar it was computed with (`computed_with`) has changed. Packages remain the source of truth:
a row is a copy of what the package's case file says, and can always be computed again."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Integer, RowMapping, Table, Text, and_, delete, insert, select

from archive.catalog import Catalog, metadata, packages_table

ledger_rows_table = Table(
    "ledger_rows", metadata,
    Column("package_id", Integer, ForeignKey("packages.id"), primary_key=True, autoincrement=False),
    Column("received_on", Text, nullable=False),  # ISO Beijing date the commission was received: the period
    Column("issued_on", Text, nullable=False),  # ISO date of the archived opinion: a reissue replaces
    Column("cells", Text, nullable=False),  # the row's cells as JSON (dates ISO)
    Column("warnings", Text, nullable=False),  # JSON list of the row's warnings (an estimated calendar …)
    Column("computed_with", Text, nullable=False),  # the ledger code and calendar the row was computed with
    Index("ledger_rows_received", "received_on"),
)


def stale_packages(catalog: Catalog, kind: str, computed_with: str) -> list[RowMapping]:
    """Active packages of `kind` whose row is missing or was computed with other code or another calendar."""
    p, r = packages_table, ledger_rows_table
    return catalog._rows(select(p).select_from(p.outerjoin(r, r.c.package_id == p.c.id))
                         .where(p.c.state == "active", p.c.kind == kind)
                         .where((r.c.package_id.is_(None)) | (r.c.computed_with != computed_with))
                         .order_by(p.c.rel_path))


def put_rows(catalog: Catalog, rows: list[dict[str, Any]]) -> None:
    """Store (or replace) rows: each {package_id, received_on, issued_on, cells, warnings, computed_with}."""
    if not rows:
        return
    with catalog.write():
        conn = catalog._writing()
        conn.execute(delete(ledger_rows_table).where(ledger_rows_table.c.package_id.in_([r["package_id"] for r in rows])))
        conn.execute(insert(ledger_rows_table), [
            {"package_id": r["package_id"], "received_on": r["received_on"], "issued_on": r["issued_on"],
             "cells": json.dumps(r["cells"], ensure_ascii=False), "warnings": json.dumps(r["warnings"], ensure_ascii=False),
             "computed_with": r["computed_with"]} for r in rows])


def rows_between(catalog: Catalog, start: str, end: str) -> list[dict[str, Any]]:
    """The stored rows of active packages whose commission was received from `start` to `end` (ISO dates,
    both included), in package path order (the order the ledger once read the packages in)."""
    p, r = packages_table, ledger_rows_table
    found = catalog._rows(select(r, p.c.rel_path, p.c.case_id).select_from(r.join(p, p.c.id == r.c.package_id))
                          .where(p.c.state == "active", and_(r.c.received_on >= start, r.c.received_on <= end))
                          .order_by(p.c.rel_path))
    return [{**dict(row), "cells": json.loads(row["cells"]), "warnings": json.loads(row["warnings"])} for row in found]
