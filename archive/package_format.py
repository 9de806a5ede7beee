"""The archive package formats, `gongu-archive-package/1` and `/2`, in one place: what a package holds and how
it is read. docs/package-format.md describes the same rules for a person with standard tools only.

Writing: `describe` adds the tag files (metadata.json, README.txt, search-record.json) to a bag that
`archive/package.py` made; `archive/metadata.py` holds the content of metadata.json and README.txt of
format 1, `archive/forensic_metadata.py` that of format 2 and its search record.
Reading: `open_package` checks the format name in metadata.json and hands the package to the reader
of that version (`READERS`); every other module (ingest, audit, disposal, index) asks this module.
Format 2 (forensic appraisal packages) is format 1 plus a `forensic` block in metadata.json, the roles
of `metadata.ROLES_2` and the 卷内目录 / 备考表 tag files; survey packages are still written as 1.
A later format is a new entry in `READERS`, never a change to how version 1 is read: packages are
kept for 15 or 30 years (10.4) and must stay readable for all of them."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from archive import forensic_metadata as fmd
from archive import metadata as md
from archive import package
from archive.errors import ArchiveError
from archive.retention import RetentionClass
from generator.adjust import adjust
from generator.amounts import to_fen
from generator.kinds import Case, is_forensic
from generator.model import ReviewDecision
from generator.types import beijing_date

FORMAT_1 = md.SCHEMA  # "gongu-archive-package/1"
FORMAT_2 = md.SCHEMA_2  # "gongu-archive-package/2"
METADATA_FILE = md.METADATA_FILE
README_FILE = md.README_FILE
SEARCH_RECORD_FILE = "search-record.json"
SEARCH_RECORD_1 = "gongu-search-record/1"
SEARCH_RECORD_2 = fmd.SEARCH_RECORD_SCHEMA  # "gongu-search-record/2"
# Content a package of each kind must hold (10.2 for a survey; the opinion, the case file and the
# review for a forensic appraisal, 通则 Art 35).
REQUIRED_ROLES = {"car_survey": frozenset({"report", "case_file", "calculation", "review_record"}),
                  "forensic_appraisal": frozenset({"report", "case_file", "review_record"})}


class PackageFormatError(ArchiveError):
    """A package that cannot be read under any known format version; the message names the file."""


@dataclass(frozen=True)
class PackageFile:
    path: str  # "data/…", relative to the bag
    role: str
    size: int
    sha256: str
    media_type: str


@dataclass(frozen=True)
class ArchivedPackage:
    """One package on disk as its own files describe it (never as the catalog says)."""

    path: Path
    format: str
    metadata: dict[str, Any]
    files: tuple[PackageFile, ...]

    @property
    def case_id(self) -> str:
        return str(self.metadata["case_id"])

    @property
    def report_number(self) -> str:
        return str(self.metadata["report"]["number"])

    @property
    def retention_class(self) -> str:
        return str(self.metadata["retention"]["class"])

    @property
    def recorded_retention_until(self) -> date:
        return date.fromisoformat(str(self.metadata["retention"]["until"]))

    @property
    def closed_at(self) -> datetime:
        return datetime.fromisoformat(str(self.metadata["dates"]["closure"]))

    @property
    def retention_start(self) -> date:
        """The day retention counts from, recomputed from the package's own dates (archive/retention.py):
        the latest of closure, the issuance the system saw and the ingest. A package written before
        ingest recorded those facts (no `retention.facts`) counts from closure, as it was written;
        disposal still holds it to its ingest date from the signed log (archive/disposal.py)."""
        closure = beijing_date(self.closed_at)
        facts = self.metadata["retention"].get("facts")
        if not isinstance(facts, dict):
            return closure
        ingested = date.fromisoformat(str(facts["ingest"]))  # the day of `ingest.at`, as ingest took it
        issued = date.fromisoformat(str(facts["issuance"])) if facts.get("issuance") else None
        return max(d for d in (closure, issued, ingested) if d is not None)

    def retention_until(self, classes: Mapping[str, RetentionClass]) -> date:
        """The retention end this sealed package proves (10.4): its start + its class's years under
        today's table, never earlier than the end written into the package at ingest."""
        cls = classes.get(self.retention_class)
        if cls is None:
            raise PackageFormatError(f"{self.path / METADATA_FILE}：未知的保管期限类别 {self.retention_class!r}")
        return max(cls.until(self.retention_start), self.recorded_retention_until)

    def file_with_role(self, role: str) -> Path | None:
        for f in self.files:
            if f.role == role:
                return self._inside(f.path)
        return None

    def case_file_bytes(self) -> bytes:
        path = self.file_with_role("case_file")
        if path is None or not path.is_file():
            raise PackageFormatError(f"{self.path}：档案包中没有案件文件（用途 case_file）")
        return path.read_bytes()

    def report_pdf(self) -> Path | None:
        path = self.file_with_role("report")
        return path if path is not None and path.is_file() else None

    def search_record(self) -> dict[str, Any] | None:
        """The search record written at ingest, or None for a package made before records existed."""
        return read_search_record(self.path)

    def tag_json(self, name: str) -> dict[str, Any] | None:
        """A JSON tag file of the package (format 2: file-index.json, filing-note.json), None if absent."""
        file = self.path / name
        if not file.is_file():
            return None
        try:
            value = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise PackageFormatError(f"{file}：无法读取：{exc}") from None
        if not isinstance(value, dict):
            raise PackageFormatError(f"{file}：不是 JSON 对象")
        return value

    def manifests(self) -> dict[str, str]:
        return package.manifest_texts(self.path)

    def package_hash(self) -> str:
        return package.package_hash(self.path)

    def file_path(self, rel: str) -> Path:
        """The file at `rel` ("data/…") of the package; PackageFormatError if it points outside data/."""
        return self._inside(rel)

    def _inside(self, rel: str) -> Path:
        data = (self.path / "data").resolve()
        target = (self.path / rel).resolve()
        if not target.is_relative_to(data):
            raise PackageFormatError(f"{self.path / METADATA_FILE}：文件路径不在 data/ 内：{rel}")
        return target


