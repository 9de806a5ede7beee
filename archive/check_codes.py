"""Check codes in the archive: what a package records for each issued document that carries a code
(metadata.json `check_codes`, README.txt), the catalog's table of codes the public page reads
(gongu/web/pages_check.py), the status of a code, and withdrawal.

A code is drawn at issuance and written into the case file's issuance (generator/check_code.py); the
package records, for each document of the package with a code, the report number, kind and title, Beijing issue
date, issuer, page count, size and SHA-256 of the sealed PDF and its path in the package. The catalog
keeps a row per code filled at ingest (`register`), kept when the package is destroyed, so the page can
still say 已按保管期限销毁. Status, strongest first: 已按保管期限销毁 (package destroyed) > 已撤回 (a
"withdrawal" event) > 已被 <number> 取代 (a later package of the case supersedes this number) > 有效.

The signed log is the authority on withdrawals (a "withdrawal" event names the code, who, when and
why); the table's withdrawn_* columns are its copy, as the holds table is for holds — `lookup` reads
both and the audit compares them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Integer, Table, Text, delete, func, insert, select, update

from archive.catalog import Catalog, Event, events_table, metadata, tombstones_table
from archive.store import Archive, ArchiveError
from generator.check_code import grouped, normalize_check_code
from generator.types import beijing_date

check_codes_table = Table(
    "check_codes", metadata,
    Column("code", Text, primary_key=True),
    Column("case_id", Text, nullable=False),
    Column("package_id", Integer, ForeignKey("packages.id"), nullable=False),
    Column("report_number", Text, nullable=False),
    Column("supersedes", Text),  # the report number the document's issuance replaced (R1 → the original)
    Column("kind", Text, nullable=False),  # 公估报告, 司法鉴定意见书, 补正书 …: what the public page names
    Column("title", Text, nullable=False),  # the document's own title (case text: never shown publicly)
    Column("issued_on", Text, nullable=False),  # ISO date, Beijing
    Column("issuer", Text, nullable=False),
    Column("pages", Integer),
    Column("size", Integer),  # null (and path, pages): a superseded document this package's case file names
    Column("sha256", Text, nullable=False),
    Column("path", Text),  # "data/…" in the package
    Column("withdrawn_at", Text),
    Column("withdrawn_by", Text),
    Column("withdrawn_reason", Text),
    Index("check_codes_supersedes", "case_id", "supersedes"),
)
# Public page requests per client in the current one-minute window, shared by every web process.
check_rate_table = Table(
    "check_rate", metadata,
    Column("client", Text, primary_key=True),
    Column("window_start", Text, nullable=False),
    Column("requests", Integer, nullable=False),
)

STATUS_TITLES = {"valid": "有效", "superseded": "已被取代", "withdrawn": "已撤回", "destroyed": "已按保管期限销毁"}
# A withdrawal says why in a sentence: the public page shows it to whoever holds the document.
WITHDRAW_REASON_MIN = 8
# Used for the queries of a miss, so a miss runs the same statements as a hit (timing).
_NO_CODE = "-"


# ─────────────────────────────────────────── the package's record ───────────────────────────────────────────


def pdf_pages(path: Path) -> int | None:
    """Page count with pypdf; None for a PDF pypdf cannot read (its size and hash still identify it)."""
    from signing.embedded import ReportPdfError, page_count

    try:
        return page_count(path)
    except ReportPdfError:
        return None


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else None


def _issued_on(value: Any) -> str | None:
    try:
        return beijing_date(datetime.fromisoformat(str(value))).isoformat()
    except ValueError:
        return None


def code_records(meta: dict[str, Any], case_raw: dict[str, Any], bag: Path,
                 file_index: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The `check_codes` of a package: every document in it whose issuance (the case file's `issuances`
    under the package's report number) gave it a code. The PDF is found by the SHA-256 the issuance
    recorded (a file other than the one issued never gets the code); an issuance without a hash (older
    case files) falls back to the primary report, or a document file of the same name. Unsealed copies
    (`sealed: false`) never carry a code and are skipped whatever they say.

    Then the documents of the case's earlier issuances (numbers this report superseded: R1's case file
    still lists the original's issuance), which are not in this package — an original reissued before it
    was archived is archived nowhere else, and whoever holds it must still learn it was superseded. Their
    record has the issuance's SHA-256 and `path`, `size`, `pages` null."""
    number = meta["report"]["number"]
    files = [f for f in meta["files"] if f.get("media_type") == "application/pdf"]
    responsible = {str(r.get("path")): r.get("responsible") for r in (file_index or {}).get("entries") or []
                   if isinstance(r, dict)}
    forensic = meta.get("forensic") if isinstance(meta.get("forensic"), dict) else None
    primary_issuer = forensic["institution"]["name"] if forensic else meta["parties"]["firm"]
    # the kind, not the title: a report's title may name the insured or the project
    primary_kind = ("终止鉴定告知书" if forensic.get("termination") else "司法鉴定意见书") if forensic else "公估报告"
    out: list[dict[str, Any]] = []

    def find(digest: Any, name: Any, role: str) -> dict[str, Any] | None:
        if isinstance(digest, str) and digest:
            return next((f for f in files if f["sha256"] == digest and f["role"] == role), None)
        base = Path(str(name)).name if name else None
        return next((f for f in files if f["role"] == role and (role == "report" or Path(f["path"]).name == base)), None)

    def add(code: Any, entry: dict[str, Any] | None, kind: str, title: str, issuer: str, issuance: dict[str, Any]) -> None:
        canonical = normalize_check_code(code) if isinstance(code, str) else None
        issued_on = _issued_on(issuance.get("issued_at"))
        if canonical is None or entry is None or issued_on is None or any(r["code"] == canonical for r in out):
            return
        held = "path" in entry  # a file of this package; else only the issuance's hash is known
        out.append({"code": canonical, "report_number": str(issuance.get("number")),
                    "supersedes": issuance.get("supersedes"), "kind": kind, "title": title, "issued_on": issued_on,
                    "issuer": issuer, "pages": pdf_pages(bag / entry["path"]) if held else None,
                    "size": entry["size"] if held else None, "sha256": entry["sha256"],
                    "path": entry["path"] if held else None})

    def earlier(digest: Any) -> dict[str, Any] | None:
        return {"sha256": digest} if isinstance(digest, str) and len(digest) == 64 else None

    for issuance in case_raw.get("issuances") or []:
        if not isinstance(issuance, dict) or issuance.get("number") != number or issuance.get("sealed") is False:
            continue
        if issuance.get("pdf_file") or issuance.get("pdf_sha256"):
            add(issuance.get("check_code"), find(issuance.get("pdf_sha256"), issuance.get("pdf_file"), "report"),
                primary_kind, str(meta["report"]["title"] or primary_kind), primary_issuer, issuance)
        for doc in issuance.get("documents") or []:
            entry = find(_field(doc, "pdf_sha256"), _field(doc, "pdf_file"), "document")
            title = str(_field(doc, "title") or _field(doc, "key") or "鉴定文书")
            issuer = str(responsible.get(entry["path"]) or primary_issuer) if entry else primary_issuer
            add(_field(doc, "check_code"), entry, title, title, issuer, issuance)
    for issuance in case_raw.get("issuances") or []:
        if not isinstance(issuance, dict) or issuance.get("number") in (None, number) or issuance.get("sealed") is False:
            continue
        add(issuance.get("check_code"), earlier(issuance.get("pdf_sha256")), primary_kind, primary_kind,
            primary_issuer, issuance)
        for doc in issuance.get("documents") or []:
            title = str(_field(doc, "title") or _field(doc, "key") or "鉴定文书")
            add(_field(doc, "check_code"), earlier(_field(doc, "pdf_sha256")), title, title, primary_issuer, issuance)
    return out


