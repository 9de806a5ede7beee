"""Where the work ledger's cases come from (工作台账, Sichuan opinion 五(三)): the case file inside every
archive package, and the case.json files of cases still in progress below a folder. Shared by
`gongu ledger export` and the web workspace's ledger page, so both list exactly the same cases.

A problem ends the whole read with LedgerSourceError (message, and the case file's problems when it is
invalid): a ledger is made of every case or of none."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from generator.forensic.model import ForensicAppraisalCase
from generator.loading import CaseFileError, load_case, parse_json, validate_data
from generator.problems import Problem
from gongu.pipeline.ledger import LedgerCase, Source

FORENSIC = "forensic_appraisal"


class LedgerSourceError(Exception):
    """A case or package the ledger cannot read; `problems` lists an invalid case file's problems."""

    def __init__(self, message: str, source: str = "", problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.problems = problems or []


def kind_of(raw: bytes) -> Any:
    """The `kind` a case file names, read before the model (a survey case is skipped, not validated)."""
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return None  # the full loader reports exactly what is wrong
    return data.get("kind") if isinstance(data, dict) else None


def cases_from_folder(folder: Path) -> tuple[list[LedgerCase], int]:
    """Every forensic case.json below `folder` (cases in progress) and how many survey cases were skipped."""
    if not folder.is_dir():
        raise LedgerSourceError(f"--cases 不是文件夹：{folder}")
    items: list[LedgerCase] = []
    skipped = 0
    for path in sorted(folder.rglob("case.json")):
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise LedgerSourceError(f"无法读取案件文件 {path}（{exc.strerror or exc}）") from None
        kind = kind_of(raw)
        if isinstance(kind, str) and kind != FORENSIC:
            skipped += 1
            continue
        try:
            loaded = load_case(path)
        except CaseFileError as exc:
            raise LedgerSourceError(f"案件文件无效，未生成台账：{path}", exc.source, exc.problems) from None
        assert isinstance(loaded.case, ForensicAppraisalCase)
        items.append(LedgerCase(loaded.case, Source.in_progress, str(path)))
    return items, skipped


def cases_from_archive(root: Path) -> tuple[list[LedgerCase], int]:
    """Every package on disk under the archive root, read through the package format module (the
    archive is the source of truth, so the catalog is not needed to list what is kept)."""
    from archive.package import iter_bags

    if not root.is_dir():
        return [], 0
    items: list[LedgerCase] = []
    skipped = 0
    for bag in sorted(iter_bags(root)):
        case = archived_case(bag)
        if case is None:
            skipped += 1
            continue
        items.append(LedgerCase(case, Source.archive, str(bag)))
    return items, skipped


def archived_case(bag: Path) -> ForensicAppraisalCase | None:
    """The forensic case file inside a package (None for a survey case); LedgerSourceError when the
    package or its case file cannot be read."""
    from archive.errors import ArchiveError
    from archive.package_format import open_package

    try:
        raw = open_package(bag).case_file_bytes()
    except (ArchiveError, OSError) as exc:
        raise LedgerSourceError(f"档案包无法读取，未生成台账（请运行 gongu archive audit）：{exc}") from None
    kind = kind_of(raw)
    if isinstance(kind, str) and kind != FORENSIC:
        return None
    where = f"{bag}（档案包中的案件文件）"
    try:
        case = validate_data(parse_json(raw.decode("utf-8-sig"), where), where)
    except CaseFileError as exc:
        raise LedgerSourceError(f"档案包中的案件文件无效，未生成台账：{bag}", exc.source, exc.problems) from None
    except UnicodeDecodeError:
        raise LedgerSourceError(f"档案包中的案件文件无效，未生成台账：{bag}") from None
    assert isinstance(case, ForensicAppraisalCase)
    return case
