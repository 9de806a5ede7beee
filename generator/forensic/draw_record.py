"""The draw record itself (generator/forensic/draw.py describes the method): its format and method text,
reading it under the case file's limits, its digest and sealing after each step, the order of its times,
and the references to institutions it holds."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from generator import limits
from generator.forensic.roster import RosterEntry
from generator.problems import Problem

RECORD_FORMAT = "gongu-draw-record/1"
BEIJING = ZoneInfo("Asia/Shanghai")
MALFORMED = "抽取记录结构"  # the title of the one problem verify_record gives for a record it cannot read
DIGEST_KEY = "record_digest"
MIN_REDRAW_REASON_CHARS = 4

# Written into every record so that it explains itself without the software (format /1 fixes the method).
METHOD: dict[str, str] = {
    "model": "RFC 3797（可公开验证的随机选择），以 SHA-256 代替 MD5；详见 docs/draw.md",
    "text": "文字一律 Unicode NFC、UTF-8 编码；机构按许可证号、再按名称的码位顺序排列",
    "list_hash": "SHA-256(\"gongu-draw-list/1\\n\" + 每家一行 \"许可证号\\t名称\\n\")",
    "commitment": "SHA-256(\"gongu-draw-commit/1\" ‖ 秘密值)",
    "public_value": "开奖号码去前导零，各加 \".\"，末尾加 \"/\"（RFC 3797 第 4 节）",
    "seed": "SHA-256(依次连接的 netstring \"字节数:内容,\"：gongu-draw/1、名单哈希、案件编号、来源、期号、号码串、秘密值个数、按当事人名称排序的（当事人, 秘密值）)",
    "stream": "第 k 块 = SHA-256(\"<种子十六进制>:<k>\")，k = 0, 1, …；每 4 字节（大端）为一个随机数 u",
    "sampling": "在 0…m-1 中取数：u < 2^32 − (2^32 mod m) 时取 u mod m，否则弃用 u 取下一个",
    "order": "剩余 m ≥ 2 家时取 j，把剩余名单第 j 家（从 0 数）移到顺序末尾；最后一家排最后（Fisher–Yates 原始方法）",
    "chosen": "顺序第一家选定；拒绝受理或回避时由下一家顶替，不重新抽取",
}


class DrawRefused(Exception):
    """A step of the draw that may not happen; the message says why and cites the clause."""


class RecordUnreadable(Exception):
    """The bytes are no readable draw record: the message says why, `problems` where (JSON paths)."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


def parse_record(raw: bytes, source: str) -> dict[str, Any]:
    """A draw record's bytes read under the case file's limits (generator/limits.py: size, nesting,
    number length, string length, duplicate keys refused); RecordUnreadable otherwise."""
    if len(raw) > limits.MAX_FILE_BYTES:
        raise RecordUnreadable(f"抽取记录 {source} 超过 {limits.MAX_FILE_BYTES // (1024 * 1024)} MiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordUnreadable(f"抽取记录 {source} 不是 UTF-8 编码（第 {exc.start} 字节）") from None
    data, problems = limits.parse_limited(text, lambda loc: "抽取记录", parse_int=limits.read_whole_number)
    if problems:
        first = "；".join(f"{p.path} {p.message}" for p in problems[:3])
        raise RecordUnreadable(f"抽取记录 {source} 无法读取：{first}", problems)
    if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT:
        raise RecordUnreadable(f"{source} 不是抽取记录（format 应为 {RECORD_FORMAT}）")
    return data


def record_digest(record: dict[str, Any]) -> str:
    """SHA-256 of the record without its digest: compact JSON, keys sorted, characters unescaped."""
    body = {k: v for k, v in record.items() if k != DIGEST_KEY}
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sealed(record: dict[str, Any]) -> dict[str, Any]:
    """The record as a step writes it: its times in order (else refused, as verify would) and its digest."""
    late: list[str] = []
    _check_times(record, lambda path, title, message, value=None: late.append(f"{path} {title}{message}（{value}）"))
    if late:
        raise DrawRefused("时间顺序不对：" + "；".join(late))
    record[DIGEST_KEY] = record_digest(record)
    return record


def _intact(record: dict[str, Any]) -> None:
    """A step works only on a record as the previous step left it."""
    if record.get(DIGEST_KEY) != record_digest(record):
        raise DrawRefused("抽取记录在上一步之后被改动过（记录摘要 record_digest 不符），不能继续；请用原记录")


def redraw_of(previous_raw: bytes, reason: str) -> dict[str, str]:
    """The `redraw` entry of a record replacing an earlier one: its file's SHA-256 and why."""
    if len(reason.strip()) < MIN_REDRAW_REASON_CHARS:
        raise DrawRefused(f"重新抽取须写明理由（至少 {MIN_REDRAW_REASON_CHARS} 个字符）")
    return {"replaces": hashlib.sha256(previous_raw).hexdigest(), "reason": nfc(reason.strip())}


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def instant(text: str) -> datetime:
    """An ISO 8601 time; without an offset it is Beijing time. ValueError when unreadable."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=BEIJING)


def _entry_ref(e: RosterEntry | dict[str, str]) -> dict[str, str]:
    return {"licence_no": e.licence_no, "name": e.name} if isinstance(e, RosterEntry) else {"licence_no": e["licence_no"], "name": e["name"]}


def chosen_after(order: Sequence[dict[str, str]], declines: Sequence[dict[str, str]]) -> dict[str, str] | None:
    """The first in the order that has not declined or recused; None when all have."""
    gone = {d["licence_no"] for d in declines}
    return next((dict(o) for o in order if o["licence_no"] not in gone), None)


def _check_times(record: dict[str, Any], bad: Any) -> None:
    """The record's times in the order of its steps: roster import ≤ prepared ≤ acknowledgements ≤
    declaration; prepared ≤ commitments < publication ≤ draw; commitments ≤ reveals ≤ draw ≤ declines;
    each list in the order it was written."""
    prepared = instant(record["prepared_at"])
    imported = record["roster"].get("imported_at")
    if isinstance(imported, str) and instant(imported) > prepared:
        bad("$.roster.imported_at", "名册导入时间", "晚于名单生成时间", imported)
    decl = record["declaration"]
    if decl is not None and instant(decl["declared_at"]) < prepared:
        bad("$.declaration.declared_at", "指定来源时间", "早于名单生成时间", decl["declared_at"])
    drawn = instant(record["drawn_at"]) if record["drawn_at"] else None
    for key, field_, title in (("acknowledgements", "at", "确认时间"), ("commitments", "committed_at", "承诺时间"),
                               ("reveals", "revealed_at", "公开时间"), ("declines", "at", "拒绝或回避时间")):
        times = [instant(e[field_]) for e in record[key]]
        for i, t in enumerate(times):
            if i and t < times[i - 1]:
                bad(f"$.{key}[{i}].{field_}", title, "早于前一条记录的时间：记录应按发生顺序", record[key][i][field_])
            if key in ("acknowledgements", "commitments") and t < prepared:
                bad(f"$.{key}[{i}].{field_}", title, "早于名单生成时间", record[key][i][field_])
            if key == "reveals" and drawn is not None and t > drawn:
                bad(f"$.{key}[{i}].{field_}", title, "晚于抽取时间", record[key][i][field_])