def package_code_record(package_dir: Path, code: str) -> dict[str, Any] | None:
    """The package's own record of `code` (metadata.json `check_codes`), None when the package has none:
    what `gongu verify --package DIR` compares a file's SHA-256 with."""
    from archive.package_format import open_package

    canonical = normalize_check_code(code)
    if canonical is None:
        return None
    found = open_package(package_dir).metadata.get("check_codes") or []
    return next((dict(r) for r in found if isinstance(r, dict) and r.get("code") == canonical), None)


# ─────────────────────────────────────────────── the catalog ───────────────────────────────────────────────


def add_rows(catalog: Catalog, package_id: int, case_id: str, records: list[dict[str, Any]]) -> int:
    """Rows for a package's code records (inside the write transaction that registers it). A code already
    present is left as it is (a re-registration), except a row known only from a later package's case file
    (no path), which the package holding the document itself replaces. Returns how many rows were written."""
    t = check_codes_table
    conn = catalog._writing()
    written = 0
    for r in records:
        values = {"case_id": case_id, "package_id": package_id, "report_number": r["report_number"],
                  "supersedes": r.get("supersedes"), "kind": r.get("kind") or r["title"], "title": r["title"],
                  "issued_on": r["issued_on"], "issuer": r["issuer"], "pages": r.get("pages"), "size": r.get("size"),
                  "sha256": r["sha256"], "path": r.get("path")}
        found = conn.execute(select(t.c.path).where(t.c.code == r["code"])).first()
        if found is None:
            conn.execute(insert(t).values(code=r["code"], **values))
        elif found[0] is None and r.get("path"):
            conn.execute(update(t).where(t.c.code == r["code"]).values(**values))
        else:
            continue
        written += 1
    return written


