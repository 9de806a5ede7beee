"""The roster a random draw chooses from (Sichuan 二(三): 司法行政机关公布的司法鉴定机构名册).

A firm imports the roster as CSV or JSON; every row is checked strictly (an unknown column, an empty
field, a duplicate licence number, a control character is an error naming the file, the row or JSON
path, the field and its Chinese title, and the value). The result is a `RosterSnapshot`: the entries in
canonical order, where they came from (file name and the SHA-256 of its bytes), when they were
imported, and the SHA-256 of their canonical JSON — the value a draw record cites.

CSV: UTF-8 (a BOM is allowed), a header row with the English keys below; lines starting with `#` are
comments (the demo roster says there that it is fictional). Several scopes or names in one cell are
separated by `;` `；` or `、`.
JSON: `{"title": …, "entries": [{"name": …, "licence_no": …, "scopes": […], "city": …,
"senior_appraisers": […]}, …]}` (or the bare list).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.problems import Problem

FIELD_TITLES: dict[str, str] = {
    "name": "鉴定机构名称",
    "licence_no": "许可证号",
    "scopes": "业务范围",
    "city": "所在城市",
    "senior_appraisers": "高级职称鉴定人",
}
LIST_FIELDS = ("scopes", "senior_appraisers")
# senior_appraisers may be empty (such an institution cannot take a re-appraisal, 通则 Art 32).
OPTIONAL_FIELDS = ("senior_appraisers",)
LICENCE_PATTERN = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]{0,31}$")
LIST_SEPARATORS = re.compile(r"[;；、]")
MAX_ROSTER_BYTES = 5 * 1024 * 1024


class RosterError(Exception):
    """The roster cannot be used; `problems` lists every reason (path = row or JSON path)."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s)")


@dataclass(frozen=True)
class RosterEntry:
    name: str
    licence_no: str
    scopes: tuple[str, ...]
    city: str
    senior_appraisers: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "licence_no": self.licence_no,
            "scopes": list(self.scopes),
            "city": self.city,
            "senior_appraisers": list(self.senior_appraisers),
        }

    @property
    def sort_key(self) -> tuple[str, str]:
        # Canonical order: licence number, then name, compared by Unicode code point after NFC.
        return (self.licence_no, self.name)


@dataclass(frozen=True)
class RosterSnapshot:
    """The roster as the draw saw it. `sha256` covers the entries only (see `canonical_entries_json`);
    `source`, `source_sha256` and `imported_at` say where and when they came from."""

    title: str
    source: str
    source_sha256: str
    imported_at: str
    entries: tuple[RosterEntry, ...]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(canonical_entries_json(self.entries)).hexdigest()

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "source": self.source,
            "source_sha256": self.source_sha256,
            "imported_at": self.imported_at,
            "sha256": self.sha256,
            "entries": [e.as_dict() for e in self.entries],
        }

    def by_licence(self, licence_no: str) -> RosterEntry | None:
        return next((e for e in self.entries if e.licence_no == licence_no), None)


