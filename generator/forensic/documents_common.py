"""The document object of a forensic appraisal and the parts every document family builds with: numbered
sections, the institution's seal, the appraisers' sign-off, the parties' signatures, the time limit
(通则 Art 28) and the phrases a result is stated in."""


from dataclasses import dataclass, field
from datetime import date

from generator.amounts import format_amount, rmb_uppercase
from generator.forensic.model import (
    GRADE_NUMERALS,
    MATERIAL_TYPE_TITLES,
    MATTER_KIND_TITLES,
    PARTY_ROLE_TITLES,
    REAPPRAISAL_GROUND_TITLES,
    STANDARD_TITLES,
    Appraiser,
    ForensicAppraisalCase,
    Matter,
    MatterResult,
    Outcome,
    Standard,
)
from generator.pdf_binding import AttachmentRef
from generator.report_blocks import flatten_sections
from generator.report_content import (
    MISSING,
    Block,
    HandlerSignature,
    KeyValues,
    Paragraph,
    Section,
    SignatureBlock,
    Table,
    cn_number,
    fmt_date,
    fmt_dt,
)

# 通则 Art 28: 30 working days from the day the 委托书 takes effect, unless the parties agreed a limit.
DEFAULT_WORKING_DAYS = 30
SEAL_TITLE = "司法鉴定专用章"


@dataclass
class ForensicDocument:
    """One document of the case, ready for both renderers."""

    key: str  # "opinion", "commission", "correction-1" …
    title: str  # 司法鉴定意见书 …
    number: str | None  # the document's own number (委托书编号, 终止鉴定告知书编号 …)
    firm_name: str  # the institution (header, seal)
    case_name: str
    case_id: str
    issued_on: date
    basis: str  # where the format comes from, e.g. "通则 Art 16; 司发通〔2016〕112号"
    sections: list[Section]
    primary: bool = False
    cover: list[tuple[str, str | None]] | None = None  # 意见书 only: cover page and 声明 page
    declaration: list[str] = field(default_factory=list)
    attachments: list[AttachmentRef] = field(default_factory=list)  # bound after the document (pypdf)
    attachment_table: Table | None = None  # its 页码 column is filled once the page count is known
    signers: list[str] = field(default_factory=list)  # handler-N fields, in this order
    # Issued under another body's name and seal (a mediation committee's 调解记录, Sichuan 五(一)): the
    # institution's logo and seal image are not shown on it.
    foreign_issuer: bool = False

    @property
    def report_number(self) -> str:  # the header line of the DOCX renderer
        return self.number or ""

    def all_sections(self) -> list[Section]:
        return flatten_sections(self.sections)


# ─────────────────────────────────────────── helpers ──────────────────────────────────────────


def _sec(n: int, title: str, clause: str | None, anchor: str, blocks: list[Block]) -> Section:
    return Section(number=f"{cn_number(n)}、", title=title, clause=clause, anchor=anchor, blocks=blocks)


def _numbered(sections: list[tuple[str, str | None, str, list[Block]]]) -> list[Section]:
    return [_sec(i, t, c, a, b) for i, (t, c, a, b) in enumerate(sections, start=1)]


def clients(case: ForensicAppraisalCase) -> str:
    names = [p.name for p in case.parties if p.client]
    return "、".join(names) or MISSING


def matter_title(m: Matter) -> str:
    kind = MATTER_KIND_TITLES[m.kind]
    return m.description if m.description.endswith(kind) else f"{kind}（{m.description}）"


def _appraiser(case: ForensicAppraisalCase, name: str) -> Appraiser | None:
    return next((a for a in case.appraisers if a.name == name), None)


def grade_text(grade: int) -> str:
    """10 → 十级伤残, as the opinion states a grade."""
    return f"{GRADE_NUMERALS[grade - 1]}级伤残"


def result_phrase(case: ForensicAppraisalCase, r: MatterResult) -> str:
    """The result of one matter in the words of an opinion; 未构成伤残等级 is a result (Sichuan 三(三))."""
    std = STANDARD_TITLES[case.examination.standard] if case.examination else ""
    if case.examination and case.examination.standard is Standard.other and case.examination.standard_other:
        std = case.examination.standard_other
    if r.outcome is Outcome.grade:
        if r.grade is None:
            return f"构成伤残等级（等级{MISSING}）"
        clause = f"（{std}第{r.clause}条）" if r.clause else ""
        return f"构成{grade_text(r.grade)}{clause}"
    if r.outcome is Outcome.no_disability:
        return "未构成伤残等级"
    if r.outcome is Outcome.not_stable:
        return "伤情尚未稳定，未达到评定时机"
    if r.outcome is Outcome.period:
        return f"{r.days}日" if r.days is not None else MISSING
    return r.text or MISSING


def time_limit(case: ForensicAppraisalCase, extensions: int | None = None) -> date | None:
    """The date the appraisal is due (通则 Art 28) with the first `extensions` extensions (all when None):
    the one computation of generator/forensic/workdays.py, so documents, rules and ledger agree."""
    from generator.forensic.workdays import CalendarNotCovered, Span, add_working_days

    start = case.timeline.effective_on
    if start is None:
        return None
    days = case.commission.agreed_working_days or DEFAULT_WORKING_DAYS
    exts = case.timeline.extensions if extensions is None else case.timeline.extensions[:extensions]
    days += sum(e.working_days for e in exts)
    spans = [Span(s.start, s.end) for s in case.timeline.suspensions]
    try:
        return add_working_days(start, days, spans)
    except CalendarNotCovered:
        return None  # a year that cannot even be estimated: shown as 未提供, the rules say why