# ─────────────────────────────────────────── reading ───────────────────────────────────────────

def read_metadata(path: Path) -> dict[str, Any]:
    meta_file = path / METADATA_FILE
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PackageFormatError(f"{meta_file}：文件不存在（不是档案包，或档案包不在磁盘上）") from None
    except (OSError, ValueError) as exc:
        raise PackageFormatError(f"{meta_file}：无法读取著录信息：{exc}") from None
    if not isinstance(meta, dict):
        raise PackageFormatError(f"{meta_file}：著录信息不是 JSON 对象")
    return meta


def _read_v1(path: Path, meta: dict[str, Any]) -> ArchivedPackage:
    problems = metadata_problems(meta)
    if problems:
        raise PackageFormatError(f"{path / METADATA_FILE}：" + "；".join(problems[:5]))
    files = tuple(PackageFile(str(f["path"]), str(f["role"]), int(f["size"]), str(f["sha256"]),
                              str(f.get("media_type") or "")) for f in meta["files"])
    return ArchivedPackage(path, FORMAT_1, meta, files)


def _read_v2(path: Path, meta: dict[str, Any]) -> ArchivedPackage:
    """Format 2: format 1's checks with format 2's roles, and the `forensic` block present."""
    problems = metadata_problems(meta)
    if problems:
        raise PackageFormatError(f"{path / METADATA_FILE}：" + "；".join(problems[:5]))
    files = tuple(PackageFile(str(f["path"]), str(f["role"]), int(f["size"]), str(f["sha256"]),
                              str(f.get("media_type") or "")) for f in meta["files"])
    return ArchivedPackage(path, FORMAT_2, meta, files)


# One reader per format version; a package names its version in metadata.json "schema".
READERS: dict[str, Callable[[Path, dict[str, Any]], ArchivedPackage]] = {FORMAT_1: _read_v1, FORMAT_2: _read_v2}


def open_package(path: Path) -> ArchivedPackage:
    """Read a package's own description with the reader of its format version."""
    if not package.is_bag(path):
        raise PackageFormatError(f"{path}：档案包不在磁盘上（没有 bagit.txt 和 data/）")
    meta = read_metadata(path)
    reader = READERS.get(str(meta.get("schema")))
    if reader is None:
        raise PackageFormatError(f"{path / METADATA_FILE}：未知的档案包格式 {meta.get('schema')!r}"
                                 f"（本软件可读：{', '.join(READERS)}）")
    return reader(path, meta)


def manifest_sha256(path: Path) -> dict[str, str]:
    """manifest-sha256.txt as {"data/…": hex digest} (RFC 8493 §2.1.3: "<digest> <path>" per line)."""
    out: dict[str, str] = {}
    for line in (path / "manifest-sha256.txt").read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, _, name = line.partition(" ")
            out[name.strip()] = digest
    return out


