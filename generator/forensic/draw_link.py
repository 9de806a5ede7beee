"""The link between a case and its draw record (Sichuan 二(三) 公平随机).

A case chosen by `gongu draw` names the record in `selection.draw_record`: a JSON file in the case
folder (relative path, never outside it). The rule `forensic.selection.draw_record`, the 随机选择鉴定机构
记录 document and the archive read it through `read_draw_record` here, so all three agree on what a
readable record is; `link_problems` says whether it belongs to this case and this institution.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator import limits
from generator.case_paths import CasePathError, resolve_case_file
from generator.forensic import draw
from generator.forensic.model import ForensicAppraisalCase

PATH = "$.selection.draw_record"


class DrawRecordError(Exception):
    """The record named by the case cannot be read; the message says why (path, file, what is wrong)."""


@dataclass(frozen=True)
class LinkedRecord:
    path: Path
    data: dict[str, Any]
    raw: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()


def read_draw_record(case_dir: Path, reference: str) -> LinkedRecord:
    """The record file `reference` (relative to `case_dir`), parsed; DrawRecordError when it is outside
    the folder, missing, not UTF-8 JSON or not a gongu draw record."""
    try:
        path = resolve_case_file(case_dir, reference, "随机抽取记录文件")
    except CasePathError as exc:
        raise DrawRecordError(str(exc)) from None
    if not path.is_file():
        raise DrawRecordError(f"随机抽取记录文件不存在：{reference}")
    with path.open("rb") as fh:  # never more than the limit, whatever the file holds
        raw = fh.read(limits.MAX_FILE_BYTES + 1)
    try:
        data = draw.parse_record(raw, reference)
    except draw.RecordUnreadable as exc:
        raise DrawRecordError(str(exc)) from None
    return LinkedRecord(path, data, raw)


def chosen_licence(record: dict[str, Any]) -> str | None:
    chosen = record.get("chosen")
    return str(chosen.get("licence_no")) if isinstance(chosen, dict) and chosen.get("licence_no") else None


def link_problems(case: ForensicAppraisalCase, record: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(path, message, value) for every reason the record does not support this case's choice: it does
    not re-compute (`draw.verify_record`), it is another case's draw, or the institution it chose (after
    declines) is not the institution of this case (compared by licence number)."""
    out: list[tuple[str, str, Any]] = []
    problems = draw.verify_record(record)
    for p in problems:
        out.append((PATH, f"随机抽取记录重新计算不一致：{p.path} {p.title}：{p.message}", p.value))
    if problems:
        return out
    if record["case_id"] != case.case_id:
        out.append((PATH, f"随机抽取记录属于案件 {record['case_id']}，不是本案 {case.case_id}", record["case_id"]))
    licence = chosen_licence(record)
    if licence is None:
        out.append((PATH, "随机抽取记录中没有选定机构（顺序中的机构均已拒绝或回避）", None))
    elif licence != case.institution.licence_no:
        name = record["chosen"].get("name", "")
        out.append(("$.institution.licence_no",
                    f"抽取选定的机构是 {name}（许可证号 {licence}），不是本案的鉴定机构 {case.institution.name}"
                    f"（许可证号 {case.institution.licence_no}）", case.institution.licence_no))
    return out
