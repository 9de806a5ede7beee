"""A report number belongs to one report: before a case is uploaded, submitted or issued under a number,
the catalog's packages (archived, and disposed: a tombstoned number is not free again) and the
workspace's issued copies of other cases are asked whether that number is already taken. A corrected
reissue takes a new number (`…R1`, generator.issuance.reissue_number); a new report takes its own."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import and_, select

from archive.catalog import Catalog, packages_table
from gongu.settings import Settings

ADVICE = "同一报告编号只能属于一份报告：更正重出请用 gongu issue --reissue（编号加 R1、R2 …），新报告请另编报告编号"


def number_problems(catalog: Catalog, home: Path, case_id: str, number: str, *, stem: str | None = None) -> list[str]:
    """Why `number` cannot be this case's (empty when it is free): a package of it in the catalog (of any
    case: this case's own archived report too, which a new upload must not issue again), another workspace
    case issued or archived under it, or another case's issued copy named `stem` (the number as a file name)."""
    from archive.workspace import workspace_cases_table as w

    out = []
    p = packages_table
    for row in catalog._rows(select(p.c.case_id, p.c.rel_path, p.c.state).where(p.c.report_number == number)):
        state = "已销毁（留有销毁记录）" if row["state"] == "disposed" else "已归档"
        out.append(f"报告编号 {number} {state}：案件 {row['case_id']} 的档案包 {row['rel_path']}。{ADVICE}")
    others = catalog._rows(select(w.c.case_id, w.c.status).where(and_(
        w.c.report_number == number, w.c.case_id != case_id, w.c.status.in_(("issued", "archived")))))
    for row in others:
        out.append(f"报告编号 {number} 已由工作台案件 {row['case_id']} 出具。{ADVICE}")
    if stem:
        copies = sorted(p for p in (home / "issued").glob(f"*/{stem}.pdf") if p.parent.name != case_id)
        out += [f"报告编号 {number} 已有出具的报告 {c.relative_to(home)}（案件 {c.parent.name}）。{ADVICE}" for c in copies
                if not any(c.parent.name in r for r in out)]
    return out


def taken_number_reasons(settings: Settings, case_id: str, number: str) -> list[str]:
    """`number_problems` against the catalog of `settings` (none yet: nothing is taken; none is created here)."""
    from gongu.pipeline.issued_opinion import open_catalog

    catalog = open_catalog(settings)
    if catalog is None:
        return []
    try:
        return number_problems(catalog, settings.home, case_id, number)
    finally:
        catalog.close()