def time_limit_text(case: ForensicAppraisalCase, extensions: int | None = None) -> str | None:
    """`time_limit` as printed: the date, with （估算） when it was counted through a year that has no
    official calendar file yet (generator/forensic/holiday_calendar.py)."""
    from generator.forensic.workdays import estimated_years_between

    due = time_limit(case, extensions)
    start = case.timeline.effective_on
    if due is None or start is None:
        return None
    return (fmt_date(due) or "") + ("（估算）" if estimated_years_between(start, due) else "")


def _fee(amount: object) -> str | None:
    if amount is None:
        return None
    return f"{format_amount(amount)} 元（{rmb_uppercase(amount)}）"  # type: ignore[arg-type]


def _seal(case: ForensicAppraisalCase, day: date | None, date_label: str = "日期") -> SignatureBlock:
    """The institution's 司法鉴定专用章 only (PDF field firm-seal)."""
    return SignatureBlock([], case.institution.name, fmt_date(day) or MISSING,
                          signer_title="", seal_title=f"鉴定机构（{SEAL_TITLE}）", date_label=date_label,
                          seal_alt_label=SEAL_TITLE)


def _doc(case: ForensicAppraisalCase, key: str, title: str, number: str | None, day: date | None, basis: str,
         sections: list[Section], **extra: object) -> ForensicDocument:
    return ForensicDocument(key=key, title=title, number=number, firm_name=case.institution.name,
                            case_name=case.case_name, case_id=case.case_id,
                            issued_on=day or case.report.issued_on, basis=basis, sections=sections, **extra)  # type: ignore[arg-type]


def _intro(case: ForensicAppraisalCase) -> KeyValues:
    person = case.examination.person.name if case.examination else None
    return KeyValues([("案件名称", case.case_name), ("委托书编号", case.commission.number),
                      ("委托人", clients(case)), ("被鉴定人", person)])


def _material_rows(case: ForensicAppraisalCase) -> list[list[str]]:
    return [[m.id, m.name, MATERIAL_TYPE_TITLES[m.type], f"{m.quantity} {m.unit}", m.condition,
             fmt_dt(m.received_at) or MISSING, m.provided_by] for m in case.materials]


def _materials_table(case: ForensicAppraisalCase, caption: str) -> Block:
    if not case.materials:
        return Paragraph(f"鉴定材料：{MISSING}", missing=True)
    return Table(header=[["编号", "材料名称", "类型", "数量", "材料状况", "接收时间", "提供方"]],
                 rows=_material_rows(case), widths=[1, 5, 2, 1, 4, 3, 3], caption=caption)




def _original_text(case: ForensicAppraisalCase) -> str:
    """The original opinion a re-appraisal re-examines, and why (通则 Art 31; Sichuan 二(四))."""
    c = case.commission
    r = c.reappraisal
    if r is None:
        return c.original_opinion or MISSING
    return (f"{r.original_opinion_number}，{r.original_institution}（许可证号 {r.original_licence_no}）；"
            f"重新鉴定理由：{REAPPRAISAL_GROUND_TITLES[r.ground]}——{r.ground_text}")


def _attachment_table(refs: list[AttachmentRef]) -> Table:
    rows = [[str(i), r.title, "—", "—"] for i, r in enumerate(refs, start=1)]
    return Table(header=[["序号", "附件名称", "页数", "页码"]], rows=rows, numeric=frozenset({0, 2}),
                 widths=[1, 8, 1, 3], caption="附件（装订于本文书之后）")



def _sign_off(case: ForensicAppraisalCase, names: list[str], day: date, least: int = 2,
              signer_title: str = "司法鉴定人签名") -> list[Block]:
    """Appraisers in the order given (PDF fields handler-1 …), the 专用章 (firm-seal) and the date."""
    handlers = []
    blocks: list[Block] = []
    for i, name in enumerate(names, start=1):
        a = _appraiser(case, name)
        handlers.append(HandlerSignature(i, name, a.licence_no if a else None, a.title if a else None))
    if len(handlers) < least:  # 通则 Art 19: two appraisers per matter — shown, not hidden
        blocks.append(Paragraph(f"{'第二名' if least == 2 else ''}司法鉴定人签名：{MISSING}", missing=True))
    for s in case.report.signatures:
        if s.dissent and s.appraiser in names:  # 通则 Art 37: a dissent is written into the opinion
            blocks.append(Paragraph(f"鉴定人{s.appraiser}的不同意见：{s.dissent}", style="note"))
    blocks.append(SignatureBlock(handlers, case.institution.name, fmt_date(day) or MISSING,
                                 signer_title=signer_title, seal_title=f"鉴定机构（{SEAL_TITLE}）", date_label="日期",
                                 licence_label="《司法鉴定人执业证》证号", seal_alt_label=SEAL_TITLE))
    return blocks


def party_signatures(case: ForensicAppraisalCase, names: list[str], issuer: str, seal_title: str, day: date | None,
                     signer_title: str) -> SignatureBlock:
    """Parties who sign (PDF fields party-1 …, in the order given) above the issuer's seal:
    each shown with their capacity (受害人, 保险机构 …) where a practising licence would be."""
    roles = {p.name: PARTY_ROLE_TITLES[p.role] for p in case.parties}
    people = [HandlerSignature(i, n, roles.get(n) or MISSING, None) for i, n in enumerate(names, start=1)]
    return SignatureBlock(people, issuer, fmt_date(day) or MISSING, signer_title=signer_title, seal_title=seal_title,
                          date_label="日期", licence_label="身份", box_id="party", seal_alt_label=seal_title)