def canonical_entries_json(entries: tuple[RosterEntry, ...] | list[RosterEntry]) -> bytes:
    """UTF-8 JSON of the entries in canonical order: keys sorted, no spaces, non-ASCII as is, NFC text.
    Python: json.dumps(list, ensure_ascii=False, sort_keys=True, separators=(",", ":"))."""
    ordered = sorted(entries, key=lambda e: e.sort_key)
    text = json.dumps([e.as_dict() for e in ordered], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.encode("utf-8")


def _clean(value: str) -> str:
    return unicodedata.normalize("NFC", value.strip())


def _has_control(value: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value)


def _entry(raw: dict[str, Any], where: str, problems: list[Problem]) -> RosterEntry | None:
    """One entry from a CSV row or JSON object; problems are appended, None when unusable."""
    before = len(problems)
    for key in raw:
        if key not in FIELD_TITLES:
            problems.append(Problem(f"{where}.{key}", "未知字段", f"未知的字段（可用：{'、'.join(FIELD_TITLES)}）", key))
    values: dict[str, Any] = {}
    for key, title in FIELD_TITLES.items():
        value = raw.get(key)
        path = f"{where}.{key}"
        if key in LIST_FIELDS:
            if value is None or isinstance(value, str):
                items = [_clean(v) for v in LIST_SEPARATORS.split(value or "")]
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                items = [_clean(v) for v in value]
            else:
                problems.append(Problem(path, title, "应为文本列表", value))
                continue
            items = [v for v in items if v]
            if not items and key not in OPTIONAL_FIELDS:
                problems.append(Problem(path, title, "不能为空", value))
            if len(set(items)) != len(items):
                problems.append(Problem(path, title, "有重复项", value))
            if any(_has_control(v) for v in items):
                problems.append(Problem(path, title, "含有控制字符或不可见格式字符", value))
            values[key] = tuple(items)
        else:
            if value is None or (isinstance(value, str) and not value.strip()):
                problems.append(Problem(path, title, "缺少或为空", value))
                continue
            if not isinstance(value, str):
                problems.append(Problem(path, title, "应为文本", value))
                continue
            text = _clean(value)
            if _has_control(text):
                problems.append(Problem(path, title, "含有控制字符或不可见格式字符", value))
            if key == "licence_no" and not LICENCE_PATTERN.match(text):
                problems.append(Problem(path, title, "许可证号只能由字母、数字和连字符组成（1–32 位）", value))
            values[key] = text
    if len(problems) > before:
        return None
    return RosterEntry(**values)


def _check_duplicates(entries: list[tuple[str, RosterEntry]], problems: list[Problem]) -> None:
    seen: dict[str, str] = {}
    for where, entry in entries:
        if entry.licence_no in seen:
            problems.append(Problem(f"{where}.licence_no", FIELD_TITLES["licence_no"],
                                    f"许可证号与 {seen[entry.licence_no]} 重复", entry.licence_no))
        else:
            seen[entry.licence_no] = where


def parse_csv(text: str, source: str) -> tuple[str, list[RosterEntry]]:
    """(title, entries) from CSV text; RosterError with every problem. The title is the first comment."""
    problems: list[Problem] = []
    title = ""
    lines = text.splitlines()
    data: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        if line.lstrip().startswith("#"):
            if not title:
                title = line.lstrip()[1:].strip()
            continue
        if line.strip():
            data.append((number, line))
    if not data:
        raise RosterError(source, [Problem("第1行", "表头", "没有表头和数据行", None)])
    header_no, header_line = data[0]
    header = [h.strip() for h in next(csv.reader([header_line]))]
    for h in header:
        if h not in FIELD_TITLES:
            problems.append(Problem(f"第{header_no}行", "表头", f"未知的列名（可用：{'、'.join(FIELD_TITLES)}）", h))
    for key in FIELD_TITLES:
        if key not in header and key not in OPTIONAL_FIELDS:
            problems.append(Problem(f"第{header_no}行", FIELD_TITLES[key], "表头缺少此列", key))
    if problems:
        raise RosterError(source, problems)
    entries: list[tuple[str, RosterEntry]] = []
    for number, line in data[1:]:
        cells = next(csv.reader([line]))
        where = f"第{number}行"
        if len(cells) != len(header):
            problems.append(Problem(where, "列数", f"应有 {len(header)} 列，实有 {len(cells)} 列", line))
            continue
        entry = _entry(dict(zip(header, cells, strict=True)), where, problems)
        if entry is not None:
            entries.append((where, entry))
    if not data[1:]:
        problems.append(Problem(f"第{header_no}行", "数据行", "名册中没有任何机构", None))
    _check_duplicates(entries, problems)
    if problems:
        raise RosterError(source, problems)
    return title, [e for _, e in entries]


def parse_json_roster(text: str, source: str) -> tuple[str, list[RosterEntry]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RosterError(source, [Problem(f"第{exc.lineno}行第{exc.colno}列", "JSON", f"不是有效的 JSON：{exc.msg}", None)]) from None
    title = ""
    prefix = "$"
    if isinstance(data, dict):
        unknown = [k for k in data if k not in ("title", "entries")]
        if unknown:
            raise RosterError(source, [Problem(f"$.{k}", "未知字段", "未知的字段（可用：title、entries）", k) for k in unknown])
        title = data.get("title") or ""
        if not isinstance(title, str):
            raise RosterError(source, [Problem("$.title", "名册名称", "应为文本", title)])
        data = data.get("entries")
        prefix = "$.entries"
    if not isinstance(data, list) or not data:
        raise RosterError(source, [Problem(prefix, "机构列表", "应为非空列表", None)])
    problems: list[Problem] = []
    entries: list[tuple[str, RosterEntry]] = []
    for i, raw in enumerate(data):
        where = f"{prefix}[{i}]"
        if not isinstance(raw, dict):
            problems.append(Problem(where, "机构", "应为对象", raw))
            continue
        entry = _entry(raw, where, problems)
        if entry is not None:
            entries.append((where, entry))
    _check_duplicates(entries, problems)
    if problems:
        raise RosterError(source, problems)
    return _clean(title), [e for _, e in entries]


def snapshot_from_bytes(raw: bytes, source: str, imported_at: str, *, fmt: str | None = None) -> RosterSnapshot:
    """The snapshot of roster bytes; `fmt` "csv" or "json" (default: by the source's suffix)."""
    fmt = fmt or ("json" if source.lower().endswith(".json") else "csv")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise RosterError(source, [Problem(f"第{line}行", "编码", "不是 UTF-8 文本", None)]) from None
    title, entries = parse_json_roster(text, source) if fmt == "json" else parse_csv(text, source)
    return RosterSnapshot(
        title=title,
        source=source,
        source_sha256=hashlib.sha256(raw).hexdigest(),
        imported_at=imported_at,
        entries=tuple(sorted(entries, key=lambda e: e.sort_key)),
    )


def import_roster(path: str | Path, imported_at: str) -> RosterSnapshot:
    """Read and check a roster file (the only I/O here); RosterError for any problem, never a traceback."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_ROSTER_BYTES + 1)
    except OSError as exc:
        raise RosterError(str(path), [Problem("$", "名册文件", f"无法读取文件（{exc.strerror}）", str(path))]) from None
    if len(raw) > MAX_ROSTER_BYTES:
        raise RosterError(str(path), [Problem("$", "名册文件", f"文件过大（上限 {MAX_ROSTER_BYTES} 字节）", len(raw))])
    return snapshot_from_bytes(raw, path.name, imported_at)


def snapshot_from_dict(data: dict[str, Any]) -> RosterSnapshot:
    """A snapshot as stored in a draw record (its entries re-checked as strictly as an import)."""
    title, entries = parse_json_roster(json.dumps({"entries": data.get("entries")}), "record.roster")
    return RosterSnapshot(
        title=str(data.get("title") or ""),
        source=str(data.get("source") or ""),
        source_sha256=str(data.get("source_sha256") or ""),
        imported_at=str(data.get("imported_at") or ""),
        entries=tuple(sorted(entries, key=lambda e: e.sort_key)),
    )
