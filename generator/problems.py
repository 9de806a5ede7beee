"""A problem found in a case file: where (JSON path), what field (Chinese title), what is wrong."""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True)
class Problem:
    path: str
    title: str
    message: str
    value: Any = None

    def as_dict(self) -> dict[str, Any]:
        value = self.value
        if value is not None and not isinstance(value, (str, int, bool)):
            value = str(value)
        return {"path": self.path, "title": self.title, "message": self.message, "value": value}


def json_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """('policy', 'items', 0, 'sum_insured') → $.policy.items[0].sum_insured"""
    out = "$"
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


_LOC_PART = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def parse_json_path(path: str) -> tuple[str | int, ...]:
    """$.policy.items[0].sum_insured → ('policy', 'items', 0, 'sum_insured')"""
    return tuple(m.group(1) if m.group(1) else int(m.group(2)) for m in _LOC_PART.finditer(path.removeprefix("$")))


def problem_at(model: type[BaseModel], path: str, message: str, value: Any = None) -> Problem:
    """A problem whose Chinese title is read off the model, so every error names fields the same way."""
    return Problem(path, title_for(model, parse_json_path(path)), message, value)


def title_for(model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """The Chinese titles along a location, e.g. 保险合同 / 保险项目[0] / 保险金额."""
    titles: list[str] = []
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            if titles:
                titles[-1] += f"[{part}]"
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            titles.append(str(part))
            current = None
            continue
        info = fields[part]
        titles.append(info.title or part)
        current = _inner_model(info.annotation)
    return " / ".join(titles)


def _inner_model(annotation: Any) -> Any:
    """The BaseModel inside Optional[...] / list[...] / Annotated[...], if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (list, typing.Union, types.UnionType, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _inner_model(arg)
            if found is not None:
                return found
    return None
