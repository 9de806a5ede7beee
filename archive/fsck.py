"""fsck: reconcile the catalog with the disk after a crash or a manual change.

Reports temp folders (an ingest that died before its rename), trash folders (a disposal that died
mid-way), complete packages on disk not in the catalog (an ingest that died between rename and
commit), catalog rows without their package, and documents' check codes not yet in the catalog. It also runs the database's own integrity check
and reports the catalog's schema version and index work still queued. `repair` removes dead temp folders, finishes or undoes
interrupted disposals as the catalog says, registers complete, valid orphan packages and the missing codes. It never
removes a package: a missing package can only be reported."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive import package
from archive.check_codes import backfill
from archive.disposal import COPY_ASIDE, _purge_trash
from archive.ingest import register
from archive.store import Archive


@dataclass
class FsckReport:
    temp_folders: list[str] = field(default_factory=list)
    trash_folders: list[str] = field(default_factory=list)
    orphan_packages: list[str] = field(default_factory=list)  # on disk, valid, not in the catalog
    invalid_packages: list[str] = field(default_factory=list)  # on disk, not a valid bag, not in the catalog
    missing_packages: list[str] = field(default_factory=list)  # in the catalog, not on disk
    # active packages whose documents' check codes are not in the catalog (archive/check_codes.py backfill)
    codes_missing: list[str] = field(default_factory=list)
    # forensic packages whose work-ledger row is not in the catalog (filled by the gongu layer: the ledger
    # page computes a missing row itself, so this is not an inconsistency)
    ledger_missing: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    schema_revision: str | None = None  # the catalog's recorded schema version (Alembic revision)
    catalog_problems: list[str] = field(default_factory=list)  # the database's own integrity check
    index_problems: list[str] = field(default_factory=list)  # catalog vs search index (filled by the gongu layer)
    # The root does not hold the catalog's identity (archive/identity.py): unmounted or foreign share —
    # check the mount; packages it "misses" are then not reported as lost (nothing to restore).
    root_problem: str = ""
    root_kind: str = "ok"

    @property
    def clean(self) -> bool:
        return not (self.root_problem or self.temp_folders or self.trash_folders or self.orphan_packages or self.invalid_packages
                    or self.missing_packages or self.codes_missing or self.catalog_problems or self.index_problems)

    def as_dict(self) -> dict[str, Any]:
        return {"clean": self.clean, "schema_revision": self.schema_revision,
                "root_problem": self.root_problem, "root_kind": self.root_kind,
                "catalog_problems": self.catalog_problems, "temp_folders": self.temp_folders,
                "trash_folders": self.trash_folders, "orphan_packages": self.orphan_packages,
                "invalid_packages": self.invalid_packages, "missing_packages": self.missing_packages, "codes_missing": self.codes_missing,
                "ledger_missing": self.ledger_missing, "index_problems": self.index_problems, "repaired": self.repaired}


# A temp folder made on another machine (offices sharing the package tree, docs/deployment.md) cannot be
# checked for a live process from here: it is left alone until it is this old.
FOREIGN_TEMP_AGE_SECONDS = 24 * 3600


def _pid_alive(name: str, path: Path | None = None) -> bool:
    """Whether the ingest that made temp folder `name` (uuid-host-pid, or uuid-pid before hosts were
    named) may still be running."""
    parts = name.split("-")
    pid = parts[-1]
    if len(parts) >= 3 and parts[-2] != package.host_tag():
        if path is None:
            return True
        try:
            return time.time() - path.stat().st_mtime < FOREIGN_TEMP_AGE_SECONDS
        except OSError:
            return False
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fsck(archive: Archive, *, repair: bool = False, by: str = "fsck") -> FsckReport:
    rep = FsckReport(schema_revision=archive.catalog.schema_revision())
    rep.catalog_problems = archive.catalog.integrity_problems()
    if rep.catalog_problems:
        return rep  # nothing is repaired on a damaged database: a write could spread the damage
    state = archive.root_state()
    if not state.ok:
        rep.root_problem, rep.root_kind = state.message, state.kind
        if state.mount_problem:
            return rep  # an unmounted or foreign share: nothing there is this catalog's to compare or repair
        repair = False  # uninitialised: report, but write nothing until `gongu archive init`
    root = archive.root
    tmp_root = root / package.TMP_DIR
    if tmp_root.is_dir():
        for tmp in sorted(tmp_root.iterdir()):
            if _pid_alive(tmp.name, tmp):
                continue  # an ingest still running in another process
            rep.temp_folders.append(tmp.name)
            if repair:
                package.remove_tree(tmp) if tmp.is_dir() else tmp.unlink()
                rep.repaired.append(f"已删除中断归档的临时目录 {tmp.name}（其内容从未登记为档案）")
    trash_root = root / package.TRASH_DIR
    if trash_root.is_dir():
        rep.trash_folders = sorted(p.name for p in trash_root.iterdir())
    # a disposal interrupted after setting the case's workspace / issued copies aside (archive/disposal.py)
    rep.trash_folders += sorted(f"{folder.name}/{p.name}" for folder in archive.config.copies if folder.is_dir()
                                for p in folder.glob(f"{COPY_ASIDE}*"))
    if repair and rep.trash_folders:
        rep.repaired += _purge_trash(archive)

    rows = {r["rel_path"]: r for r in archive.catalog.packages()}
    for bag in package.iter_bags(root):
        rel = str(bag.relative_to(root)).replace(os.sep, "/")
        if rel in rows:
            continue
        if package.validate(bag):
            rep.invalid_packages.append(rel)
            continue
        rep.orphan_packages.append(rel)
        if repair:
            register(archive, bag, rel, by=by, kind="ingest_recovered")
            rep.repaired.append(f"已登记完整但未入目录的档案包 {rel}")
    for rel, row in rows.items():
        if row["state"] == "active" and not package.is_bag(root.joinpath(*rel.split("/"))):
            rep.missing_packages.append(rel)
    # codes of packages ingested before the catalog kept them: read from each package's own files
    rep.codes_missing = backfill(archive, repair=repair)
    if repair:
        rep.repaired += [f"已登记{line.replace('未入目录', '')}" for line in rep.codes_missing]
    return rep


__all__ = ["fsck", "FsckReport", "Path"]
