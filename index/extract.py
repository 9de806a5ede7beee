"""What the index knows about one archived package, independent of any search engine.

`IndexDocument` is built from three plain inputs — the package's metadata dict, the case file and the
report text — so only `read_package` knows how a package is laid out on disk.
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
from typing import Any

from generator.adjust import adjust
from generator.loading import CaseFileError, load_case
from generator.model import CarSurveyCase, ReviewDecision
from generator.types import beijing_date

STATUSES = ("archived", "held", "disposed")
STATUS_TITLES = {"archived": "已归档", "held": "保全中", "disposed": "已销毁"}


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


def document_from_case(
    case: CarSurveyCase,
    *,
    doc_id: str,
    text: str,
    status: str = "archived",
    package_path: str = "",
    retention_end: date | None = None,
    archived_at: datetime | None = None,
) -> IndexDocument:
    result = adjust(case)
    causes = [case.incident.reported_cause]
    if case.cause is not None:
        causes.append(case.cause.proximate_cause)
    claimed = case.incident.claimed_amount if case.incident.claimed_amount is not None else result.claimed_total
    return IndexDocument(
        doc_id=doc_id,
        case_id=case.case_id,
        report_number=case.report.number,
        kind=case.kind,
        status=status,
        case_name=case.case_name,
        insurer=case.policy.insurer,
        insured=case.policy.insured,
        policyholder=case.policy.policyholder,
        policy_number=case.policy.number,
        project=case.project.name,
        province=case.project.province or "",
        city=case.project.city or "",
        loss_date=beijing_date(case.incident.occurred_at),
        report_date=case.report.issued_on,
        archived_at=archived_at,
        retention_end=retention_end,
        cause="；".join(causes),
        loss_type=case.incident.loss_type or "",
        claimed_fen=fen(claimed),
        assessed_fen=fen(result.net_loss_total),
        adjusted_fen=fen(result.total_payable),
        handlers=tuple(h.name for h in case.handlers),
        reviewers=tuple(dict.fromkeys(r.reviewer for r in case.reviews if r.decision == ReviewDecision.approve)),
        package_path=package_path,
        text=text,
    )


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
# metadata.json schema "gongu-archive-package/1" (archive/metadata.py): case_id, case_name, kind,
# report{number, issued_on}, parties{insurer, insured, policyholder}, policy_number,
# project{name, province, city}, dates{loss, report}, amounts{claimed, total_payable} (yuan strings),
# retention{until}, ingest{at}, files[{path "data/…", role}].


def _parse_date(value: Any) -> date | None:
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


def _file_with_role(meta: Mapping[str, Any], *roles: str) -> str | None:
    for entry in meta.get("files", []) or []:
        if isinstance(entry, Mapping) and entry.get("role") in roles and entry.get("path"):
            return str(entry["path"])
    return None


def document_from_metadata(
    meta: Mapping[str, Any],
    *,
    doc_id: str,
    package_path: str = "",
    status: str = "archived",
    case: CarSurveyCase | None = None,
    text: str = "",
) -> IndexDocument:
    """The metadata is the package's own description and the index reports what the archive
    recorded; the case file, when at hand, adds what metadata does not carry (cause, handlers …).
    A tombstone (disposal) is built from the metadata alone, with no text."""
    report, parties, project = _sub(meta, "report"), _sub(meta, "parties"), _sub(meta, "project")
    dates, amounts, retention = _sub(meta, "dates"), _sub(meta, "amounts"), _sub(meta, "retention")
    doc = IndexDocument(
        doc_id=doc_id,
        case_id=str(meta.get("case_id") or ""),
        report_number=str(report.get("number") or ""),
        kind=str(meta.get("kind") or ""),
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
    if case is None:
        return doc
    from_case = document_from_case(case, doc_id=doc_id, text=text)
    return replace(
        doc,
        cause=from_case.cause,
        loss_type=from_case.loss_type,
        assessed_fen=from_case.assessed_fen,
        handlers=from_case.handlers,
        reviewers=from_case.reviewers,
        claimed_fen=doc.claimed_fen if doc.claimed_fen is not None else from_case.claimed_fen,
        adjusted_fen=doc.adjusted_fen if doc.adjusted_fen is not None else from_case.adjusted_fen,
    )


def read_metadata(package_dir: Path) -> dict[str, Any]:
    meta_file = package_dir / "metadata.json"
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PackageReadError(f"{meta_file}：无法读取元数据：{exc}") from None
    if not isinstance(meta, dict):
        raise PackageReadError(f"{meta_file}：元数据不是 JSON 对象")
    return meta


def read_package(package_dir: Path, *, doc_id: str, status: str = "archived") -> IndexDocument:
    """The one function that knows the package layout: a BagIt bag with `metadata.json` beside
    `data/`; the sealed report PDF (role "report") and the case file (role "case_file") in `data/`.
    `doc_id` is the package's path relative to the archive root (the catalog's rel_path); it is
    also the stored package path, so an index stays valid when GONGU_HOME moves."""
    meta = read_metadata(package_dir)
    case_path = _in_bag(package_dir, _file_with_role(meta, "case_file", "case") or "data/case/case.json")
    try:
        loaded = load_case(case_path)
    except CaseFileError as exc:
        raise PackageReadError(f"{case_path}：案件文件无效（{len(exc.problems)} 处问题）") from None
    text = ""
    report_rel = _file_with_role(meta, "report")
    if report_rel:
        pdf = _in_bag(package_dir, report_rel)
        if pdf.is_file():
            text = pdf_text(pdf)
    if not text:
        text = case_text(json.loads(loaded.raw))
    return document_from_metadata(meta, doc_id=doc_id, package_path=doc_id, status=status,
                                  case=loaded.case, text=text)


def _in_bag(package_dir: Path, rel: str) -> Path:
    data = (package_dir / "data").resolve()
    path = (package_dir / rel).resolve()
    if not path.is_relative_to(data):
        raise PackageReadError(f"{package_dir}：元数据中的文件路径不在 data/ 内：{rel}")
    return path
