"""The blocks a report is made of (sections, paragraphs, tables, key-value blocks) and the formatting of
values shared by every section. A missing value shows as 「未提供」 (9.2), never as an empty cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from generator.amounts import format_amount
from generator.types import SHANGHAI

MISSING = "未提供"

# ─────────────────────────────────────────── blocks ───────────────────────────────────────────


@dataclass
class Paragraph:
    text: str
    missing: bool = False  # rendered as the visible 「未提供」 marker
    style: Literal["body", "note", "emphasis"] = "body"


@dataclass
class KeyValues:
    """Label → value lines; a value of None renders as 「未提供」."""

    pairs: list[tuple[str, str | None]]


@dataclass
class Table:
    header: list[list[str]]  # one or more header rows (repeated on every page)
    rows: list[list[str]]
    numeric: frozenset[int] = frozenset()  # column indexes aligned right
    widths: list[int] | None = None  # relative column widths
    caption: str | None = None
    footer: list[list[str]] = field(default_factory=list)  # totals rows
    group_rows: frozenset[int] = frozenset()  # rows that head a group: first cell spans the row


@dataclass
class PhotoBlock:
    """5.3.1 d): a photo tied to the survey-record item it documents."""

    id: str
    file: str  # as written in the case, relative to the case folder
    caption: str
    record_ref: str  # e.g. 'R2 浆砌片石护坡' or 「未提供」
    taken_at: str | None


@dataclass
class HandlerSignature:
    index: int  # 1-based: element id sig-handler-N, PDF field handler-N
    name: str
    licence_no: str | None
    role: str | None


@dataclass
class SignatureBlock:
    """9.2: handlers' signatures (≥ 2, 资产评估法 Art. 27), the firm's seal and the report date."""

    handlers: list[HandlerSignature]
    firm_name: str
    report_date: str
    # The words around the boxes; the forensic documents say 司法鉴定人签名, 司法鉴定专用章 (通则 Art 38).
    signer_title: str = "承办公估人员签名"
    seal_title: str = "保险公估机构印章"
    date_label: str = "报告日期"
    licence_label: str = "执业证号"
    box_id: str = "handler"  # HTML id sig-<box_id>-N: "party" for parties (generator/signature_fields.py)
    # What the seal is, for the alternative text of its image and field: "<seal_alt_label>：<firm_name>".
    seal_alt_label: str = "公估机构印章"

    @property
    def seal_alt(self) -> str:
        return f"{self.seal_alt_label}：{self.firm_name}"


@dataclass
class ReceiptBlock:
    """The receipt / acknowledgement block under a notice (5.2.1, 5.2.6, 5.3.3)."""

    label: str  # e.g. 被保险人签收（签章）
    signed_by: str | None
    signed_at: str | None
    extra: list[tuple[str, str | None]] = field(default_factory=list)


@dataclass
class AmountBlock:
    """A final amount in figures and in Chinese uppercase, identical to the engine's."""

    label: str
    figures: str
    uppercase: str


Block = Paragraph | KeyValues | Table | PhotoBlock | SignatureBlock | ReceiptBlock | AmountBlock


@dataclass
class Section:
    number: str  # 一 / （一） / 附录A
    title: str
    clause: str | None  # clause of the code the section answers
    anchor: str  # HTML id and bookmark key
    blocks: list[Block] = field(default_factory=list)
    subsections: list[Section] = field(default_factory=list)
    level: int = 1

    @property
    def heading(self) -> str:
        if not self.number:
            return self.title
        sep = "" if self.number.endswith(("、", "）")) else " "
        return f"{self.number}{sep}{self.title}"


@dataclass
class ReportDocument:
    title: str
    case_name: str
    case_id: str
    report_number: str
    report_date: date
    firm_name: str
    cover: list[tuple[str, str | None]]
    summary: list[Block]
    sections: list[Section]  # the body (9.2)
    appendices: list[Section]  # A, B, C
    total_payable: Decimal
    handler_count: int
    photo_files: list[str]

    def all_sections(self) -> list[Section]:
        return flatten_sections(self.sections, self.appendices)


def flatten_sections(*trees: list[Section]) -> list[Section]:
    """Every section of the trees, each before its subsections: the order the renderers number them in."""
    out: list[Section] = []

    def walk(sections: list[Section]) -> None:
        for s in sections:
            out.append(s)
            walk(s.subsections)

    for tree in trees:
        walk(tree)
    return out


# ─────────────────────────────────────────── helpers ──────────────────────────────────────────

_CN_NUM = "一二三四五六七八九十"


def cn_number(n: int) -> str:
    """1 → 一, 12 → 十二, 20 → 二十 (section numbers; a report never has 100 sections)."""
    if n <= 10:
        return _CN_NUM[n - 1]
    tens, ones = divmod(n, 10)
    head = ("" if tens == 1 else _CN_NUM[tens - 1]) + "十"
    return head + (_CN_NUM[ones - 1] if ones else "")


def fmt_dt(value: datetime | None) -> str | None:
    if value is None:
        return None
    local = value.astimezone(SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def fmt_date(value: date | None) -> str | None:
    if value is None:
        return None
    return f"{value.year}年{value.month}月{value.day}日"


def money(value: Decimal | None) -> str | None:
    return None if value is None else format_amount(value)


def qty(value: Decimal | None) -> str:
    if value is None:
        return MISSING
    text = format(value.normalize(), "f")
    return text


def yes_no(value: bool | None) -> str | None:
    return None if value is None else ("是" if value else "否")


def text_or_missing(text: str | None) -> Paragraph:
    return Paragraph(text) if text else Paragraph(MISSING, missing=True)




def _section(title: str, clause: str | None, anchor: str, blocks: list[Block] | None = None) -> Section:
    return Section(number="", title=title, clause=clause, anchor=anchor, blocks=blocks or [])


def _sub(n: int, title: str, clause: str | None, anchor: str, blocks: list[Block]) -> Section:
    return Section(number=f"（{cn_number(n)}）", title=title, clause=clause, anchor=anchor, blocks=blocks, level=2)
