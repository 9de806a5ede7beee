"""An upload into the workspace, as files on disk: safe relative names, size and count limits, a staging
folder written in full before it replaces the case folder — so a refused upload leaves nothing behind.

Three shapes are accepted: the case folder (the browser sends relative names, `photos/P01.jpg`), a single
.zip of it, or case.json with its files chosen one by one — then the browser sends base names (`P01.jpg`)
and `match_by_name` puts each where the case names it."""

from __future__ import annotations

import hashlib
import lzma
import re
import shutil
import stat
import struct
import tempfile
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from generator.forensic.integrity import named_files as forensic_named_files
from generator.integrity import named_files as survey_named_files
from generator.kinds import Case, is_forensic
from generator.problems import Problem

# Upload limits: a case file is at most 4 MiB anyway (generator/limits.py); photos and scans are big.
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 512 * 1024 * 1024
MAX_FILES = 500
_CHUNK = 1 << 20
_ENTRY_OVERHEAD = 1024  # a zip entry's headers with a long name, beyond its data
_EOCD_SEARCH = 22 + 0xFFFF  # the end record and its longest comment


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


class _Budget:
    """The byte limits of one upload, counted on the bytes actually written (a zip member's declared size
    is checked first, but only the count of what it decompresses to is trusted)."""

    def __init__(self) -> None:
        self.total = 0

    def copy(self, src: BinaryIO, target: Path, label: str) -> None:
        size = 0
        with open(target, "wb") as out:
            while block := _read(src):
                size += len(block)
                self.total += len(block)
                if size > MAX_FILE_BYTES:
                    raise UploadRefused([_file_problem(label, f"文件超过 {MAX_FILE_BYTES // (1 << 20)} MiB", size)])
                if self.total > MAX_TOTAL_BYTES:
                    raise UploadRefused([_file_problem("（全部）", f"上传总量超过 {MAX_TOTAL_BYTES // (1 << 20)} MiB")])
                out.write(block)


class _Unreadable(Exception):
    """A zip member whose compressed data cannot be decoded (bad CRC, truncated or corrupt stream)."""


def _read(src: BinaryIO) -> bytes:
    try:
        return src.read(_CHUNK)
    except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, NotImplementedError) as exc:
        raise _Unreadable(str(exc)) from None


def _placement(names: list[str], problems: list[Problem]) -> dict[str, str]:
    if problems:
        raise UploadRefused(problems)
    if len(names) > MAX_FILES:
        raise UploadRefused([_file_problem("（全部）", f"一次最多上传 {MAX_FILES} 个文件", len(names))])
    placed = _placed_names(names)
    if "case.json" not in placed.values():
        raise UploadRefused([_file_problem("case.json", "上传中没有 case.json（案件文件须在最上层，或在唯一的一个文件夹中）",
                                           sorted(names)[:5])])
    if len(set(placed.values())) != len(placed) or len(names) != len(set(names)):
        raise UploadRefused([_file_problem("（全部）", "同一个文件名上传了两次")])
    return placed


def stage_upload(root: Path, files: list[tuple[str, BinaryIO]]) -> tuple[Path, list[str]]:
    """Write the upload into a fresh staging folder under `root` (the workspace folder); (folder, placed
    names). A single .zip is the case folder packed: it is extracted. UploadRefused on a bad name, size,
    count or zip (nothing left behind)."""
    if not files:
        raise UploadRefused([_file_problem("case.json", "没有上传文件：须上传 case.json 及其照片、附件，或案件文件夹的 .zip")])
    if len(files) == 1 and files[0][0].lower().endswith(".zip"):
        return _stage_zip(root, *files[0])
    if len(files) > MAX_FILES:
        raise UploadRefused([_file_problem("（全部）", f"一次最多上传 {MAX_FILES} 个文件", len(files))])
    problems: list[Problem] = []
    names: list[str] = []
    for raw, _fh in files:
        try:
            names.append(clean_name(raw))
        except ValueError as exc:
            problems.append(_file_problem(raw, str(exc), raw))
    placed = _placement(names, problems)
    root.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".upload-", dir=root))
    budget = _Budget()
    try:
        for (raw, fh), name in zip(files, names, strict=True):
            target = stage / placed[name]
            target.parent.mkdir(parents=True, exist_ok=True)
            budget.copy(fh, target, raw)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return stage, sorted(placed.values())


