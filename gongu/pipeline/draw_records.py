"""Reading a draw record file (`gongu draw …`, docs/draw.md) for every caller: the CLI and the web
workspace's draw page read and check it the same way — under the case file's limits (generator/limits.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from generator import limits
from generator.forensic import draw
from generator.problems import Problem


class DrawRecordError(Exception):
    """The file cannot be read or is no draw record: the message says which and why, `problems` where."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


def read_record_bytes(path: Path) -> tuple[dict[str, Any], bytes]:
    """The record and the exact bytes read (their SHA-256 is what the log records)."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(limits.MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise DrawRecordError(f"无法读取抽取记录 {path}（{exc.strerror or exc}）") from None
    try:
        return draw.parse_record(raw, str(path)), raw
    except draw.RecordUnreadable as exc:
        raise DrawRecordError(str(exc), exc.problems) from None


def read_record(path: Path) -> dict[str, Any]:
    return read_record_bytes(path)[0]
