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
    package_path: str = ""
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
        loss_date=case.incident.occurred_at.date(),
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

_CJK_END = re.compile(r"[\u3400-\u9fff\uff0c\u3001]$")
_CJK_START = re.compile(r"^[\u3400-\u9fff]")


def pdf_text(pdf: Path) -> str:
    """The report's text via `pdftotext -layout`, with lines re-joined where a wrap split a word.

    Layout mode keeps table columns apart; a line that ends and the next that starts in CJK text was
    one sentence wrapped by the renderer, and a newline there would cut terms like 边坡坍|塌."""
    exe = shutil.which("pdftotext")
    if exe is None:
        raise PackageReadError("缺少 pdftotext（poppler-utils），无法读取报告文本")
    proc = subprocess.run([exe, "-layout", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, timeout=120)
    if proc.returncode != 0:
        raise PackageReadError(f"{pdf}：pdftotext 失败：{proc.stderr.decode('utf-8', 'replace').strip()}")
    return join_wrapped_lines(proc.stdout.decode("utf-8", "replace"))


def join_wrapped_lines(raw: str) -> str:
    out: list[str] = []
    for line in raw.replace("\f", "\n").splitlines():
        line = line.strip()
        if not line:
            if out and out[-1] != "":
                out.append("")
            continue
        if out and out[-1] and _CJK_END.search(out[-1]) and _CJK_START.match(line):
            out[-1] += line
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


def _parse_date(value: Any) -> date | None:
    if not value:
        return None
    text = str(value)
    try:
        return datetime.fromisoformat(text).date() if "T" in text else date.fromisoformat(text[:10])
    except ValueError:
        return None


def _parse_datetime(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _file_with_role(meta: Mapping[str, Any], role: str) -> str | None:
    for entry in meta.get("files", []) or []:
        if isinstance(entry, Mapping) and entry.get("role") == role:
            return str(entry.get("path") or entry.get("name") or "")
    return None


def read_package(package_dir: Path, *, status: str | None = None) -> IndexDocument:
    """The one function that knows the package layout: a BagIt bag with `metadata.json` beside
    `data/`, the report PDF (role "report") and the case file (role "case") inside `data/`."""
    meta_file = package_dir / "metadata.json"
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PackageReadError(f"{meta_file}：无法读取元数据：{exc}") from None
    case_rel = _file_with_role(meta, "case") or "case.json"
    report_rel = _file_with_role(meta, "report")
    case_path = _in_data(package_dir, case_rel)
    try:
        loaded = load_case(case_path)
    except CaseFileError as exc:
        raise PackageReadError(f"{case_path}：案件文件无效（{len(exc.problems)} 处问题）") from None
    text = ""
    if report_rel:
        pdf = _in_data(package_dir, report_rel)
        if pdf.is_file():
            text = pdf_text(pdf)
    if not text:
        text = case_text(json.loads(loaded.raw))
    return document_from_metadata(meta, loaded.case, text, package_dir=package_dir, status=status)


def _in_data(package_dir: Path, rel: str) -> Path:
    rel = rel.removeprefix("data/")
    path = (package_dir / "data" / rel).resolve()
    if not path.is_relative_to((package_dir / "data").resolve()):
        raise PackageReadError(f"{package_dir}：元数据中的文件路径越出 data/：{rel}")
    return path


def document_from_metadata(
    meta: Mapping[str, Any],
    case: CarSurveyCase,
    text: str,
    *,
    package_dir: Path,
    status: str | None = None,
) -> IndexDocument:
    retention = meta.get("retention") if isinstance(meta.get("retention"), Mapping) else {}
    state = status or str(meta.get("status") or "archived")
    if state not in STATUSES:
        state = "held" if "hold" in state else "archived"
    doc = document_from_case(
        case,
        doc_id=str(meta.get("package_id") or meta.get("id") or package_dir.name),
        text=text,
        status=state,
        package_path=str(package_dir),
        retention_end=_parse_date(meta.get("retention_end") or retention.get("end") or retention.get("end_date")),
        archived_at=_parse_datetime(meta.get("archived_at") or meta.get("ingested_at")),
    )
    # The metadata's own numbers win over the case file's, should they ever differ (the package
    # explains itself; the index reports what the archive recorded).
    overrides: dict[str, Any] = {}
    for key, attr in (("case_id", "case_id"), ("case_number", "case_id"), ("report_number", "report_number"), ("kind", "kind")):
        if meta.get(key):
            overrides[attr] = str(meta[key])
    return replace(doc, **overrides) if overrides else doc


def iter_packages(root: Path) -> Iterator[Path]:
    """Every package under the archive root: a directory holding `bagit.txt`."""
    if not root.is_dir():
        return
    for marker in sorted(root.rglob("bagit.txt")):
        yield marker.parent