def package_has_rows(catalog: Catalog, package_id: int) -> bool:
    return bool(catalog._scalar(select(func.count()).select_from(check_codes_table)
                                .where(check_codes_table.c.package_id == package_id)))


@dataclass(frozen=True)
class CodeRecord:
    """A code as the public page shows it (nothing personal: no party, no 被鉴定人) with its status."""

    code: str
    case_id: str  # never shown publicly; names the case in the log
    report_number: str
    kind: str
    issued_on: date
    issuer: str
    pages: int | None
    size: int | None  # None (and path): a superseded document known from a later package's case file
    sha256: str
    path: str | None
    package_id: int
    status: str  # valid | superseded | withdrawn | destroyed
    successor: str | None = None
    withdrawn_at: str | None = None
    withdrawn_by: str | None = None
    withdrawn_reason: str | None = None
    destroyed_at: str | None = None

    @property
    def status_text(self) -> str:
        if self.status == "superseded":
            return f"已被 {self.successor} 取代"
        return STATUS_TITLES[self.status]


def lookup(catalog: Catalog, code: str) -> CodeRecord | None:
    """The record and status of `code` (any typed form), None when unknown or malformed. The same four
    statements run for a miss as for a hit, so the answer's timing does not tell them apart. A withdrawal
    is read from the signed log as well as from the table (the log is the authority: a row "un-withdrawn"
    by SQL still shows 已撤回)."""
    canonical = normalize_check_code(code) or _NO_CODE
    t = check_codes_table
    row = catalog._one(select(t).where(t.c.code == canonical))
    case_id, number, package_id = (row["case_id"], row["report_number"], row["package_id"]) if row else (_NO_CODE, _NO_CODE, -1)
    successor = catalog._scalar(select(func.min(t.c.report_number)).where(
        t.c.case_id == case_id, t.c.supersedes == number, t.c.report_number != number))
    tombs = catalog._scalar(select(tombstones_table.c.disposed_at).where(tombstones_table.c.package_id == package_id))
    logged = [Event.from_entry(r["entry"]) for r in catalog._rows(select(events_table.c.entry).where(
        events_table.c.kind == "withdrawal", events_table.c.case_id == case_id).order_by(events_table.c.seq))]
    if row is None:
        return None
    withdrawn = next((e for e in logged if e.details.get("code") == canonical), None)
    at, by, reason = ((withdrawn.at, withdrawn.actor, str(withdrawn.details.get("reason") or "")) if withdrawn
                      else (row["withdrawn_at"], row["withdrawn_by"], row["withdrawn_reason"]))
    if tombs is not None:
        status = "destroyed"
    elif at:
        status = "withdrawn"
    elif successor:
        status = "superseded"
    else:
        status = "valid"
    return CodeRecord(code=row["code"], case_id=row["case_id"], report_number=row["report_number"], kind=row["kind"],
                      issued_on=date.fromisoformat(row["issued_on"]), issuer=row["issuer"], pages=row["pages"],
                      size=row["size"], sha256=row["sha256"], path=row["path"], package_id=row["package_id"],
                      status=status, successor=successor, withdrawn_at=at, withdrawn_by=by, withdrawn_reason=reason,
                      destroyed_at=tombs)


def case_codes(catalog: Catalog, case_id: str) -> list[CodeRecord]:
    """Every code of a case with its status, by report number (the archivist's package page)."""
    t = check_codes_table
    codes = [r["code"] for r in catalog._rows(select(t.c.code).where(t.c.case_id == case_id)
                                              .order_by(t.c.report_number, t.c.code))]
    return [found for code in codes if (found := lookup(catalog, code)) is not None]


