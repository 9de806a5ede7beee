"""The search language, parsed into plain data any backend can translate.

    边坡坍塌                       free text: the text (or any field) contains it
    "锚杆框架梁 破坏"               phrase: these words in this order
    被保险人:四川 保险人:"平安"      field queries, Chinese field names or English aliases (insured:…)
    出险日期:2025-07..2025-08       date range (year, month or day; either end may be left open)
    理算金额:100000..               amount range in yuan (exact: compared in fen)
    暴雨 OR 山洪                    either; terms are otherwise all required
    -设计错误                       must not contain

Free text matches a string *as a substring* (whatever the word segmentation), so a query never
misses a document that contains what was typed.

Queries come from people and from the web workspace, so everything is bounded before an engine sees
it: the query's length and number of terms (each term is a clause the engine nests
and scores), dates between 1900 and 2199, amounts of at most 10^15 yuan written as plain decimals, and
a result window of 10,000 (page × page size). Beyond a bound, `QueryError` says which and why.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Literal

from index.analysis import WORD_RUN
from index.extract import STATUS_TITLES


class QueryError(ValueError):
    """The query cannot be understood; the message says which part and why (shown to the user)."""


MAX_QUERY_CHARS = 1000  # a pasted paragraph fits; a 20 kB blob does not reach the engine
MAX_TERMS = 50  # words, phrases, field values, ranges and exclusions together
MAX_RESULT_WINDOW = 10_000  # page × page size: engines collect every hit up to the page (Elasticsearch's default too)
MIN_YEAR, MAX_YEAR = 1900, 2199  # archive dates; both engines store dates as 64-bit timestamps
MAX_AMOUNT_YUAN = Decimal(10) ** 15  # far above any claim, far below 2^63 fen


@dataclass(frozen=True)
class FieldSpec:
    name: str
    title: str
    kind: Literal["text", "keyword", "date", "amount"]


FIELDS: dict[str, FieldSpec] = {
    f.name: f
    for f in (
        FieldSpec("text", "全文", "text"),
        FieldSpec("case_id", "案件编号", "text"),
        FieldSpec("report_number", "报告编号", "text"),
        FieldSpec("case_name", "案件名称", "text"),
        FieldSpec("kind", "类型", "keyword"),
        FieldSpec("status", "状态", "keyword"),
        FieldSpec("insurer", "保险人", "text"),
        FieldSpec("insured", "被保险人", "text"),
        FieldSpec("policyholder", "投保人", "text"),
        FieldSpec("policy_number", "保单号", "text"),
        FieldSpec("project", "项目", "text"),
        FieldSpec("province", "省份", "text"),
        FieldSpec("city", "城市", "text"),
        FieldSpec("cause", "事故原因", "text"),
        FieldSpec("loss_type", "损失类型", "text"),
        FieldSpec("handlers", "承办人", "text"),
        FieldSpec("reviewers", "审核人", "text"),
        FieldSpec("institution", "鉴定机构", "text"),
        FieldSpec("parties", "当事人", "text"),
        FieldSpec("matters", "鉴定事项", "text"),
        FieldSpec("result", "鉴定意见", "text"),
        FieldSpec("appraisers", "鉴定人", "text"),
        FieldSpec("loss_date", "出险日期", "date"),
        FieldSpec("report_date", "报告日期", "date"),
        FieldSpec("retention_end", "保管期限", "date"),
        FieldSpec("claimed_fen", "索赔金额", "amount"),
        FieldSpec("assessed_fen", "核损金额", "amount"),
        FieldSpec("adjusted_fen", "理算金额", "amount"),
    )
}

ALIASES: dict[str, str] = {
    # Chinese titles and common synonyms
    **{spec.title: spec.name for spec in FIELDS.values()},
    "案号": "case_id", "报告号": "report_number", "案件类型": "kind", "保险公司": "insurer", "工程": "project",
    "工程名称": "project", "项目名称": "project", "省": "province", "市": "city", "原因": "cause",
    "出险原因": "cause", "承办人员": "handlers", "公估师": "handlers", "复核人": "reviewers", "日期": "loss_date",
    "出险时间": "loss_date", "报告时间": "report_date", "保管期限届满": "retention_end", "赔付金额": "adjusted_fen",
    # forensic appraisals: the opinion's number is the report number of the shared spine
    "鉴定文书编号": "report_number", "鉴定编号": "report_number", "意见书编号": "report_number",
    "机构": "institution", "司法鉴定机构": "institution", "被鉴定人": "parties", "受害人": "parties",
    "鉴定结果": "result", "伤残等级": "result", "司法鉴定人": "appraisers",
    # English aliases
    "text": "text", "case": "case_id", "case_id": "case_id", "report": "report_number", "report_number": "report_number",
    "name": "case_name", "kind": "kind", "status": "status", "insurer": "insurer", "insured": "insured",
    "policyholder": "policyholder", "policy": "policy_number", "project": "project", "province": "province",
    "city": "city", "cause": "cause", "loss_type": "loss_type", "handler": "handlers", "handlers": "handlers",
    "reviewer": "reviewers", "reviewers": "reviewers", "date": "loss_date", "loss_date": "loss_date",
    "report_date": "report_date", "retention_end": "retention_end", "claimed": "claimed_fen",
    "assessed": "assessed_fen", "adjusted": "adjusted_fen", "institution": "institution", "party": "parties",
    "parties": "parties", "matter": "matters", "matters": "matters", "result": "result",
    "appraiser": "appraisers", "appraisers": "appraisers",
}

STATUS_ALIASES = {
    **{v: k for k, v in STATUS_TITLES.items()},
    **{k: k for k in STATUS_TITLES},
    "归档": "archived", "在档": "archived", "保全": "held", "冻结": "held", "法律保全": "held", "hold": "held",
    "销毁": "disposed", "已处置": "disposed", "处置": "disposed",
}
KIND_ALIASES = {"car_survey": "car_survey", "建筑工程一切险": "car_survey", "建工险": "car_survey", "car": "car_survey",
                "公估": "car_survey", "forensic_appraisal": "forensic_appraisal", "司法鉴定": "forensic_appraisal",
                "涉保司法鉴定": "forensic_appraisal", "forensic": "forensic_appraisal"}
KIND_TITLES = {"car_survey": "建筑工程一切险公估", "forensic_appraisal": "涉保司法鉴定"}


@dataclass(frozen=True)
class Match:
    """`text` appears in `field` (None: the full text or any descriptive field).

    `phrase` keeps the typed words in order; otherwise each whitespace-free piece is a substring."""

    text: str
    field: str | None = None
    phrase: bool = False


@dataclass(frozen=True)
class Range:
    field: str  # a date or amount field
    low: date | int | None = None  # inclusive; amounts in fen
    high: date | int | None = None  # inclusive


@dataclass(frozen=True)
class SearchQuery:
    """All `groups` must hold (each group: any of its matches), no `excluded` match may, all ranges hold."""

    groups: tuple[tuple[Match, ...], ...] = ()
    excluded: tuple[Match, ...] = ()
    ranges: tuple[Range, ...] = ()
    sort: Literal["score", "date"] = "score"
    page: int = 1
    page_size: int = 10
    raw: str = ""

    def with_filter(self, match: Match) -> SearchQuery:
        return replace(self, groups=(*self.groups, (match,)))

    def with_any(self, matches: tuple[Match, ...]) -> SearchQuery:
        return replace(self, groups=(*self.groups, matches)) if matches else self

    def with_range(self, rng: Range) -> SearchQuery:
        return replace(self, ranges=(*self.ranges, rng))

    @property
    def terms(self) -> list[str]:
        """The texts the user looked for (for highlighting)."""
        return [m.text for group in self.groups for m in group if m.field in (None, "text")]


def words_may_widen(match: Match) -> bool:
    """Whether the words-in-order reading of a free-text match can find more than its substring reading.

    Text without separators is one run: its bigram phrase finds every document containing it, and
    the word phrase could only add documents where punctuation falls between the words — which do
    not contain the text. Then the engines match on the bigrams alone and let the jieba words rank
    (a word term per query word: far cheaper than a second phrase over the whole archive). A typed
    phrase with spaces or punctuation ("锚杆框架梁 破坏") keeps both readings: its words in this order,
    or its pieces as substrings."""
    return len(WORD_RUN.findall("".join(match.text.split()))) > 1 or (match.phrase and len(match.text.split()) > 1)


_TOKEN = re.compile(
    r"""\s*(?P<neg>-)?(?:(?P<field>[^\s:："“”]+)[:：])?(?:"(?P<q1>[^"]*)"|“(?P<q2>[^”]*)”|(?P<bare>[^\s"“”]+))""",
)


def parse_query(
    text: str,
    *,
    sort: Literal["score", "date"] = "score",
    page: int = 1,
    page_size: int = 10,
) -> SearchQuery:
    if page < 1:
        raise QueryError(f"页码应从 1 开始：{page}")
    if not 1 <= page_size <= 1000:
        raise QueryError(f"每页条数应在 1–1000 之间：{page_size}")
    if page * page_size > MAX_RESULT_WINDOW:
        raise QueryError(f"只能查看前 {MAX_RESULT_WINDOW:,} 条结果（第 {page:,} 页 × 每页 {page_size} 条）："
                         "请加条件缩小范围，或用 --sort date 按日期浏览")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"查询过长：{len(text):,} 个字符，最多 {MAX_QUERY_CHARS:,} 个")
    groups: list[list[Match]] = []
    excluded: list[Match] = []
    ranges: list[Range] = []
    pending_or = False
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise QueryError(f"无法理解查询的这一部分：{text[pos:]!r}（引号是否成对？）")
        pos = m.end()
        quoted = m.group("q1") if m.group("q1") is not None else m.group("q2")
        bare = m.group("bare")
        field_name = m.group("field")
        if field_name is None and quoted is None and bare in ("OR", "或", "|"):
            if not groups:
                raise QueryError("OR 前面缺少查询词")
            pending_or = True
            continue
        value = (quoted if quoted is not None else bare or "").strip()
        if not value:
            continue
        canonical = None
        if field_name is not None:
            canonical = ALIASES.get(field_name) or ALIASES.get(field_name.lower())
            if canonical is None:
                known = "、".join(spec.title for spec in FIELDS.values())
                raise QueryError(f"未知字段 {field_name!r}；可用字段：{known}")
        spec = FIELDS[canonical] if canonical else None
        if spec is not None and spec.kind in ("date", "amount"):
            if m.group("neg") or pending_or:
                raise QueryError(f"{spec.title} 范围不能与 OR 或 - 组合")
            ranges.append(parse_range(spec, value))
            continue
        match = Match(text=_normalise_value(spec, value), field=None if canonical == "text" else canonical,
                      phrase=quoted is not None)
        if m.group("neg"):
            excluded.append(match)
        elif pending_or:
            groups[-1].append(match)
        else:
            groups.append([match])
        pending_or = False
    if pending_or:
        raise QueryError("OR 后面缺少查询词")
    terms = sum(len(g) for g in groups) + len(excluded) + len(ranges)
    if terms > MAX_TERMS:
        raise QueryError(f"查询词过多：{terms} 个，最多 {MAX_TERMS} 个（词语、短语、字段条件、范围合计）")
    return SearchQuery(
        groups=tuple(tuple(g) for g in groups),
        excluded=tuple(excluded),
        ranges=tuple(ranges),
        sort=sort,
        page=page,
        page_size=page_size,
        raw=text,
    )


def _normalise_value(spec: FieldSpec | None, value: str) -> str:
    if spec is None:
        return value
    if spec.name == "status":
        status = STATUS_ALIASES.get(value) or STATUS_ALIASES.get(value.lower())
        if status is None:
            raise QueryError(f"状态应为 已归档 / 保全中 / 已销毁（archived / held / disposed）：{value!r}")
        return status
    if spec.name == "kind":
        kind = KIND_ALIASES.get(value) or KIND_ALIASES.get(value.lower())
        if kind is None:
            raise QueryError(f"未知案件类型：{value!r}；可用：{'、'.join(KIND_ALIASES)}")
        return kind
    return value


def parse_range(spec: FieldSpec, value: str) -> Range:
    low_text, sep, high_text = value.partition("..")
    if not sep:
        low_text = high_text = value  # a single year / month / day / amount
    if not low_text and not high_text:
        raise QueryError(f"{spec.title} 范围至少要有一端：{value!r}（例如 2025-07..、..2025-09）")
    if spec.kind == "date":
        low = parse_date_bound(low_text, end=False, title=spec.title) if low_text else None
        high = parse_date_bound(high_text, end=True, title=spec.title) if high_text else None
    else:
        low = parse_yuan_fen(low_text, spec.title) if low_text else None
        high = parse_yuan_fen(high_text, spec.title) if high_text else None
    if low is not None and high is not None and low > high:  # type: ignore[operator]
        raise QueryError(f"{spec.title} 范围的起点晚于终点：{value}")
    return Range(field=spec.name, low=low, high=high)


_DATE = re.compile(r"^(\d{4})(?:[-/.年](\d{1,2})(?:[-/.月](\d{1,2})日?)?月?)?年?$")


def parse_date_bound(text: str, *, end: bool, title: str = "日期") -> date:
    """`2025`, `2025-07` or `2025-07-11`: the first (or, for an upper bound, last) day it covers."""
    m = _DATE.match(text.strip())
    if m is None:
        raise QueryError(f"{title}：{text!r} 不是日期（YYYY、YYYY-MM 或 YYYY-MM-DD）")
    year, month, day = int(m.group(1)), m.group(2), m.group(3)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise QueryError(f"{title}：{text!r} 年份应在 {MIN_YEAR}–{MAX_YEAR} 之间")
    try:
        if month is None:
            return date(year, 12, 31) if end else date(year, 1, 1)
        mo = int(month)
        if day is None:
            return date(year, mo, monthrange(year, mo)[1]) if end else date(year, mo, 1)
        return date(year, mo, int(day))
    except ValueError:
        raise QueryError(f"{title}：{text!r} 不是有效日期") from None


_AMOUNT = re.compile(r"-?\d+(?:\.\d+)?")


def parse_yuan_fen(text: str, title: str = "金额") -> int:
    """A yuan amount typed by a person (commas allowed, 万 suffix) → fen, exact."""
    raw = text.strip().replace(",", "").replace("，", "").removesuffix("元")
    scale = Decimal(1)
    if raw.endswith("万"):
        raw, scale = raw[:-1], Decimal(10000)
    # Digits with an optional decimal part, as a person writes an amount: no exponent (1e400), no NaN.
    if _AMOUNT.fullmatch(raw) is None:
        raise QueryError(f"{title}：{text!r} 不是金额（如 100000、10万、1,000.50）")
    value = Decimal(raw) * scale
    if abs(value) > MAX_AMOUNT_YUAN:
        raise QueryError(f"{title}：{text!r} 超出范围（最多 10^15 元）")
    fen = value * 100
    if fen != fen.to_integral_value():
        raise QueryError(f"{title}：{text!r} 小数位多于两位（分）")
    return int(fen)


@dataclass(frozen=True)
class SearchHit:
    doc_id: str
    score: float
    fields: dict[str, object]  # IndexDocument.as_dict() without the text
    snippets: tuple[str, ...] = ()  # HTML-escaped text with <mark>…</mark> around matched terms


@dataclass(frozen=True)
class SearchResults:
    query: SearchQuery
    total: int
    hits: tuple[SearchHit, ...] = field(default_factory=tuple)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.page_size))

    def as_dict(self) -> dict[str, object]:
        return {
            "query": self.query.raw,
            "total": self.total,
            "page": self.query.page,
            "pages": self.pages,
            "page_size": self.query.page_size,
            "sort": self.query.sort,
            "hits": [
                {"doc_id": h.doc_id, "score": round(h.score, 4), **h.fields, "snippets": list(h.snippets)}
                for h in self.hits
            ],
        }
