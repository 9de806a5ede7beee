"""What the index knows about one archived package, independent of any search engine.

`IndexDocument` is built from three plain inputs — the package's metadata dict, its search record
(the fields derived from the case file at ingest) and the report text. How a package is laid out and
read is archive/package_format.py's business; `read_package` only asks it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the package reader and the case models load when a package or case is read, not to search
    from archive.package_format import ArchivedPackage
    from generator.kinds import Case

STATUSES = ("archived", "held", "disposed")
STATUS_TITLES = {"archived": "已归档", "held": "保全中", "disposed": "已销毁"}
# A record or package that names no kind was made when the survey (公估) was the only one.
DEFAULT_KIND = "car_survey"


class PackageReadError(Exception):
    """A package cannot be indexed; the message says which file and why."""


@dataclass(frozen=True)
class IndexDocument:
    """One package as the index sees it. Amounts are in fen (integers): exact in any engine."""

    doc_id: str  # stable key: the package identifier
    case_id: str
    report_number: str
    kind: str
    status: str = "archived"  # archived / held / disposed
    case_name: str = ""
    insurer: str = ""
    insured: str = ""
    policyholder: str = ""
    policy_number: str = ""
    project: str = ""
    province: str = ""
    city: str = ""
    loss_date: date | None = None
    report_date: date | None = None
    archived_at: datetime | None = None
    retention_end: date | None = None
    cause: str = ""
    loss_type: str = ""
    claimed_fen: int | None = None
    assessed_fen: int | None = None
    adjusted_fen: int | None = None
    handlers: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    # forensic appraisals (gongu-search-record/2); empty for a survey
    institution: str = ""
    parties: tuple[str, ...] = ()
    matters: tuple[str, ...] = ()
    result: tuple[str, ...] = ()
    appraisers: tuple[str, ...] = ()
    package_path: str = ""  # relative to the archive root (archive packages), or absolute
    text: str = ""  # the report's full text; empty once the package is disposed

    def tombstone(self) -> IndexDocument:
        """What stays findable after disposal: the record that the package existed, not its text."""
        return replace(self, status="disposed", text="")

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, date | datetime):
                out[key] = value.isoformat()
            elif isinstance(value, tuple):
                out[key] = list(value)
        return out


def fen(value: Decimal | None) -> int | None:
    """Yuan → fen, half-up like every presented amount; Decimal in, int out, never a float."""
    if value is None:
        return None
    from generator.amounts import to_fen

    return int(to_fen(value) * 100)


def document_from_record(
    record: Mapping[str, Any],
    *,
    doc_id: str,
    text: str,
    status: str = "archived",
    package_path: str = "",
    retention_end: date | None = None,
    archived_at: datetime | None = None,
) -> IndexDocument:
    """An index document from a search record (archive/package_format.py, gongu-search-record/1 or /2):
    plain data, so no case model is needed to index a package."""
    return IndexDocument(
        doc_id=doc_id,
        case_id=record["case_id"],
        report_number=record["report_number"],
        kind=record.get("kind") or DEFAULT_KIND,
        status=status,
        case_name=record["case_name"],
        insurer=record["insurer"],
        insured=record["insured"],
        policyholder=record["policyholder"],
        policy_number=record["policy_number"],
        project=record["project"],
        province=record["province"],
        city=record["city"],
        loss_date=_parse_date(record["loss_date"]),
        report_date=_parse_date(record["report_date"]),
        archived_at=archived_at,
        retention_end=retention_end,
        cause=record["cause"],
        loss_type=record["loss_type"],
        claimed_fen=record["claimed_fen"],
        assessed_fen=record["assessed_fen"],
        adjusted_fen=record["adjusted_fen"],
        handlers=tuple(record["handlers"]),
        reviewers=tuple(record["reviewers"]),
        institution=str(record.get("institution") or ""),
        parties=tuple(record.get("parties") or ()),
        matters=tuple(record.get("matters") or ()),
        result=tuple(record.get("result") or ()),
        appraisers=tuple(record.get("appraisers") or ()),
        package_path=package_path,
        text=text,
    )


def document_from_case(case: Case, *, doc_id: str, text: str, **extra: Any) -> IndexDocument:
    """What a case file gives the index today: its search record, read like an archived one."""
    from archive.package_format import build_search_record

    return document_from_record(build_search_record(case), doc_id=doc_id, text=text, **extra)


# ─────────────────────────────── report text ───────────────────────────────

# A visual line that ends inside a sentence (no 。！？) followed by one that goes on: one wrapped line.
_GOES_ON = re.compile(r"[0-9A-Za-z\u3400-\u9fff，、（《“‘：；\-—/.%＋+～~]$")
_CONTINUES = re.compile(r"^[0-9A-Za-z\u3400-\u9fff）》”’，、。；：％%\-—/.～~]")
_ASCII_EDGE = re.compile(r"[0-9A-Za-z]")


def pdf_text(pdf: Path) -> str:
    """The report's text via `pdftotext -raw` (content-stream order), wrapped lines re-joined.

    Not `-layout`: on our rendered reports layout mode interleaves table columns line by line, so a
    cell wrapped in two lines ("事故情|况报告") comes out with the next column in between; measured on
    the three examples, raw mode plus re-joining kept 396 of 439 case-file strings (≥ 4 characters)
    findable as substrings, layout mode 306 (the rest are not printed in the report at all)."""
    exe = shutil.which("pdftotext")
    if exe is None:
        raise PackageReadError("缺少 pdftotext（poppler-utils），无法读取报告文本")
    proc = subprocess.run([exe, "-raw", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, timeout=120)
    if proc.returncode != 0:
        raise PackageReadError(f"{pdf}：pdftotext 失败：{proc.stderr.decode('utf-8', 'replace').strip()}")
    return join_wrapped_lines(proc.stdout.decode("utf-8", "replace"))


def join_wrapped_lines(raw: str) -> str:
    """Join visual lines the renderer wrapped mid-sentence: a newline inside 边坡坍|塌 would cut the
    term for both the word and the bigram field. Latin/digit on both sides joins with a space."""
    out: list[str] = []
    for line in raw.replace("\f", "\n").splitlines():
        line = line.strip()
        if not line:
            if out and out[-1] != "":
                out.append("")
            continue
        prev = out[-1] if out else ""
        if prev and _GOES_ON.search(prev) and _CONTINUES.match(line):
            sep = " " if _ASCII_EDGE.match(prev[-1]) and _ASCII_EDGE.match(line[0]) else ""
            out[-1] = prev + sep + line
        else:
            out.append(line)
    return "\n".join(out).strip()


def case_text(raw: Mapping[str, Any] | list[Any] | Any) -> str:
    """Fallback report text: every string of the case file in document order (titles, course,
    analysis, conclusion …), for packages whose PDF has no text layer."""
    return "\n".join(_strings(raw))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if value.strip():
            yield value.strip()
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


# ─────────────────────────────── the package layout ───────────────────────────────
# The package layout is archive/package_format.py's (docs/package-format.md); this part only maps
# a package's description onto the index document.


def _parse_date(value: Any) -> date | None:
    from generator.types import beijing_date

    if not value:
        return None
    try:
        return beijing_date(datetime.fromisoformat(str(value)))  # a Beijing date, whatever the offset
    except ValueError:
        return None


def _parse_datetime(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _yuan_fen(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return fen(Decimal(str(value)))
    except ArithmeticError:
        return None


def _sub(meta: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = meta.get(key)
    return value if isinstance(value, Mapping) else {}


def document_from_metadata(
    meta: Mapping[str, Any],
    *,
    doc_id: str,
    package_path: str = "",
    status: str = "archived",
    record: Mapping[str, Any] | None = None,
    text: str = "",
) -> IndexDocument:
    """The metadata is the package's own description and the index reports what the archive
    recorded; the search record, when at hand, adds what metadata does not carry (cause, handlers …).
    A tombstone (disposal) is built from the metadata alone, with no text."""
    report, parties, project = _sub(meta, "report"), _sub(meta, "parties"), _sub(meta, "project")
    dates, amounts, retention = _sub(meta, "dates"), _sub(meta, "amounts"), _sub(meta, "retention")
    doc = IndexDocument(
        doc_id=doc_id,
        case_id=str(meta.get("case_id") or ""),
        report_number=str(report.get("number") or ""),
        kind=str(meta.get("kind") or DEFAULT_KIND),
        status=status,
        case_name=str(meta.get("case_name") or ""),
        insurer=str(parties.get("insurer") or ""),
        insured=str(parties.get("insured") or ""),
        policyholder=str(parties.get("policyholder") or ""),
        policy_number=str(meta.get("policy_number") or ""),
        project=str(project.get("name") or ""),
        province=str(project.get("province") or ""),
        city=str(project.get("city") or ""),
        loss_date=_parse_date(dates.get("loss")),
        report_date=_parse_date(dates.get("report") or report.get("issued_on")),
        archived_at=_parse_datetime(_sub(meta, "ingest").get("at")),
        retention_end=_parse_date(retention.get("until")),
        claimed_fen=_yuan_fen(amounts.get("claimed")),
        adjusted_fen=_yuan_fen(amounts.get("total_payable")),
        package_path=package_path,
        text=text,
    )
    if record is None:
        return _with_forensic_metadata(doc, _sub(meta, "forensic"))
    from_case = document_from_record(record, doc_id=doc_id, text=text)
    return replace(
        doc,
        cause=from_case.cause,
        loss_type=from_case.loss_type,
        assessed_fen=from_case.assessed_fen,
        handlers=from_case.handlers,
        reviewers=from_case.reviewers,
        institution=from_case.institution,
        parties=from_case.parties,
        matters=from_case.matters,
        result=from_case.result,
        appraisers=from_case.appraisers,
        claimed_fen=doc.claimed_fen if doc.claimed_fen is not None else from_case.claimed_fen,
        adjusted_fen=doc.adjusted_fen if doc.adjusted_fen is not None else from_case.adjusted_fen,
    )


def _with_forensic_metadata(doc: IndexDocument, forensic: Mapping[str, Any]) -> IndexDocument:
    """A tombstone of a forensic package (format 2) keeps its institution, parties, matters, result and
    appraisers findable: they are in metadata.json's `forensic` block, worded as in the search record."""
    if not forensic:
        return doc
    from generator.forensic.model import MATTER_KIND_TITLES, PARTY_ROLE_TITLES, MatterKind, PartyRole

    def items(key: str) -> list[Mapping[str, Any]]:
        value = forensic.get(key)
        return [x for x in value if isinstance(x, Mapping)] if isinstance(value, list) else []

    def title(titles: Mapping[Any, str], enum: Any, value: Any) -> str:
        try:
            return titles[enum(value)]
        except ValueError:
            return str(value)

    institution = _sub(forensic, "institution")
    results = forensic.get("results")
    return replace(
        doc,
        institution=" ".join(str(x) for x in (institution.get("name"), institution.get("licence_no")) if x),
        parties=tuple(f"{p.get('name')}（{title(PARTY_ROLE_TITLES, PartyRole, p.get('role'))}）" for p in items("parties")),
        matters=tuple(str(m.get("description")) if m.get("description") == title(MATTER_KIND_TITLES, MatterKind, m.get("kind"))
                      else f"{title(MATTER_KIND_TITLES, MatterKind, m.get('kind'))}：{m.get('description')}"
                      for m in items("matters")),
        result=tuple(str(r) for r in results) if isinstance(results, list) else (),
        appraisers=tuple(" ".join(str(x) for x in (a.get("name"), a.get("licence_no")) if x) for a in items("appraisers")),
        handlers=doc.handlers or tuple(str(a.get("name")) for a in items("appraisers")),
    )


