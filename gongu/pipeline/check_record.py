"""What `gongu verify` says about a document's check code beyond the file itself: whether the archive's
record of that code — a package's own metadata.json (`--package DIR`, all a reader in 2056 may have) or
the home's catalog — names a sealed file with this file's SHA-256, and the code's status there."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from gongu.settings import Settings


@dataclass(frozen=True)
class RecordMatch:
    source: str  # where the record was read: "档案包 <dir>" or "档案目录"
    found: bool  # the source holds a record of the code
    matches: bool  # …and its SHA-256 is the file's
    number: str | None = None
    kind: str | None = None
    sha256: str | None = None
    status: str | None = None  # the catalog's status text (有效, 已被 R1 取代 …); a package alone has none

    def as_dict(self) -> dict[str, object]:
        return {"source": self.source, "found": self.found, "matches": self.matches, "report_number": self.number,
                "kind": self.kind, "sha256": self.sha256, "status": self.status}


def file_sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def package_match(pdf: Path, code: str, package: Path) -> RecordMatch:
    """The package's record of `code` against the file (archive.package_format reads the package; a folder
    that is no package raises its ArchiveError, a usage error for the command)."""
    from archive.check_codes import package_code_record

    record = package_code_record(package, code)
    source = f"档案包 {package}"
    if record is None:
        return RecordMatch(source, found=False, matches=False)
    return RecordMatch(source, found=True, matches=record.get("sha256") == file_sha256(pdf),
                       number=record.get("report_number"), kind=record.get("kind") or record.get("title"),
                       sha256=record.get("sha256"))


def catalog_match(pdf: Path, code: str, settings: Settings) -> RecordMatch | None:
    """The home's catalog record of `code` against the file; None when the home has no catalog (nothing
    archived here: nothing to compare, and verifying never creates a catalog)."""
    from archive.check_codes import lookup
    from gongu.pipeline.archiving import existing_store

    catalog = existing_store(settings, check=False)
    if catalog is None:
        return None
    try:
        record = lookup(catalog, code)
    finally:
        catalog.close()
    if record is None:
        return RecordMatch("档案目录", found=False, matches=False)
    return RecordMatch("档案目录", found=True, matches=record.sha256 == file_sha256(pdf), number=record.report_number,
                       kind=record.kind, sha256=record.sha256, status=record.status_text)