def _member_name(info: zipfile.ZipInfo) -> str:
    """A member's name as its author wrote it. Without the zip's UTF-8 flag the stored bytes were decoded
    as CP437 by zipfile; Windows in Chinese writes GBK there, other tools UTF-8 without the flag."""
    if info.flag_bits & 0x800 or info.orig_filename.isascii():
        return info.orig_filename
    raw = info.orig_filename.encode("cp437", errors="replace")
    for encoding in ("utf-8", "gbk"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.orig_filename


def _declared_entries(fh: BinaryIO, size: int) -> int | None:
    """The entry count of the zip's end-of-central-directory record (APPNOTE 4.3.16), None when there is
    none (not a zip: zipfile says so). 0xFFFF means a ZIP64 count follows: more than any upload holds."""
    tail = min(size, _EOCD_SEARCH)
    fh.seek(size - tail)
    data = fh.read(tail)
    at = data.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(data):
        return None
    (count,) = struct.unpack_from("<H", data, at + 10)
    return 1 << 16 if count == 0xFFFF else int(count)


def _stage_zip(root: Path, raw: str, fh: BinaryIO) -> tuple[Path, list[str]]:
    """Extract an uploaded .zip of the case folder with the limits of a folder upload: every name through
    clean_name, no symlink or encrypted member, the byte limits counted while decompressing — a zip bomb
    stops at the limit, before its declared size is ever written."""
    def bad(message: str, value: Any = None) -> UploadRefused:
        return UploadRefused([Problem(raw, "上传的压缩包", message, value)])

    # Refused before zipfile reads the central directory into memory: a zip larger than the files it may
    # hold, or with more entries than an upload may have (each entry costs memory before any check).
    size = fh.seek(0, 2)
    if size > MAX_TOTAL_BYTES + MAX_FILES * _ENTRY_OVERHEAD:
        raise bad(f"压缩包超过 {MAX_TOTAL_BYTES // (1 << 20)} MiB", size)
    if (entries := _declared_entries(fh, size)) is not None and entries > 2 * MAX_FILES:
        raise bad(f"压缩包中的条目过多：一次最多上传 {MAX_FILES} 个文件", entries)
    fh.seek(0)
    try:
        archive = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError):
        raise bad("不是有效的 zip 压缩包（文件已损坏，或不是 zip 格式）") from None
    with archive:
        members: list[tuple[zipfile.ZipInfo, str]] = []
        problems: list[Problem] = []
        declared = 0
        for info in archive.infolist():
            name = _member_name(info)
            # Finder's "Compress" adds resource-fork copies under __MACOSX/; they are never part of a case.
            if info.is_dir() or name.startswith("__MACOSX/"):
                continue
            where = f"{raw}：{name}"
            if info.flag_bits & 0x1:
                problems.append(Problem(where, "压缩包中的文件", "已加密：请上传未加密的 zip 压缩包", name))
            elif stat.S_ISLNK(info.external_attr >> 16):
                problems.append(Problem(where, "压缩包中的文件", "是符号链接：压缩包中只能有普通文件", name))
            elif info.file_size > MAX_FILE_BYTES:
                problems.append(Problem(where, "压缩包中的文件", f"解压后超过 {MAX_FILE_BYTES // (1 << 20)} MiB",
                                        info.file_size))
            else:
                try:
                    members.append((info, clean_name(name)))
                except ValueError as exc:
                    problems.append(Problem(where, "压缩包中的文件", str(exc), name))
            declared += info.file_size
        if not problems and declared > MAX_TOTAL_BYTES:
            raise bad(f"解压后总量超过 {MAX_TOTAL_BYTES // (1 << 20)} MiB", declared)
        if not problems and not members:
            raise bad("压缩包是空的：须包含 case.json 及其照片、附件")
        placed = _placement([n for _, n in members], problems)
        root.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=".upload-", dir=root))
        budget = _Budget()
        try:
            for info, name in members:
                target = stage / placed[name]
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    with archive.open(info) as src:
                        budget.copy(src, target, f"{raw}：{name}")
                except _Unreadable as exc:
                    raise bad(f"压缩包已损坏，{name} 无法解压（{exc}）", name) from None
                except NotImplementedError as exc:
                    raise bad(f"{name} 的压缩方式不受支持（{exc}）：请用常见的 zip（Deflate）重新压缩", name) from None
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
    return stage, sorted(placed.values())


