"""The history of a case written in the workspace's forms (catalog revision 0013): every save keeps the
whole case file as saved, with the account, the section and the JSON paths that changed, so the case page
shows who changed which fields when and any version can be restored. A save refused because another person
changed the same section first is kept too (action `refused`): what the second person typed is not lost.

`workspace_case_numbers` gives case ids from the firm's numbering pattern: one row per rendered prefix
(e.g. `SA-GC-20261207-`) holding the last sequence number given, taken inside the catalog's write lock so
two people creating cases at once never get the same id."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import (
    CheckConstraint,
    Column,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
    insert,
    select,
    update,
)

from archive.catalog import Catalog, metadata

ACTIONS = {"created": "新建", "saved": "保存", "refused": "未保存（冲突）", "restored": "恢复", "uploaded": "上传"}

workspace_case_versions_table = Table(
    "workspace_case_versions", metadata,
    Column("case_id", Text, nullable=False),
    Column("version", Integer, nullable=False),  # 1, 2, … per case, in the order saved
    Column("at", Text, nullable=False),
    Column("account", Text, nullable=False),  # username
    Column("person", Text, nullable=False),  # its registered name
    Column("section", Text, nullable=False),  # the form's section key ("" for a whole-file action)
    Column("action", Text, nullable=False),
    Column("paths", Text, nullable=False),  # JSON list of the JSON paths that changed
    Column("content", Text, nullable=False),  # the whole case.json as saved (refused: as submitted)
    Column("sha256", Text, nullable=False),  # of `content` (UTF-8)
    PrimaryKeyConstraint("case_id", "version"),
    CheckConstraint("action IN ('created', 'saved', 'refused', 'restored', 'uploaded')"),
)
workspace_case_numbers_table = Table(
    "workspace_case_numbers", metadata,
    Column("prefix", Text, primary_key=True),
    Column("last", Integer, nullable=False),
)


@dataclass(frozen=True)
class CaseVersion:
    case_id: str
    version: int
    at: str
    account: str
    person: str
    section: str
    action: str
    paths: str
    sha256: str

    @property
    def action_title(self) -> str:
        return ACTIONS.get(self.action, self.action)


_LISTED = [c for c in workspace_case_versions_table.c if c.name != "content"]


def add_version(catalog: Catalog, *, case_id: str, at: str, account: str, person: str, section: str,
                action: str, paths: str, content: str) -> int:
    """Record a version (inside the caller's write transaction); its number."""
    t = workspace_case_versions_table
    conn = catalog._writing()
    last = conn.execute(select(func.max(t.c.version)).where(t.c.case_id == case_id)).scalar()
    number = int(last or 0) + 1
    conn.execute(insert(t).values(case_id=case_id, version=number, at=at, account=account, person=person,
                                  section=section, action=action, paths=paths, content=content,
                                  sha256=hashlib.sha256(content.encode("utf-8")).hexdigest()))
    return number


def versions(catalog: Catalog, case_id: str) -> list[CaseVersion]:
    """Every version of the case, newest first, without their content."""
    t = workspace_case_versions_table
    rows = catalog._rows(select(*_LISTED).where(t.c.case_id == case_id).order_by(t.c.version.desc()))
    return [CaseVersion(**{c.name: r[c.name] for c in _LISTED}) for r in rows]


def version_content(catalog: Catalog, case_id: str, version: int) -> str | None:
    """The case file as that version saved it; None when there is no such version. A content whose digest no
    longer matches (the database edited by hand) is refused rather than restored."""
    t = workspace_case_versions_table
    row = catalog._one(select(t.c.content, t.c.sha256).where(t.c.case_id == case_id, t.c.version == version))
    if row is None:
        return None
    if hashlib.sha256(row["content"].encode("utf-8")).hexdigest() != row["sha256"]:
        raise ValueError(f"案件 {case_id} 第 {version} 版的内容与其摘要不符，不能恢复")
    return str(row["content"])


def next_number(catalog: Catalog, prefix: str) -> int:
    """The next sequence number under `prefix` (inside the caller's write transaction)."""
    t = workspace_case_numbers_table
    conn = catalog._writing()
    last = conn.execute(select(t.c.last).where(t.c.prefix == prefix)).scalar()
    if last is None:
        conn.execute(insert(t).values(prefix=prefix, last=1))
        return 1
    conn.execute(update(t).where(t.c.prefix == prefix).values(last=int(last) + 1))
    return int(last) + 1
