"""What the web workspace's forensic pages show, gathered from the same functions the CLI uses:
the documents of a case (generator/forensic/documents.py DOCUMENTS, rendered by
generator.render.render_case_documents as `gongu render`), its time limits (`gongu adjust`), its rule
findings by clause (`gongu check`), its draw record and verification (`gongu draw verify`) and the
work ledger (`gongu ledger export`). No web objects here: plain data, unit-tested without a server.

Cases are read from the workspace store's folders, GONGU_HOME/workspace/<case_id>/case.json (the
layout of WEB_SPEC "Workspace store"); only the forensic kind is listed."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from generator.atomic import atomic_write
from generator.forensic import draw
from generator.forensic.documents import DOCUMENTS, build_documents
from generator.forensic.holiday_calendar import CalendarFileError
from generator.forensic.model import ForensicAppraisalCase
from generator.forensic.workdays import CalendarNotCovered, beijing_date, calendar_note, time_limits
from generator.loading import CaseFileError, LoadedCase, load_case
from generator.problems import Problem
from generator.rules import Finding, run_rules
from generator.rules.registry import SEVERITY_TITLES, clause_key
from gongu.pipeline.adjust_view import time_limits_rows
from gongu.pipeline.draw_records import DrawRecordError, read_record
from gongu.pipeline.issued_opinion import find_issued_opinion
from gongu.pipeline.ledger import Ledger, LedgerCase, build_ledger
from gongu.pipeline.ledger_export import to_csv, to_xlsx
from gongu.pipeline.ledger_sources import FORENSIC, cases_from_archive, cases_from_folder, kind_of
from gongu.settings import Settings

WORKSPACE = "workspace"
# A case id names a folder: no separators, no dot-dot (it comes from a URL).
CASE_ID = re.compile(r"^[0-9A-Za-z\u4e00-\u9fff][0-9A-Za-z\u4e00-\u9fff_.-]{0,63}$")
COMMISSION_TITLES = {"joint": "共同委托", "single": "单方委托"}
SELECTION_TITLES = {"agreement": "协商选定", "random_draw": "随机选定"}


class CaseNotFound(LookupError):
    """No forensic case of that id in the workspace."""


def workspace_root(home: Path) -> Path:
    return home / WORKSPACE


# ─────────────────────────────────────────── the cases ────────────────────────────────────────


@dataclass(frozen=True)
class CaseSummary:
    case_id: str
    case_name: str
    institution: str
    received_on: date
    commission: str  # 共同委托 / 单方委托
    selection: str  # 协商选定 / 随机选定
    has_draw: bool


def forensic_case_files(home: Path) -> list[Path]:
    """case.json of every forensic case in the workspace, by folder name (survey cases are skipped)."""
    root = workspace_root(home)
    if not root.is_dir():
        return []
    out = []
    for path in sorted(root.glob("*/case.json")):
        try:
            raw = path.read_bytes()
        except OSError:
            continue
        if kind_of(raw) == FORENSIC:
            out.append(path)
    return out


def list_cases(home: Path) -> tuple[list[CaseSummary], list[tuple[str, list[Problem]]]]:
    """The forensic cases (valid ones) and, apart, every invalid case file with its problems."""
    cases: list[CaseSummary] = []
    invalid: list[tuple[str, list[Problem]]] = []
    for path in forensic_case_files(home):
        try:
            loaded = load_case(path)
        except CaseFileError as exc:
            invalid.append((path.parent.name, exc.problems))
            continue
        c = loaded.case
        assert isinstance(c, ForensicAppraisalCase)
        cases.append(CaseSummary(c.case_id, c.case_name, c.institution.name, beijing_date(c.timeline.received_at),
                                 COMMISSION_TITLES[c.commission.kind.value], SELECTION_TITLES[c.selection.method.value],
                                 c.selection.draw_record is not None))
    return cases, invalid


def load_forensic_case(home: Path, case_id: str) -> LoadedCase:
    """The case of that id (its folder's case.json); CaseNotFound for an unknown id or another kind,
    CaseFileError (with JSON paths) for an invalid file."""
    if not CASE_ID.match(case_id):
        raise CaseNotFound(case_id)
    path = workspace_root(home) / case_id / "case.json"
    if not path.is_file():
        raise CaseNotFound(case_id)
    loaded = load_case(path)
    if not isinstance(loaded.case, ForensicAppraisalCase):
        raise CaseNotFound(case_id)
    return loaded


# ─────────────────────────────────────────── documents ────────────────────────────────────────


@dataclass(frozen=True)
class DocumentState:
    key: str  # the rendered document's key: "opinion", "correction-1" …; the registry key when not needed
    title: str
    basis: str
    number: str | None
    needed: bool
    state: str  # 不需要 / 待出具 / 已出具（报告编号）


def _issued_keys(case: ForensicAppraisalCase) -> dict[str, str]:
    """Document key → the number of the issuance that issued it (the latest issuance wins)."""
    out: dict[str, str] = {}
    for iss in case.issuances:
        if iss.pdf_file or iss.docx_file:
            primary = "termination" if case.termination is not None else "opinion"
            out[primary] = iss.number
        for d in iss.documents:
            out[d.key] = iss.number
    return out


def document_states(loaded: LoadedCase) -> list[DocumentState]:
    """Every kind of document of the registry, in its order: the ones the case needs (one row per
    document built, e.g. per correction) with 待出具 / 已出具, then the ones it does not need."""
    case = loaded.case
    assert isinstance(case, ForensicAppraisalCase)
    built = build_documents(case, loaded.source.parent.resolve())
    issued = _issued_keys(case)
    rows: list[DocumentState] = []
    unneeded: list[DocumentState] = []
    for spec in DOCUMENTS:
        if not spec.needed(case):
            unneeded.append(DocumentState(spec.key, spec.title, spec.basis, None, False, "不需要"))
            continue
        for d in built:
            if d.key == spec.key or d.key.startswith(spec.key + "-"):
                number = issued.get(d.key)
                rows.append(DocumentState(d.key, d.title, d.basis, d.number, True,
                                          f"已出具（{number}）" if number else "待出具"))
    return rows + unneeded


def _case_digest(loaded: LoadedCase) -> str:
    """The case bytes plus every file beside it that a document reads (draw record, scans): a change
    to any of them renders again."""
    h = hashlib.sha256(loaded.raw)
    folder = loaded.source.parent
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p != loaded.source:
            h.update(str(p.relative_to(folder)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class RenderedFiles:
    key: str
    title: str
    pdf: Path | None
    docx: Path | None
    pages: int


def rendered_document(loaded: LoadedCase, key: str, cache: Path) -> RenderedFiles | None:
    """One document of the case rendered as `gongu render` renders it (PDF/A-3a + DOCX, the same
    function for one document), kept under `cache/<case_id>/<digest>/` so a page view does not render
    again while the case folder is unchanged; None when the case has no document of that key."""
    from generator.render import render_forensic_document  # WeasyPrint: loaded on first use only

    out_dir = cache / loaded.case.case_id / _case_digest(loaded)
    index = out_dir / f"{key}.index"
    if key not in {d.key for d in document_states(loaded) if d.needed}:
        return None
    if not index.is_file():
        d = render_forensic_document(loaded, key, out_dir)
        assert d is not None
        line = f"{d.title}\t{d.pdf.name if d.pdf else ''}\t{d.docx.name if d.docx else ''}\t{d.pages}"
        atomic_write(index, line.encode("utf-8"))  # written last: its presence means both files are there
    title, pdf, docx, pages = index.read_text(encoding="utf-8").split("\t")
    return RenderedFiles(key, title, out_dir / pdf if pdf else None, out_dir / docx if docx else None, int(pages))


# ─────────────────────────────────────────── time limits, findings ────────────────────────────


def time_limit_table(case: ForensicAppraisalCase) -> tuple[list[tuple[str, str, str, str]], str | None, str | None]:
    """The rows `gongu adjust` prints for the case, the reason when they cannot be counted (a year that
    cannot be estimated, a firm calendar file that is wrong), and the 估算 note naming the years to add."""
    try:
        limits = time_limits(case)
    except (CalendarNotCovered, CalendarFileError) as exc:
        return [], str(exc), None
    return time_limits_rows(case, limits), None, calendar_note(limits)


@dataclass
class ClauseFindings:
    clause: str
    findings: list[Finding] = field(default_factory=list)


def findings_by_clause(loaded: LoadedCase, stage: str = "issue", settings: Settings | None = None) -> list[ClauseFindings]:
    """`gongu check` for the case, grouped by article in the order of the code (clause_key). With `settings`,
    an opinion already issued is looked for and held against later corrections, as `gongu check` does
    (通则 Art 41, gongu.pipeline.issued_opinion)."""
    issued = find_issued_opinion(loaded.case, settings).opinion if settings is not None else None
    findings = run_rules(loaded.case, stage=stage, case_dir=loaded.source.parent, issued=issued)  # type: ignore[arg-type]
    groups: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        groups[f.clause].append(f)
    return [ClauseFindings(c, groups[c]) for c in sorted(groups, key=clause_key)]


def severity_title(f: Finding) -> str:
    return SEVERITY_TITLES[f.severity]


# ─────────────────────────────────────────── the draw ─────────────────────────────────────────


@dataclass
class DrawView:
    path: Path
    record: dict[str, Any] | None
    sha256: str | None
    error: str | None  # the file cannot be read
    problems: list[Problem]  # draw.verify_record: empty = re-computes identically

    @property
    def verified(self) -> bool:
        return self.record is not None and not self.problems


def draw_record_path(loaded: LoadedCase) -> Path | None:
    case = loaded.case
    assert isinstance(case, ForensicAppraisalCase)
    name = case.selection.draw_record
    return loaded.source.parent / name if name else None


def draw_view(loaded: LoadedCase) -> DrawView | None:
    """The case's draw record with its verification (`gongu draw verify`), or None without a record."""
    path = draw_record_path(loaded)
    if path is None:
        return None
    try:
        record = read_record(path)
    except DrawRecordError as exc:
        return DrawView(path, None, None, str(exc), [])
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    return DrawView(path, record, sha, None, draw.verify_record(record))


# ─────────────────────────────────────────── the ledger ───────────────────────────────────────


def workspace_ledger(home: Path, archive_root: Path | None, start: date, end: date, catalog: Any = None) -> Ledger:
    """`gongu ledger export` over the archive's packages and the workspace's cases in progress;
    LedgerSourceError when a case or package cannot be read (nothing is listed then). With the archive's
    `catalog` (archive.catalog.Catalog), the archived cases' rows are the ones it keeps
    (gongu/pipeline/ledger_rows.py), not read from every package."""
    from gongu.pipeline.ledger_rows import stored_rows

    stored = stored_rows(catalog, archive_root, start, end) if catalog is not None and archive_root is not None else []
    archived, _ = cases_from_archive(archive_root) if archive_root is not None and catalog is None else ([], 0)
    folder = workspace_root(home)
    in_progress: list[LedgerCase] = []
    if folder.is_dir():
        in_progress, _ = cases_from_folder(folder)
    return build_ledger([*archived, *in_progress], start, end, stored)


def ledger_file(ledger: Ledger, fmt: str, start: date, end: date) -> tuple[bytes, str, str]:
    """The export's bytes, file name and media type (the same bytes `gongu ledger export` writes)."""
    name = f"ledger-{start.isoformat()}-{end.isoformat()}.{fmt}"
    if fmt == "csv":
        return to_csv(ledger.rows), name, "text/csv; charset=utf-8"
    return (to_xlsx(ledger.rows, period=f"{start}—{end}"), name,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

