"""A problem found in a case file: where (JSON path), what field (Chinese title), what is wrong."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