def withdraw(archive: Archive, code: str, *, reason: str, by: str, credential: dict[str, Any] | None = None) -> CodeRecord:
    """Withdraw an issued document (已撤回): the public page says so with the date and reason from then
    on. Recorded as a "withdrawal" event in the signed log with the change; never undone."""
    archive.require_root()
    canonical = normalize_check_code(code)
    if canonical is None:
        raise ArchiveError(f"校验码 {code!r} 格式不对：应为 20 位（可带连字符，四位一组）")
    if not by.strip():
        raise ArchiveError("撤回须写明操作人（--by）")
    shown = reason.strip()
    if len("".join(shown.split())) < WITHDRAW_REASON_MIN:
        raise ArchiveError(f"撤回原因须写明事由，至少 {WITHDRAW_REASON_MIN} 个字（收到 {shown!r}）：公开校验页会向持有人显示")
    cat = archive.catalog
    with cat.write():
        record = lookup(cat, canonical)
        if record is None:
            raise ArchiveError(f"档案中没有校验码 {grouped(canonical)}")
        if record.status == "destroyed":
            raise ArchiveError(f"校验码 {grouped(canonical)} 的文书所在档案已按保管期限销毁，不能再撤回")
        if record.withdrawn_at:
            raise ArchiveError(f"校验码 {grouped(canonical)} 的文书已于 {record.withdrawn_at} 撤回")
        at = archive.now()
        cat._writing().execute(update(check_codes_table).where(check_codes_table.c.code == canonical).values(
            withdrawn_at=at.isoformat(), withdrawn_by=by, withdrawn_reason=shown))
        details: dict[str, Any] = {"code": canonical, "kind": record.kind, "reason": shown}
        if credential is not None:
            details["credential"] = credential
        event = cat.append_event("withdrawal", at, by, record.case_id, record.report_number, details)
    archive.committed([event])
    found = lookup(cat, canonical)
    assert found is not None
    return found


def withdrawal_log_problems(catalog: Catalog) -> list[str]:
    """Withdrawals the table and the signed log disagree on (a row changed by hand)."""
    logged = {e.details.get("code"): e for e in catalog.events() if e.kind == "withdrawal"}
    rows = catalog._rows(select(check_codes_table.c.code, check_codes_table.c.withdrawn_at))
    problems = [f"校验码 {grouped(r['code'])} 在目录中记为已撤回，但日志中没有撤回事件"
                for r in rows if r["withdrawn_at"] and r["code"] not in logged]
    problems += [f"日志记录了校验码 {grouped(str(c))} 的撤回，目录中却未记为已撤回"
                 for c in logged if not any(r["code"] == c and r["withdrawn_at"] for r in rows)]
    return problems


# ──────────────────────────────────────────────── rate limit ────────────────────────────────────────────────


def count_request(catalog: Catalog, client: str, now: datetime, limit: int) -> int:
    """Count one public-page request of `client` in the current minute (inside a write transaction) and
    return its number in the window: over `limit` means refuse (429). Shared by every web process."""
    conn = catalog._writing()
    t = check_rate_table
    row = conn.execute(select(t.c.window_start, t.c.requests).where(t.c.client == client)).first()
    if row is None:
        # a new client: rows of windows long past go, so the table holds only recent clients
        conn.execute(delete(t).where(t.c.window_start < (now - timedelta(minutes=10)).isoformat()))
        conn.execute(insert(t).values(client=client, window_start=now.isoformat(), requests=1))
        return 1
    started = datetime.fromisoformat(row[0])
    if not 0 <= (now - started).total_seconds() < 60:
        conn.execute(update(t).where(t.c.client == client).values(window_start=now.isoformat(), requests=1))
        return 1
    conn.execute(update(t).where(t.c.client == client).values(requests=row[1] + 1))
    return int(row[1]) + 1


# ──────────────────────────────────────────────── backfill ────────────────────────────────────────────────


def backfill(archive: Archive, *, repair: bool) -> list[str]:
    """Active packages whose codes are not in the catalog (ingested before the catalog had the table, or a
    catalog rebuilt by fsck): their records are read from metadata.json `check_codes`, or — for a package
    written before packages recorded codes — worked out from the package's own case file and PDFs the
    same way ingest does. Returns what was found (with `repair`: registered)."""
    from archive.forensic_metadata import FILE_INDEX_JSON
    from archive.package_format import PackageFormatError, open_package

    found: list[str] = []
    for row in archive.catalog.packages(state="active"):
        if package_has_rows(archive.catalog, row["id"]):
            continue
        path = archive.root.joinpath(*row["rel_path"].split("/"))
        try:
            pkg = open_package(path)
            records = pkg.metadata.get("check_codes")
            if records is None:
                raw = json.loads(pkg.case_file_bytes())
                index_file = path / FILE_INDEX_JSON
                index = json.loads(index_file.read_text(encoding="utf-8")) if index_file.is_file() else None
                records = code_records(pkg.metadata, raw, path, index)
        except (PackageFormatError, OSError, ValueError):
            continue  # a missing or unreadable package is fsck's other report
        if not records:
            continue
        found.append(f"{row['rel_path']}：{len(records)} 个校验码未入目录")
        if repair:
            with archive.catalog.write():
                add_rows(archive.catalog, row["id"], row["case_id"], records)
    return found