@dataclass(frozen=True)
class NameMatch:
    """A file uploaded under its base name, put where the case names it."""

    path: str  # the JSON path that names it, e.g. $.survey.photos[0].file
    uploaded: str  # as it came, e.g. P01.jpg
    placed: str  # where the case names it, e.g. photos/P01.jpg


@dataclass(frozen=True)
class Placement:
    """What `match_by_name` did: the files it moved, the uploaded files the case does not name (kept in the
    folder), and the base names it could not match, each with the reason."""

    matched: list[NameMatch] = field(default_factory=list)
    unreferenced: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)


def named_files(case: Case) -> list[tuple[str, str]]:
    """(JSON path, name) of every file the case names, from the generator's list for its kind."""
    if is_forensic(case):
        return forensic_named_files(case)  # type: ignore[arg-type]
    return survey_named_files(case)  # type: ignore[arg-type]


def match_by_name(stage: Path, placed: list[str], case: Case) -> Placement:
    """Files chosen one by one arrive under their base names (`P01.jpg`): each file the case names that is
    missing at its path is taken from the one top-level upload of the same base name and moved there.
    A base name the case names twice (`a/P01.jpg`, `b/P01.jpg`) or uploaded twice is left alone and
    reported, never guessed; a name that would leave the folder is the QC rules' (resolve_case_file)."""
    wanted: dict[str, str] = {}  # name the case gives → the first JSON path giving it
    for path, reference in named_files(case):
        try:
            wanted.setdefault(clean_name(reference.strip()), path)
        except ValueError:
            continue
    present = set(placed)
    missing: dict[str, list[str]] = {}
    for name in wanted:
        if name not in present:
            missing.setdefault(PurePosixPath(name).name, []).append(name)
    spare: dict[str, list[str]] = {}
    for name in placed:
        if name not in wanted and name != "case.json":
            spare.setdefault(PurePosixPath(name).name, []).append(name)
    out = Placement()
    for base, targets in sorted(missing.items()):
        sources = spare.get(base, [])
        if not any("/" not in s for s in sources):
            continue  # no base-name upload for it: the QC rules report the missing file
        if len(targets) > 1:
            out.unmatched.append(f"{base}：案件中有 {len(targets)} 个同名文件（{'、'.join(targets)}），无法按文件名确定位置")
            continue
        if len(sources) > 1:
            out.unmatched.append(f"{base}：上传了 {len(sources)} 个同名文件（{'、'.join(sources)}），无法确定用哪一个")
            continue
        source, target = stage / sources[0], stage / targets[0]
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                raise FileExistsError(targets[0])
            source.rename(target)
        except OSError:
            out.unmatched.append(f"{base}：{targets[0]} 处已有同名的文件夹或文件，未移动")
            continue
        present.discard(sources[0])
        present.add(targets[0])
        out.matched.append(NameMatch(wanted[targets[0]], sources[0], targets[0]))
    out.unreferenced.extend(sorted(n for n in present if n not in wanted and n != "case.json"))
    return out


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