def metadata_problems(meta: Mapping[str, Any]) -> list[str]:
    """DA/T 70 真实性: metadata.json of format 1 well-formed — keys, types, formats, no duplicates."""
    problems = []
    roles = md.ROLES_BY_SCHEMA.get(str(meta.get("schema")))
    if roles is None:
        problems.append(f"schema 应为 {' 或 '.join(md.ROLES_BY_SCHEMA)}")
        roles = md.ROLES
    required = (*md.REQUIRED_KEYS, "forensic") if meta.get("schema") == FORMAT_2 else md.REQUIRED_KEYS
    missing = [k for k in required if k not in meta]
    if missing:
        return [*problems, f"缺少：{', '.join(missing)}"]
    if not isinstance(meta.get("case_id"), str):
        problems.append("case_id 应为字符串")
    for key in ("report", "parties", "dates", "retention", "ingest", "totals", *(("forensic",) if "forensic" in required else ())):
        if not isinstance(meta.get(key), dict):
            problems.append(f"{key} 应为对象")
    files = meta.get("files")
    if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
        return [*problems, "files 应为对象数组"]
    if problems:
        return problems
    if not isinstance(meta["report"].get("number"), str):
        problems.append("report.number 应为字符串")
    paths = [f.get("path") for f in files]
    duplicates = sorted({str(x) for x in paths if paths.count(x) > 1})
    if duplicates:
        problems.append(f"重复的文件条目：{', '.join(duplicates[:3])}")
    for f in files:
        name = f.get("path")
        if not isinstance(name, str) or not name.startswith("data/"):
            problems.append(f"文件路径应以 data/ 开头：{name!r}")
        size = f.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            problems.append(f"{name}：大小应为非负整数")
        digest = f.get("sha256")
        if not isinstance(digest, str) or len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
            problems.append(f"{name}：sha256 应为 64 位十六进制")
        if f.get("role") not in roles:
            problems.append(f"{name}：未知的用途 {f.get('role')!r}")
    try:
        date.fromisoformat(str(meta["retention"].get("until")))
        datetime.fromisoformat(str(meta["dates"].get("closure")))
    except ValueError:
        problems.append("retention.until / dates.closure 不是有效的日期")
    if not isinstance(meta["retention"].get("class"), str):
        problems.append("retention.class 应为字符串")
    problems += _facts_problems(meta)
    totals = meta["totals"]
    if not isinstance(totals.get("files"), int) or not isinstance(totals.get("bytes"), int):
        problems.append("totals.files / totals.bytes 应为整数")
    return problems


def _facts_problems(meta: Mapping[str, Any]) -> list[str]:
    """`retention.facts` (the dates retention may start from) and `ingest.at`, when the package has facts."""
    facts = meta["retention"].get("facts")
    if facts is None:
        return []
    if not isinstance(facts, dict):
        return ["retention.facts 应为对象"]
    try:
        datetime.fromisoformat(str(meta["ingest"].get("at")))
        for key in ("closure", "ingest"):
            date.fromisoformat(str(facts.get(key)))
        if facts.get("issuance") is not None:
            date.fromisoformat(str(facts["issuance"]))
    except ValueError:
        return ["retention.facts（closure / issuance / ingest）或 ingest.at 不是有效的日期"]
    return []


def required_roles(meta: Mapping[str, Any]) -> frozenset[str]:
    """The roles a package of this kind must hold (audit: 内容齐全); a package without a kind is a survey's."""
    return REQUIRED_ROLES.get(str(meta.get("kind") or "car_survey"), REQUIRED_ROLES["car_survey"])


# ─────────────────────────────────────── the search record ───────────────────────────────────────
# What the index derives from the case file, computed once at ingest with the model and engine of
# that day and kept in the package, so a later model never has to re-read an old case file.

SEARCH_RECORD_FIELDS: dict[str, type | tuple[type, ...]] = {
    "case_id": str, "report_number": str, "kind": str, "case_name": str, "insurer": str, "insured": str,
    "policyholder": str, "policy_number": str, "project": str, "province": str, "city": str,
    "loss_date": (str, type(None)), "report_date": (str, type(None)), "cause": str, "loss_type": str,
    "claimed_fen": (int, type(None)), "assessed_fen": (int, type(None)), "adjusted_fen": (int, type(None)),
    "handlers": list, "reviewers": list,
}


def _read_search_record_1(file: Path, record: dict[str, Any]) -> dict[str, Any]:
    problems = [f"{key}：应为 {getattr(kind, '__name__', kind)}" for key, kind in SEARCH_RECORD_FIELDS.items()
                if not isinstance(record.get(key), kind) or isinstance(record.get(key), bool)]
    for key in ("handlers", "reviewers"):
        if isinstance(record.get(key), list) and not all(isinstance(x, str) for x in record[key]):
            problems.append(f"{key}：应为字符串数组")
    for key in ("loss_date", "report_date"):
        if isinstance(record.get(key), str):
            try:
                date.fromisoformat(record[key])
            except ValueError:
                problems.append(f"{key}：不是有效日期 {record[key]!r}")
    if problems:
        raise PackageFormatError(f"{file}：" + "；".join(problems[:5]))
    return {key: record[key] for key in SEARCH_RECORD_FIELDS}


