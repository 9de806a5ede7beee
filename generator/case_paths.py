"""Files a case names (photos, attachments) must lie inside the case's own folder.

Case text is hostile: the one rule for every reader of those names — the renderer and the archive —
so a crafted `../../etc/passwd`, an absolute path, a URL or a symlink never reads outside the folder.
"""

from __future__ import annotations

import re
from pathlib import Path

MAX_NAME_BYTES = 255  # one path component on ext4, XFS, APFS, NTFS (UTF-8: 3 bytes per Chinese character)
MAX_PATH_BYTES = 1024  # a whole relative reference; PATH_MAX is 4096 with the case folder before it
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]?")


class CasePathError(ValueError):
    """A file name from the case that would leave the case folder, or is no file name at all."""


def resolve_case_file(case_dir: Path, reference: str, what: str) -> Path:
    """`reference` relative to `case_dir`, resolved; refused: empty or NUL, URLs of any scheme (http,
    https, file, data …), absolute paths, and paths that leave the folder by `..` or a symlink.
    The file may not exist — callers say what a missing file means to them."""
    ref = reference.strip()
    if not ref or "\x00" in ref:
        raise CasePathError(f"{what} “{reference!r}” 不是有效的文件名 (invalid file name)")
    if _SCHEME.match(ref) and not _WINDOWS_DRIVE.match(ref):
        raise CasePathError(f"{what} “{reference}” 是网址，只能使用案件文件夹内的文件 (URLs are refused)")
    norm = ref.replace("\\", "/")
    if len(norm.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES or any(
            len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES for part in norm.split("/")):
        raise CasePathError(f"{what} “{ref[:40]}…”（共 {len(ref)} 字符）过长：文件名最多 {MAX_NAME_BYTES} 字节，路径最多 "
                            f"{MAX_PATH_BYTES} 字节 (file name too long)")
    if norm.startswith("/") or _WINDOWS_DRIVE.match(ref):
        raise CasePathError(f"{what} “{reference}” 是绝对路径，请写相对于案件文件夹的路径 (absolute paths are refused)")
    root = case_dir.resolve()
    target = (root / norm).resolve()
    if not target.is_relative_to(root):
        raise CasePathError(f"{what} “{reference}” 指向案件文件夹 {root} 之外 (path leaves the case folder)")
    return target
