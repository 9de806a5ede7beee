"""Reading a draw record file (`gongu draw …`, docs/draw.md) for every caller: the CLI and the web
workspace's draw page read and check it the same way."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from generator.forensic import draw


class DrawRecordError(Exception):
    """The file cannot be read or is no draw record: the message says which and why."""


def read_record(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise DrawRecordError(f"无法读取抽取记录 {path}（{exc.strerror or exc}）") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DrawRecordError(f"抽取记录 {path} 不是有效的 UTF-8 JSON：{exc}") from None
    if not isinstance(data, dict) or data.get("format") != draw.RECORD_FORMAT:
        raise DrawRecordError(f"{path} 不是抽取记录（format 应为 {draw.RECORD_FORMAT}）")
    return data
