"""One BagIt (RFC 8493) bag per issued report, made and validated with the `bagit` library, with
SHA-256 and SHA-512 manifests. Built in a temporary folder on the archive's filesystem, fsynced,
then renamed into place: a crash leaves either no package or a complete one (the rename is atomic)."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # bagit loads to make or validate a bag; asking whether a folder is one needs nothing
    import bagit

ALGORITHMS = ("sha256", "sha512")
TMP_DIR = ".tmp"  # under the archive root: same filesystem, so rename is atomic
TRASH_DIR = ".trash"
# bagit logs every file at INFO and each failed checksum at WARNING; validate() returns those failures,
# and audit reports them in its own words, so the raw log lines would only repeat them on stderr.
logging.getLogger("bagit").setLevel(logging.ERROR)


@dataclass(frozen=True)
class PayloadFile:
    """A file to place under data/: from a path on disk or from bytes we generate."""

    rel: str  # relative to data/, already sanitised
    role: str
    source: Path | None = None
    content: bytes | None = None


def copy_hashed(source: Path, target: Path) -> tuple[int, str]:
    """Copy a file while hashing it, so what we record is what we wrote."""
    h = hashlib.sha256()
    size = 0
    with source.open("rb") as src, target.open("xb") as dst:
        while chunk := src.read(1 << 20):
            h.update(chunk)
            dst.write(chunk)
            size += len(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    return size, h.hexdigest()


def write_bytes_synced(target: Path, data: bytes) -> None:
    with target.open("xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """fsync every file and directory below root, directories after their contents."""
    for dirpath, _dirs, files in os.walk(root, topdown=False):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(dirpath))


def make_bag(folder: Path, bag_info: dict[str, str]) -> bagit.Bag:
    """Turn a folder whose contents are the payload into a bag (bagit moves them under data/)."""
    import bagit

    return bagit.make_bag(str(folder), bag_info=bag_info, checksums=list(ALGORITHMS))


def add_tag_files(folder: Path, files: dict[str, bytes]) -> None:
    """Write tag files beside data/ and regenerate the tag manifests so they cover them."""
    import bagit

    for name, data in files.items():
        write_bytes_synced(folder / name, data)
    bag = bagit.Bag(str(folder))
    bag.save(manifests=False)


def validate(path: Path, *, fast: bool = False) -> list[str]:
    """Problems found by the bagit library (empty when valid): completeness, every manifest entry
    for both algorithms, tag manifests."""
    import bagit

    try:
        bag = bagit.Bag(str(path))
        bag.validate(fast=fast, processes=1)
    except bagit.BagValidationError as exc:
        details = [str(d) for d in exc.details] if exc.details else []
        return details or [str(exc.message)]
    except bagit.BagError as exc:
        return [str(exc)]
    return []


def payload_manifest(path: Path) -> str:
    """The SHA-256 payload manifest text: identifies the content (used for idempotent re-ingest)."""
    lines = (path / "manifest-sha256.txt").read_text(encoding="utf-8").splitlines()
    return "\n".join(sorted(line.strip() for line in lines if line.strip())) + "\n"


def manifest_texts(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in sorted(os.listdir(path)):
        if name.startswith(("manifest-", "tagmanifest-")) and name.endswith(".txt"):
            out[name] = (path / name).read_text(encoding="utf-8")
    return out


def package_hash(path: Path) -> str:
    """The package hash recorded in the catalog: SHA-256 of the SHA-256 tag manifest, which itself
    covers the payload manifests, metadata.json and README.txt."""
    return hashlib.sha256((path / "tagmanifest-sha256.txt").read_bytes()).hexdigest()


def is_bag(path: Path) -> bool:
    return (path / "bagit.txt").is_file() and (path / "data").is_dir()


def host_tag() -> str:
    """This machine's name as it may appear in a temp folder's name (no '-', no path separator)."""
    import re
    import socket

    return re.sub(r"[^A-Za-z0-9_.]", "_", socket.gethostname())[:64] or "host"


def iter_bags(root: Path) -> Iterable[Path]:
    """Every bag under the archive root (skipping our temp and trash folders)."""
    for dirpath, dirs, files in os.walk(root):
        if Path(dirpath) == root:
            dirs[:] = [d for d in dirs if d not in (TMP_DIR, TRASH_DIR)]
        if "bagit.txt" in files:
            dirs[:] = []
            yield Path(dirpath)


def remove_tree(path: Path) -> None:
    shutil.rmtree(path)