# Record 2 (forensic appraisals): record 1's keys plus these, strings or arrays of strings.
SEARCH_RECORD_2_FIELDS: dict[str, type] = {"institution": str, "parties": list, "matters": list, "result": list,
                                           "appraisers": list}


def _read_search_record_2(file: Path, record: dict[str, Any]) -> dict[str, Any]:
    base = _read_search_record_1(file, record)
    problems = [f"{key}：应为 {kind.__name__}" for key, kind in SEARCH_RECORD_2_FIELDS.items()
                if not isinstance(record.get(key), kind)]
    problems += [f"{key}：应为字符串数组" for key, kind in SEARCH_RECORD_2_FIELDS.items()
                 if kind is list and isinstance(record.get(key), list) and not all(isinstance(x, str) for x in record[key])]
    if problems:
        raise PackageFormatError(f"{file}：" + "；".join(problems[:5]))
    return {**base, **{key: record[key] for key in SEARCH_RECORD_2_FIELDS}}


SEARCH_RECORD_READERS: dict[str, Callable[[Path, dict[str, Any]], dict[str, Any]]] = {
    SEARCH_RECORD_1: _read_search_record_1, SEARCH_RECORD_2: _read_search_record_2}


def read_search_record(path: Path) -> dict[str, Any] | None:
    file = path / SEARCH_RECORD_FILE
    if not file.exists():
        return None
    try:
        record = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PackageFormatError(f"{file}：无法读取检索记录：{exc}") from None
    if not isinstance(record, dict):
        raise PackageFormatError(f"{file}：检索记录不是 JSON 对象")
    reader = SEARCH_RECORD_READERS.get(str(record.get("schema")))
    if reader is None:
        raise PackageFormatError(f"{file}：未知的检索记录格式 {record.get('schema')!r}")
    return reader(file, record)


def build_search_record(case: Case) -> dict[str, Any]:
    """The search record of a case: gongu-search-record/1 for a survey (amounts in fen, integers),
    gongu-search-record/2 for a forensic appraisal (archive/forensic_metadata.py)."""
    if is_forensic(case):
        return fmd.search_record(case)

    def fen(value: Decimal | None) -> int | None:
        return None if value is None else int(to_fen(value) * 100)

    result = adjust(case)
    causes = [case.incident.reported_cause]
    if case.cause is not None:
        causes.append(case.cause.proximate_cause)
    claimed = case.incident.claimed_amount if case.incident.claimed_amount is not None else result.claimed_total
    return {
        "schema": SEARCH_RECORD_1,
        "case_id": case.case_id,
        "report_number": case.report.number,
        "kind": case.kind,
        "case_name": case.case_name,
        "insurer": case.policy.insurer,
        "insured": case.policy.insured,
        "policyholder": case.policy.policyholder,
        "policy_number": case.policy.number,
        "project": case.project.name,
        "province": case.project.province or "",
        "city": case.project.city or "",
        "loss_date": beijing_date(case.incident.occurred_at).isoformat(),  # a Beijing date, whatever the offset
        "report_date": case.report.issued_on.isoformat() if case.report.issued_on else None,
        "cause": "；".join(causes),
        "loss_type": case.incident.loss_type or "",
        "claimed_fen": fen(claimed),
        "assessed_fen": fen(result.net_loss_total),
        "adjusted_fen": fen(result.total_payable),
        "handlers": [h.name for h in case.handlers],
        "reviewers": list(dict.fromkeys(r.reviewer for r in case.reviews if r.decision == ReviewDecision.approve)),
    }


# ─────────────────────────────────────────── writing ───────────────────────────────────────────

def readme_text(metadata: dict[str, Any]) -> str:
    """README.txt of a package: format 2's for a forensic appraisal, else format 1's."""
    if metadata.get("kind") == "forensic_appraisal":
        return fmd.readme_text(metadata)
    return md.readme_text(metadata)


def describe(folder: Path, metadata: dict[str, Any], search_record: dict[str, Any],
             extra: Mapping[str, bytes] | None = None) -> None:
    """Add the tag files of the package's format to a bag made by `package.make_bag` (`extra`: format 2's
    卷内目录 and 备考表); the tag manifests then cover them (RFC 8493 §2.2.1)."""
    package.add_tag_files(folder, {
        METADATA_FILE: md.dumps(metadata),
        README_FILE: readme_text(metadata).encode("utf-8"),
        SEARCH_RECORD_FILE: (json.dumps(search_record, ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
        **(extra or {}),
    })
