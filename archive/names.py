"""Path names inside the archive. Case text is hostile: a case id, report number or photo name must
never leave the archive root (`../../x`, absolute paths, NUL, very long names)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

from generator.case_paths import CasePathError, resolve_case_file

MAX_COMPONENT_BYTES = 120  # well under the 255-byte limit of common filesystems, room for suffixes
_UNSAFE = re.compile(r"[^\w.\-]", re.UNICODE)


class UnsafePathError(ValueError):
    """A name that would escape its folder."""


def safe_component(name: str) -> str:
    """One path component made of letters, digits, `._-` only. When anything had to change, a short
    hash of the original is appended so two different names never collide after cleaning."""
    text = unicodedata.normalize("NFC", name)
    cleaned = re.sub(r"_+", "_", _UNSAFE.sub("_", text)).lstrip("._").rstrip("_") or "_"
    changed = cleaned != name
    encoded = cleaned.encode("utf-8")
    if changed or len(encoded) > MAX_COMPONENT_BYTES:
        tag = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        stem, dot, ext = cleaned.rpartition(".")
        if not dot or not stem or len(ext) > 10:
            stem, ext = cleaned, ""
        budget = MAX_COMPONENT_BYTES - 10 - len(ext.encode())
        stem = stem.encode("utf-8")[:budget].decode("utf-8", "ignore").rstrip("._") or "_"
        cleaned = f"{stem}-{tag}" + (f".{ext}" if ext else "")
    return cleaned


def inside(root: Path, *parts: str) -> Path:
    """root/parts…, refused unless the result stays under root (defence in depth after cleaning)."""
    target = root.joinpath(*parts)
    real_root = root.resolve()
    real = target.resolve()
    if real != real_root and real_root not in real.parents:
        raise UnsafePathError(f"路径越出归档根目录：{target}")
    return target


def relative_inside(base: Path, relative: str) -> Path:
    """A file named by the case (e.g. `survey.photos[].file`) relative to the case folder — the same
    rule the renderer applies (generator.case_paths), with the archive's error type."""
    try:
        return resolve_case_file(base, relative, "文件")
    except CasePathError as exc:
        raise UnsafePathError(str(exc)) from None


def named_case_file(case_dir: Path, label: str, reference: str, problems: list[str], *, why: str) -> Path | None:
    """The file a case names (`label`: what it is, for the message), inside the case's folder and present;
    otherwise None, with the problem appended — outside the folder, or missing (`why`: the clause that
    wants the archive complete)."""
    try:
        path = relative_inside(case_dir, reference)
    except UnsafePathError as exc:
        problems.append(f"{label}：{exc}")
        return None
    if not path.is_file():
        problems.append(f"{label} 的文件不存在：{reference}（{why}）")
        return None
    return path
