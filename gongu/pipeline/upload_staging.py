"""An upload into the workspace, as files on disk: safe relative names, size and count limits, a staging
folder written in full before it replaces the case folder — so a refused upload leaves nothing behind."""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from generator.problems import Problem

# Upload limits: a case file is at most 4 MiB anyway (generator/limits.py); photos and scans are big.
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 512 * 1024 * 1024
MAX_FILES = 500
_CHUNK = 1 << 20


class UploadRefused(Exception):
    """The upload was not stored; `problems` are the loader's problems (JSON path, Chinese title, what is
    wrong, value), or the same shape for a file name or size."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s)")


def _file_problem(name: str, message: str, value: Any = None) -> Problem:
    return Problem(name, "上传的文件", message, value)


def clean_name(raw: str) -> str:
    """An uploaded file's relative name, or ValueError: '/'-separated, no absolute path, drive, '..',
    empty or hidden component, control character; Unicode NFC."""
    name = unicodedata.normalize("NFC", raw.replace("\\", "/"))
    if not name or any(unicodedata.category(c) in ("Cc", "Cf") for c in name):
        raise ValueError("文件名为空或含控制字符")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise ValueError("不能使用绝对路径")
    parts = PurePosixPath(name).parts
    if any(p in ("", ".", "..") or p.startswith(".") for p in parts) or ".." in name.split("/"):
        raise ValueError("文件名不能包含 ..、. 开头的部分或空的部分（不得写到案件文件夹之外）")
    if len(name) > 255:
        raise ValueError("文件名过长")
    return "/".join(parts)


def _placed_names(names: list[str]) -> dict[str, str]:
    """Uploaded name → name inside the case folder. A folder upload ("slope-collapse/case.json",
    "slope-collapse/photos/P01.jpg") loses its top folder; everything else keeps its relative name."""
    if "case.json" not in names:
        tops = {n.split("/", 1)[0] for n in names}
        if len(tops) == 1 and f"{next(iter(tops))}/case.json" in names:
            return {n: n.split("/", 1)[1] for n in names}
    return {n: n for n in names}


def stage_upload(root: Path, files: list[tuple[str, BinaryIO]]) -> tuple[Path, list[str]]:
    """Write the upload into a fresh staging folder under `root` (the workspace folder); (folder, placed names). UploadRefused on a bad name,
    size or count (nothing left behind)."""
    problems: list[Problem] = []
    if not files:
        raise UploadRefused([_file_problem("case.json", "没有上传文件：须上传 case.json 及其照片、附件")])
    if len(files) > MAX_FILES:
        raise UploadRefused([_file_problem("（全部）", f"一次最多上传 {MAX_FILES} 个文件", len(files))])
    names: list[str] = []
    for raw, _fh in files:
        try:
            names.append(clean_name(raw))
        except ValueError as exc:
            problems.append(_file_problem(raw, str(exc), raw))
    if problems:
        raise UploadRefused(problems)
    placed = _placed_names(names)
    if "case.json" not in placed.values():
        raise UploadRefused([_file_problem("case.json", "上传中没有 case.json（案件文件须在最上层）", sorted(names)[:5])])
    if len(set(placed.values())) != len(placed) or len(names) != len(set(names)):
        raise UploadRefused([_file_problem("（全部）", "同一个文件名上传了两次")])
    root.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".upload-", dir=root))
    total = 0
    try:
        for (raw, fh), name in zip(files, names, strict=True):
            target = stage / placed[name]
            target.parent.mkdir(parents=True, exist_ok=True)
            size = 0
            with open(target, "wb") as out:
                while block := fh.read(_CHUNK):
                    size += len(block)
                    total += len(block)
                    if size > MAX_FILE_BYTES:
                        raise UploadRefused([_file_problem(raw, f"文件超过 {MAX_FILE_BYTES // (1 << 20)} MiB", size)])
                    if total > MAX_TOTAL_BYTES:
                        raise UploadRefused([_file_problem("（全部）", f"上传总量超过 {MAX_TOTAL_BYTES // (1 << 20)} MiB")])
                    out.write(block)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return stage, sorted(placed.values())


def swap_in(stage: Path, folder: Path) -> None:
    """Put the staged folder in place of the case folder (the old one removed only once the new one is in)."""
    old = None
    if folder.exists():
        old = folder.with_name(f".replaced-{folder.name}-{hashlib.sha256(str(stage).encode()).hexdigest()[:8]}")
        folder.rename(old)
    try:
        stage.rename(folder)
    except BaseException:
        if old is not None:
            old.rename(folder)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
