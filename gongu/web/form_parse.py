"""A submitted section form back into case-file JSON, and the row buttons (add, remove, move).

Rules, so an untouched form saves the very file it was rendered from:
- an empty input is omitted, never "" — the save's validation then says 缺少必填项 at its path;
- text is stripped (the model strips too) and textarea line breaks are \\n;
- a timestamp from a datetime-local input ("2025-07-12T09:20") gets ":00"; one with seconds is kept;
- decimals stay the exact text typed ("28.50"); whole numbers become JSON integers when they are plain;
- an object or a list with nothing in it is omitted, unless the model requires its key: then it is kept as
  {} / [] so the problem names the missing fields (or 至少需要一项) instead of the whole object;
- an empty list or object written in the file ([] / {}) stays written: the form carries a hidden
  `_keep` input naming its path (see schema_forms), so an untouched save changes no byte of meaning;
- a row of a list is kept even when empty: rows are positional, and 删除 is how a row goes away;
- keys the workspace sets (gongu/web/form_fields.py NOT_RENDERED) are never returned.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from generator.problems import parse_json_path
from gongu.web.form_fields import FieldSpec, case_model, field_spec, fields_of, section_keys

_EMPTY = object()  # nothing was entered under this path
KEEP = "_keep"  # hidden input: the path of an empty list / object the case file has
_MINUTE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_WHOLE = re.compile(r"-?(?:0|[1-9]\d*)")
_ROW_INDEX = re.compile(r"\[(\d+)\]")


def parse_section(kind: str, keys: tuple[str, ...], form: Mapping[str, list[str]] | Mapping[str, Any]) -> dict[str, Any]:
    """Top-level key → its new JSON value; a key absent from the result is to be removed from the case."""
    model = case_model(kind)
    submitted = _Form(form)
    out: dict[str, Any] = {}
    for key in section_keys(model, keys):
        spec = field_spec(model, key)
        value = _value(spec, f"$.{key}", submitted)
        if value is not _EMPTY:
            out[key] = value
    return out


class _Form(dict[str, list[str]]):
    """The submitted names → values, plus the paths of the empty containers to keep."""

    def __init__(self, form: Mapping[str, Any]) -> None:
        super().__init__()
        # Starlette's FormData maps a name to its last value; multi_items() has every `_keep`.
        multi = getattr(form, "multi_items", None)
        pairs = multi() if callable(multi) else [(k, v) for k, vs in form.items()
                                                 for v in ([vs] if isinstance(vs, str) else vs)]
        for name, value in pairs:
            if isinstance(value, str):  # an uploaded file is not a field of the case
                self.setdefault(name, []).append(value)
        self.keep = frozenset(self.get(KEEP, []))

    def first(self, name: str) -> str:
        values = self.get(name)
        return values[0] if values else ""

    def empty(self, spec: FieldSpec, path: str, container: Any) -> Any:
        """An empty container: kept when its key is required or the file had it; else _EMPTY."""
        return container if spec.required or path in self.keep else _EMPTY


def _value(spec: FieldSpec, path: str, form: _Form) -> Any:
    """The field's JSON value, or _EMPTY; an empty container of a required key is kept as {} / []."""
    if spec.kind == "object":
        found, filled = _object(spec.model, path, form)
        return found if filled else form.empty(spec, path, {})
    if spec.kind == "rows":
        rows = _rows(spec.model, path, form)
        return rows if rows else form.empty(spec, path, [])
    raw = form.first(path).replace("\r\n", "\n").replace("\r", "\n").strip()
    if spec.kind == "lines":
        items = [line.strip() for line in raw.split("\n") if line.strip()]
        return items if items else form.empty(spec, path, [])
    if raw == "":
        return _EMPTY
    return _scalar(spec.kind, raw)


def _scalar(kind: str, raw: str) -> Any:
    if kind == "flag":
        return {"true": True, "false": False}.get(raw, raw)  # anything else is left for validation to name
    if kind == "timestamp" and _MINUTE.fullmatch(raw):
        return raw + ":00"
    if kind == "int" and _WHOLE.fullmatch(raw) and len(raw) <= 20:
        return int(raw)
    return raw


def _object(model: type[BaseModel] | None, path: str, form: _Form) -> tuple[dict[str, Any], bool]:
    """The object's members and whether anything was entered (a required key's {} / [] alone is not)."""
    assert model is not None
    out: dict[str, Any] = {}
    filled = False
    for spec in fields_of(model):
        value = _value(spec, f"{path}.{spec.key}", form)
        if value is _EMPTY:
            continue
        out[spec.key] = value
        filled = filled or not (spec.kind in ("object", "rows", "lines") and value in ({}, []))
    return out, filled


def _rows(model: type[BaseModel] | None, path: str, form: _Form) -> list[Any]:
    """Every row the form has an input for, in index order (an empty row is kept as {})."""
    prefix = path + "["
    indices = sorted({int(m.group(1)) for name in form if name.startswith(prefix)
                      and (m := _ROW_INDEX.match(name, len(path)))})
    return [_object(model, f"{path}[{i}]", form)[0] for i in indices]


def apply_row_op(values: dict[str, Any], op: str) -> dict[str, Any]:
    """A copy of `values` (a parse_section result or a whole case) with one row button applied:
    `add:$.losses` appends an empty row, `remove:$.losses[1]`, `up:$.losses[1]`, `down:$.losses[1]`."""
    verb, _, path = op.partition(":")
    loc = parse_json_path(path)
    if verb not in ("add", "remove", "up", "down") or not path.startswith("$") or not loc:
        raise ValueError(f"无法识别的行操作：{op}（应为 add:/remove:/up:/down: 加 JSON 路径）")
    out = copy.deepcopy(values)
    if verb == "add":
        if isinstance(loc[-1], int):
            raise ValueError(f"添加一行须指向列表本身，而非某一行：{path}")
        rows = _container(out, loc, create=True)
        rows.append({})
        return out
    if not isinstance(loc[-1], int):
        raise ValueError(f"{verb} 须指向列表中的一行，如 $.losses[1]：{path}")
    rows = _container(out, loc[:-1], create=False)
    index = loc[-1]
    if index >= len(rows):
        raise ValueError(f"没有这一行：{path}（共 {len(rows)} 行）")
    if verb == "remove":
        del rows[index]
    else:
        other = index - 1 if verb == "up" else index + 1
        if 0 <= other < len(rows):
            rows[index], rows[other] = rows[other], rows[index]
    return out


def _container(root: dict[str, Any], loc: tuple[str | int, ...], *, create: bool) -> list[Any]:
    """The list at `loc`, creating missing objects and the list itself when `create`."""
    current: Any = root
    for depth, part in enumerate(loc):
        last = depth == len(loc) - 1
        if isinstance(part, int):
            if not isinstance(current, list) or part >= len(current):
                raise ValueError(f"路径不存在：{_path(loc[: depth + 1])}")
            current = current[part]
            continue
        if not isinstance(current, dict):
            raise ValueError(f"路径不存在：{_path(loc[: depth + 1])}")
        if part not in current or current[part] is None:
            if not create:
                raise ValueError(f"路径不存在：{_path(loc[: depth + 1])}")
            current[part] = [] if last else {}
        current = current[part]
    if not isinstance(current, list):
        raise ValueError(f"不是列表：{_path(loc)}")
    return current


def _path(loc: tuple[str | int, ...]) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