def read_package(package_dir: Path, *, doc_id: str, status: str = "archived") -> IndexDocument:
    """One package as the index sees it, read through the package format module. The fields derived
    from the case file come from the search record stored at ingest; only a package made before
    records existed has its case file read with today's model (and is reported if that fails).
    `doc_id` is the package's path relative to the archive root (the catalog's rel_path); it is
    also the stored package path, so an index stays valid when GONGU_HOME moves."""
    from archive.forensic import searched_document_pdfs
    from archive.package_format import PackageFormatError, open_package

    try:
        pkg = open_package(package_dir)
        record = pkg.search_record()
        raw = pkg.case_file_bytes()
        pdf = pkg.report_pdf()
    except PackageFormatError as exc:
        raise PackageReadError(str(exc)) from None
    if record is None:
        record = _record_from_case_file(pkg)
    text = pdf_text(pdf) if pdf is not None else ""
    if not text:
        try:
            text = case_text(json.loads(raw))
        except ValueError:
            text = ""
    # A forensic package: the dispute documents and supplementary opinions are searched with the opinion.
    try:
        more = [t for p in searched_document_pdfs(pkg) if p.is_file() and (t := pdf_text(p))]
    except PackageFormatError as exc:
        raise PackageReadError(str(exc)) from None
    if more:
        text = "\n\n".join([text, *more]) if text else "\n\n".join(more)
    return document_from_metadata(pkg.metadata, doc_id=doc_id, package_path=doc_id, status=status,
                                  record=record, text=text)


def _record_from_case_file(pkg: ArchivedPackage) -> dict[str, Any]:
    """Fallback for packages ingested before search records: derive the record from the case file."""
    from archive.package_format import build_search_record
    from generator.loading import CaseFileError, load_case

    case_path = pkg.file_with_role("case_file")
    assert case_path is not None  # case_file_bytes() succeeded
    try:
        loaded = load_case(case_path)
    except CaseFileError as exc:
        raise PackageReadError(f"{case_path}：档案包没有检索记录，案件文件按当前模型无效"
                               f"（{len(exc.problems)} 处问题）") from None
    return build_search_record(loaded.case)
