"""Find the issued 司法鉴定意见书 of a forensic case and read the case data it carries, so the rules can
hold a later 补正 against the opinion as issued (通则 Art 41; generator.forensic.issued).

The issued copy is the primary PDF the case's last `issuances[]` entry of its report number names (for a
reissue being made, of the number it supersedes): in the folder it was issued to (`gongu issue -o`, else
GONGU_HOME/issued/<case_id>/), accepted only when its SHA-256 is the one recorded at issue; else the copy
in the archive package of the case and number. The PDF/A carries the case file it was rendered from
(`case.json`, signing.embedded), which is the reference.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from generator.forensic.issued import IssuedOpinion
from generator.kinds import Case, is_forensic
from generator.model import Issuance
from gongu.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import RowMapping

    from archive.catalog import Catalog


@dataclass(frozen=True)
class IssuedReference:
    """The issued opinion found (or None), and why a copy that was looked at could not be used."""

    opinion: IssuedOpinion | None
    problems: list[str] = field(default_factory=list)


def issued_primary(case: Case) -> Issuance | None:
    """The last issuance of the case's current report number that published the primary document; for a
    reissue not yet issued (a new number superseding the old), that of the number it supersedes."""
    for number in (case.report.number, case.report.supersedes):
        mine = [i for i in case.issuances if number is not None and i.number == number and i.pdf_file]
        if mine:
            return mine[-1]
    return None


def find_issued_opinion(case: Case, settings: Settings, out_dir: Path | None = None) -> IssuedReference:
    """The issued opinion of `case` (see the module docstring); `out_dir` is where it was issued when not
    the default folder. Nothing found (not a forensic case, not issued, no copy on disk): opinion None."""
    if not is_forensic(case):
        return IssuedReference(None)
    issuance = issued_primary(case)
    if issuance is None or issuance.pdf_file is None:
        return IssuedReference(None)
    problems: list[str] = []
    if Path(issuance.pdf_file).name != issuance.pdf_file:  # `gongu issue` records a bare file name
        problems.append(f"出具记录的 PDF 文件名 {issuance.pdf_file!r} 不是文件名（$.issuances 的 pdf_file），不在出具目录中查找")
        return IssuedReference(_from_archive(case, issuance.number, settings, problems), problems)
    folders = [Path(out_dir)] if out_dir is not None else []
    folders.append(settings.home / "issued" / case.case_id)
    for folder in dict.fromkeys(folders):
        pdf = folder / issuance.pdf_file
        if not pdf.is_file():
            continue
        if issuance.pdf_sha256 and _sha256(pdf) != issuance.pdf_sha256:
            problems.append(f"{pdf}：SHA-256 与出具记录（$.issuances 的 pdf_sha256）不符，不作为已出具意见书的对照")
            continue
        opinion = _from_pdf(pdf, issuance.number, problems)
        if opinion is not None:
            return IssuedReference(opinion, problems)
    opinion = _from_archive(case, issuance.number, settings, problems)
    return IssuedReference(opinion, problems)


def _from_pdf(pdf: Path, number: str, problems: list[str]) -> IssuedOpinion | None:
    from signing.embedded import ReportPdfError, embedded_case

    try:
        data = embedded_case(pdf)
    except (ReportPdfError, OSError) as exc:
        problems.append(f"{pdf}：{exc}")
        return None
    if data is None:
        problems.append(f"{pdf}：PDF 中没有案件数据文件（case.json），无法与已出具的鉴定意见核对")
        return None
    return IssuedOpinion(number=number, source=str(pdf), data=data)


def open_catalog(settings: Settings) -> Catalog | None:
    """The catalog of `settings` opened for reading, or None when an embedded home has none yet (not created here)."""
    from gongu.pipeline.archiving import existing_store

    return existing_store(settings, check=False)


def archived_package(settings: Settings, case_id: str, number: str) -> RowMapping | None:
    """The catalog row of the archive package of this case and report number, or None (no package, or no
    catalog yet: an embedded home that never archived has no file, which is not created here)."""
    catalog = open_catalog(settings)
    if catalog is None:
        return None
    try:
        return catalog.package(case_id, number)
    finally:
        catalog.close()


def _from_archive(case: Case, number: str, settings: Settings, problems: list[str]) -> IssuedOpinion | None:
    """The opinion PDF inside the archive package of this case and report number, if one was ingested."""
    from archive.errors import ArchiveError
    from archive.package_format import open_package

    try:
        row = archived_package(settings, case.case_id, number)
        if row is None:
            return None
        package = settings.resolve(settings.archive.root).joinpath(*str(row["rel_path"]).split("/"))
        pdf = open_package(package).report_pdf()
    except (ArchiveError, OSError) as exc:
        problems.append(f"档案包无法读取，未能与已出具的鉴定意见核对：{exc}")
        return None
    if pdf is None:
        problems.append(f"{package}：档案包中没有鉴定意见书 PDF，未能与已出具的鉴定意见核对")
        return None
    return _from_pdf(pdf, number, problems)


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()
