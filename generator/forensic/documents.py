"""The documents of a forensic appraisal, as plain data (sections and blocks of generator/report_content.py),
and the registry that says which documents a case needs.

Formats follow 司发通〔2016〕112号 (the national formats of 委托书, 意见书, 延长鉴定时限告知书, 终止鉴定告知书,
复核意见, 补正书, 告知书) and the Sichuan opinion (川司鉴协〔2022〕7号) for the records it asks for (风险告知, 到场见证
通知与记录, 机构选择, 回避声明). Both renderers (HTML→PDF, DOCX) consume these objects; nothing here knows
about HTML or Word. Missing data is never dropped: it shows the 「未提供」 marker, which the rules flag.

The registry (`DOCUMENTS`): which documents a case needs —
- 委托书, 司法鉴定告知书, 机构选择记录, 回避声明: every case;
- 随机选择鉴定机构记录: when the case names its `gongu draw` record (selection.draw_record; draw_document.py);
- 单方委托风险告知书, 到场见证通知书: single commission only (Sichuan 二(二));
- 到场见证记录: single commission, or whenever the case records a witnessing (joint: Sichuan 二(一));
- 复核意见 and 意见书: unless the appraisal was terminated — then the 终止鉴定告知书 is the primary document;
- 延长鉴定时限告知书: only when the time limit was extended (通则 Art 28);
- 补正书: one per correction (通则 Art 41), `correction-1`, `correction-2` …;
- 补充意见书: one per supplementary appraisal (通则 Art 30), `supplementary-1` …, signed by its appraisers;
- per dispute (Sichuan 五(一)(二)): the 异议登记表 `dispute-<i>` and one document per mediation, explanation
  or expert-opinion step, `dispute-<i>-step-<j>` (调解记录 — the mediation committee's, under its name and
  seal, signed by the participants —, 鉴定人解释说明 — signed by its appraisers and sealed —, 专家意见).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from generator.amounts import format_amount, rmb_uppercase
from generator.forensic.model import (
    COMMISSION_KIND_TITLES,
    DISPUTE_STEP_TITLES,
    GRADE_NUMERALS,
    MATERIAL_TYPE_TITLES,
    MATTER_KIND_TITLES,
    NOTICE_CHANNEL_TITLES,
    PARTY_ROLE_TITLES,
    REAPPRAISAL_GROUND_TITLES,
    SELECTION_METHOD_TITLES,
    STANDARD_TITLES,
    SUPPLEMENTARY_REASON_TITLES,
    TERMINATION_GROUND_TITLES,
    Appraiser,
    CommissionKind,
    Correction,
    Dispute,
    DisputeStep,
    DisputeStepKind,
    ForensicAppraisalCase,
    Matter,
    MatterResult,
    Outcome,
    Standard,
    Supplementary,
)
from generator.pdf_binding import AttachmentRef
from generator.report_content import (
    MISSING,
    Block,
    HandlerSignature,
    KeyValues,
    Paragraph,
    ReceiptBlock,
    Section,
    SignatureBlock,
    Table,
    _visible,
    cn_number,
    fmt_date,
    fmt_dt,
    text_or_missing,
    yes_no,
)

# 通则 Art 28: 30 working days from the day the 委托书 takes effect, unless the parties agreed a limit.
DEFAULT_WORKING_DAYS = 30
SEAL_TITLE = "司法鉴定专用章"

# 司发通〔2016〕112号 委托书: the three risk warnings the client reads and signs (通则 Art 16).
RISK_WARNINGS = (
    "鉴定意见属于专家的专业意见，其是否被采信取决于办案机关的审查和判断，鉴定人和鉴定机构无权干涉；",
    "由于受鉴定材料或者其他因素限制，并非所有的鉴定都能得出明确的鉴定意见；",
    "鉴定活动遵循依法独立、客观、公正的原则，只对鉴定材料和案件事实负责，不会考虑是否有利于任何一方当事人。",
)

# Sichuan 四(四), word for word: what the insurer's attendees may and may not do while witnessing. The text
# names photographing and filming (拍照、录像) and nothing else; sound recording is not mentioned.
ATTENDEE_DUTY = ("保险机构到场人员必须遵守相关法律法规和《司法鉴定程序通则》，可以向司法鉴定人反映案件查勘有关情况，"
                 "但不得干扰或干预司法鉴定人独立、公正执业，未经涉保当事人同意不得对司法鉴定过程进行拍照、录像。")

# The 声明 page of the 意见书 (2007 national format; the 2016 wording is unverified, forensic-rules.md).
DECLARATION = (
    "委托人应当向鉴定人提供真实、完整、充分的鉴定材料，并对鉴定材料的真实性、合法性负责。",
    "司法鉴定人按照法律、法规和规章规定的方式、方法和步骤，遵守和采用相关技术标准和技术规范进行鉴定。",
    "司法鉴定实行鉴定人负责制度。司法鉴定人依法独立、客观、公正地进行鉴定，不受任何个人和组织的非法干预。",
    "使用司法鉴定意见书，应当保持其完整性和严肃性。",
    "鉴定意见属于专家的专业意见，其是否被采信取决于办案机关的审查和判断，鉴定人和鉴定机构无权干涉。",
)


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
        out: list[Section] = []

        def walk(sections: list[Section]) -> None:
            for s in sections:
                out.append(s)
                walk(s.subsections)

        walk(self.sections)
        return out


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
                          signer_title="", seal_title=f"鉴定机构（{SEAL_TITLE}）", date_label=date_label)


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


# ───────────────────────────────────── 司法鉴定委托书 (Art 16) ─────────────────────────────────


def _original_text(case: ForensicAppraisalCase) -> str:
    """The original opinion a re-appraisal re-examines, and why (通则 Art 31; Sichuan 二(四))."""
    c = case.commission
    r = c.reappraisal
    if r is None:
        return c.original_opinion or MISSING
    return (f"{r.original_opinion_number}，{r.original_institution}（许可证号 {r.original_licence_no}）；"
            f"重新鉴定理由：{REAPPRAISAL_GROUND_TITLES[r.ground]}——{r.ground_text}")


def build_commission(case: ForensicAppraisalCase) -> ForensicDocument:
    """司法鉴定委托书: 通则 Art 16 contents, the three risk warnings, the insurance-use record of
    Sichuan 二(二), 是否属于重新鉴定 (司发通〔2016〕112号)."""
    c = case.commission
    inst = case.institution
    party_rows = [[p.name, PARTY_ROLE_TITLES[p.role], "是" if p.client else "否", p.contact_person or "—",
                   p.phone or "—", p.address or "—"] for p in case.parties]
    matters = [Paragraph(f"{i}. {matter_title(m)}") for i, m in enumerate(c.matters, start=1)]
    reapp = "是" if c.is_reappraisal else "否"
    if c.is_reappraisal:
        reapp += f"（原鉴定：{_original_text(case)}）"
    # Sichuan 二(二): asked and recorded; None means it was never asked — shown as missing.
    insurance = None if c.for_insurance_claim is None else ("是，鉴定文书用于保险理赔" if c.for_insurance_claim else "否")
    limit = c.agreed_working_days or DEFAULT_WORKING_DAYS
    due = time_limit_text(case, extensions=0)
    recusal_rows = [[r.appraiser, r.reason] for r in c.recusal_requests]
    agreed: list[Block] = [KeyValues([
        ("鉴定材料提供方式", c.materials_supply),
        ("鉴定材料退还或处置", c.materials_return),
        ("鉴定时限", f"自本委托书生效之日起 {limit} 个工作日内完成" + (f"（{due}前）" if due else "")
         + "；补充鉴定材料所需时间不计入鉴定时限（通则第二十八条）"),
        ("预计鉴定费", _fee(c.fee)),
        ("鉴定费支付方式", c.fee_payment),
        ("鉴定意见书送达方式", c.delivery_method),
    ])]
    if recusal_rows:
        agreed.append(Table(header=[["需要回避的鉴定人", "回避理由"]], rows=recusal_rows, widths=[1, 3],
                            caption="需要回避的鉴定人及理由（通则第二十条）"))
    else:
        agreed.append(Paragraph("需要回避的鉴定人：无"))
    warnings: list[Block] = [Paragraph(f"{i}. {w}") for i, w in enumerate(RISK_WARNINGS, start=1)]
    warnings.append(KeyValues([("委托人已知悉上述风险", yes_no(c.risk_warnings_acknowledged) if c.risk_warnings_acknowledged
                                else None)]))
    sign: list[Block] = [
        ReceiptBlock("委托人（签名或盖章）", "；".join(c.signed_by) or None, fmt_date(c.signed_on),
                     [("委托人经办人", c.handling_staff)]),
        _seal(case, c.signed_on, "签订日期"),
    ]
    sections = _numbered([
        ("委托人", "通则 Art 16", "com-client", [
            Table(header=[["名称或姓名", "身份", "委托人", "联系人", "联系电话", "地址"]], rows=party_rows,
                  widths=[5, 2, 2, 3, 3, 5]),
            KeyValues([("委托方式", COMMISSION_KIND_TITLES[c.kind]), ("委托人经办人", c.handling_staff)])]),
        ("鉴定机构", "通则 Art 16", "com-institution", [KeyValues([
            ("机构名称", inst.name), ("许可证号", inst.licence_no), ("业务范围", "、".join(inst.qualification_scope)),
            ("地址", inst.address), ("联系电话", inst.phone)])]),
        ("委托鉴定事项", "通则 Art 16", "com-matters", [*matters, KeyValues([
            ("是否属于重新鉴定", reapp), ("鉴定用途", c.purpose),
            ("鉴定文书是否用于保险理赔（川司鉴协〔2022〕7号 二（二））", insurance)])]),
        ("案情摘要", "通则 Art 16", "com-background", [text_or_missing(c.background)]),
        ("鉴定材料", "通则 Art 12", "com-materials", [_materials_table(case, "鉴定材料清单")]),
        ("约定事项", "通则 Art 16/28", "com-terms", agreed),
        ("鉴定风险提示", "通则 Art 16", "com-risks", warnings),
        ("签署", "通则 Art 16", "com-sign", sign),
    ])
    return _doc(case, "commission", "司法鉴定委托书", c.number, c.signed_on or (case.timeline.effective_on),
                "通则 Art 16; 司发通〔2016〕112号", sections)


# ───────────────────────────── 司法鉴定告知书 (司发通〔2016〕112号) ─────────────────────────────
# The national format's text is not at hand (forensic-rules.md: "告知书: rights, duties, risks"); each item
# below restates a rule of the 通则 (2016) or the Sichuan opinion and names it. [unverified: the wording
# and order of the 2016 format itself]


def build_appraisal_notice(case: ForensicAppraisalCase) -> ForensicDocument:
    """司法鉴定告知书: what the client is told when commissioning — rights, duties, recusal, materials, fees,
    time limits, risks and the opinion's delivery — each with the article it comes from."""
    c = case.commission
    limit = c.agreed_working_days or DEFAULT_WORKING_DAYS
    fee = _fee(c.fee)
    items: list[tuple[str, str, list[str]]] = [
        ("委托人的权利", "通则 Art 20–21, 30–31, 36–40；Sichuan 五(一)", [
            "委托人认为鉴定人与委托人、鉴定事项或者案件有利害关系，或者曾参加过同一鉴定事项的鉴定、提供过咨询意见、"
            "作为专家出庭的，可以申请其回避；是否回避由本机构决定，委托人对决定有异议的，可以撤销鉴定委托"
            "（《司法鉴定程序通则》第二十条、第二十一条）。",
            "鉴定意见书出具后，委托人可以要求鉴定机构及鉴定人作出解释和说明（《司法鉴定程序通则》第三十六条至第四十条）。",
            "对鉴定意见有异议的，可以先行申请协商调解，未达成一致的，可以要求鉴定机构及鉴定人作出解释和说明，"
            "或者申请补充鉴定、重新鉴定（川司鉴协〔2022〕7号 五（一）；《司法鉴定程序通则》第三十条、第三十一条）。",
        ]),
        ("委托人的义务", "通则 Art 12, 15；Sichuan 二(一)", [
            "委托人应当向本机构提供真实、完整、充分的鉴定材料，并对鉴定材料的真实性、合法性负责（《司法鉴定程序通则》第十二条）。",
            "共同委托鉴定的，双方应当确认鉴定材料，未经双方确认的，不得用于鉴定（川司鉴协〔2022〕7号 二（一））。",
            "在出具鉴定意见书之前，不得就同一鉴定事项另行委托鉴定（川司鉴协〔2022〕7号 二（一）；"
            "《司法鉴定程序通则》第十五条第（六）项）。",
            "委托人应当按照委托书的约定支付鉴定费用（《司法鉴定程序通则》第十六条）。",
        ]),
        ("鉴定材料", "通则 Art 12, 16", [
            "本机构对收到的鉴定材料逐件登记名称、种类、数量、性状、保存状况和收到时间（《司法鉴定程序通则》第十二条）。",
            f"鉴定材料的提供方式：{c.materials_supply or MISSING}；退还或者处置：{c.materials_return or MISSING}"
            "（按委托书的约定，《司法鉴定程序通则》第十六条）。",
        ]),
        ("鉴定费用", "通则 Art 16", [
            f"预计鉴定费：{fee or MISSING}；支付方式：{c.fee_payment or MISSING}（按委托书的约定）。",
        ]),
        ("鉴定时限", "通则 Art 28", [
            f"本机构自委托书生效之日起 {limit} 个工作日内完成鉴定"
            + ("（委托人与本机构约定的时限）" if c.agreed_working_days else "") + "；"
            "经本机构负责人批准，鉴定时限可以延长，延长不超过三十个工作日，并告知委托人；补充鉴定材料所需的时间，"
            "不计入鉴定时限"
            "（《司法鉴定程序通则》第二十八条）。",
        ]),
        ("鉴定风险", "通则 Art 16", list(RISK_WARNINGS)),
        ("鉴定意见书", "通则 Art 36–40", [
            f"鉴定意见书由鉴定人签名并加盖本机构司法鉴定专用章，一式四份，三份交委托人，一份存档；"
            f"送达方式：{c.delivery_method or MISSING}（《司法鉴定程序通则》第三十六条至第四十条）。",
        ]),
    ]
    sections: list[Section] = []
    for n, (title, clause, lines) in enumerate(items, start=1):
        blocks: list[Block] = [Paragraph(f"{i}. {line}") for i, line in enumerate(lines, start=1)]
        sections.append(_sec(n, title, clause, f"notice-{n}", blocks))
    sections.insert(0, Section("", "告知对象", None, "notice-to", [
        Paragraph(f"致委托人 {clients(case)}："),
        Paragraph(f"贵方委托本机构就“{'；'.join(matter_title(m) for m in c.matters)}”进行司法鉴定（委托书编号："
                  f"{c.number}）。根据《司法鉴定程序通则》，现将有关事项告知如下："),
    ]))
    sections.append(Section("", "签署", None, "notice-sign", [
        ReceiptBlock("委托人已知悉上述告知事项（签名或盖章）", "；".join(c.signed_by) or None, fmt_date(c.signed_on)),
        _seal(case, c.signed_on, "告知日期"),
    ]))
    return _doc(case, "appraisal_notice", "司法鉴定告知书", c.number, c.signed_on or case.timeline.effective_on,
                "司发通〔2016〕112号（告知书）；通则 Art 12, 15–16, 20–21, 28, 30–31, 36–40", sections)


# ──────────────────────────────── 单方委托: 风险告知, 见证通知, 见证记录 ─────────────────────────


def build_risk_notice(case: ForensicAppraisalCase) -> ForensicDocument:
    """单方委托风险告知书 (Sichuan 二(二)): the risks and legal consequences, signed by the party."""
    n = case.single.risk_notice if case.single else None
    c = case.commission
    insurance = None if c.for_insurance_claim is None else ("是" if c.for_insurance_claim else "否")
    blocks: list[Block] = [
        Paragraph(f"致委托人 {clients(case)}："),
        Paragraph(f"您单方委托{case.institution.name}就“{'；'.join(matter_title(m) for m in c.matters)}”进行司法鉴定。"
                  "根据《四川省司法鉴定协会关于规范涉保司法鉴定工作的实施意见》（川司鉴协〔2022〕7号）二（二），现告知如下："),
        Paragraph("1. 单方委托的鉴定意见，保险机构可能不予认可，并可依法申请重新鉴定或通过诉讼解决，由此产生的费用和时间由相关方依法承担；"),
        Paragraph("2. 本机构将通知（含电话方式）相关保险机构到场见证；保险机构不按时派员到场的，本机构按规定实施鉴定；"),
        Paragraph("3. 您应当对所提供鉴定材料的真实性、合法性负责，提供虚假材料的，依法承担相应法律责任；"),
        Paragraph("4. 在出具鉴定意见书之前，不得就同一鉴定事项另行委托鉴定（川司鉴协〔2022〕7号 二（一））。"),
        KeyValues([("鉴定文书是否用于保险理赔", insurance)]),
        ReceiptBlock("委托人已知悉上述风险及法律后果（签名）", n.signed_by if n else None,
                     fmt_dt(n.signed_at) if n else None, [("告知人", n.told_by if n else None)]),
        _seal(case, n.signed_at.date() if n else None, "告知日期"),
    ]
    sections = [Section("", "告知内容", "Sichuan 二(二)", "risk-notice", blocks)]
    return _doc(case, "risk_notice", "单方委托风险告知书", c.number, n.signed_at.date() if n else None,
                "川司鉴协〔2022〕7号 二（二）", sections)


def build_witness_notice(case: ForensicAppraisalCase) -> ForensicDocument:
    """到场见证通知书 and its notification record (Sichuan 二(二): a phone call counts; 四(四): IDs)."""
    notices = case.single.witness_notices if case.single else []
    blocks: list[Block] = []
    if not notices:
        blocks.append(Paragraph(f"到场见证通知：{MISSING}", missing=True))
    person = case.examination.person.name if case.examination else MISSING
    for i, w in enumerate(notices, start=1):
        if len(notices) > 1:
            blocks.append(Paragraph(f"第 {i} 次通知", style="emphasis"))
        blocks += [
            Paragraph(f"致{w.insurer}："),
            Paragraph(f"本机构受{clients(case)}单方委托，对被鉴定人{person}进行司法鉴定（委托书编号：{case.commission.number}），"
                      f"定于{fmt_dt(w.scheduled_for)}在{w.place}实施检验。根据川司鉴协〔2022〕7号二（二），请贵公司派员到场见证。"),
            Paragraph("到场人员请携带工作证明及居民身份证，经查验并留存复印件后方可见证；未能出示证件的，不得参与见证"
                      "（川司鉴协〔2022〕7号 四（四））。到场人员可旁观、旁听鉴定过程（二（二））。"
                      "贵公司不按时派员到场的，本机构将按规定实施鉴定。"),
            Paragraph(f"依照川司鉴协〔2022〕7号 四（四），{ATTENDEE_DUTY}", style="emphasis"),
            Table(header=[["通知方式", "通知时间", "接收通知人", "联系号码或地址", "通知人", "通知书编号"]],
                  rows=[[NOTICE_CHANNEL_TITLES[w.channel], fmt_dt(w.at) or MISSING, w.person_reached,
                         w.contact or "—", w.notified_by, w.notice_number or "—"]],
                  widths=[2, 3, 3, 3, 2, 3], caption="通知记录"),
        ]
    first = notices[0] if notices else None
    blocks.append(_seal(case, first.at.date() if first else None, "通知日期"))
    sections = [Section("", "通知及通知记录", "Sichuan 二(二)", "witness-notice", blocks)]
    number = first.notice_number if first and first.notice_number else case.commission.number
    return _doc(case, "witness_notice", "到场见证通知书", number, first.at.date() if first else None,
                "川司鉴协〔2022〕7号 二（二）、四（四）", sections)


def build_attendance(case: ForensicAppraisalCase) -> ForensicDocument:
    """到场见证记录 (Sichuan 二(二), 四(四)): who came, IDs checked and copies kept, both sides' signatures,
    or the note that the insurer did not come and the appraisal went ahead."""
    a = case.attendance
    attachments: list[AttachmentRef] = []
    if a is None:
        blocks: list[Block] = [Paragraph(f"到场见证记录：{MISSING}", missing=True)]
    else:
        place = case.examination.place if case.examination else None
        blocks = [KeyValues([("见证时间", fmt_dt(a.at)), ("鉴定地点", place),
                             ("保险机构是否到场", "到场" if a.insurer_attended else "未到场")])]
        if a.attendees:
            ok = lambda v: "是" if v else "否"  # noqa: E731
            blocks.append(Table(
                header=[["到场人员", "所在单位", "查验身份证件", "查验工作证明", "复印件留存", "签字确认"]],
                rows=[[p.name, p.organisation, ok(p.id_checked), ok(p.work_id_checked), ok(p.copies_kept), ok(p.signed)]
                      for p in a.attendees], widths=[2, 5, 2, 2, 2, 2], caption="保险机构到场人员（川司鉴协〔2022〕7号 四（四））"))
            for i, p in enumerate(a.attendees):
                if p.id_copy_file:
                    attachments.append(AttachmentRef(f"{p.name} 证件复印件", p.id_copy_file,
                                                     f"到场人员 {p.name} 的证件复印件 $.attendance.attendees[{i}].id_copy_file"))
        if not a.insurer_attended:
            blocks.append(KeyValues([("未到场情况说明", a.absence_note)]))
            if a.proceeded:
                blocks.append(Paragraph("保险机构经通知未按时派员到场，本机构按规定实施鉴定（川司鉴协〔2022〕7号 二（二））。",
                                        style="emphasis"))
        blocks.append(KeyValues([("当事人到场人员", "、".join(a.party_present) or None),
                                 ("当事人签字确认", "已签字" if a.party_signed else None)]))
        insurer_names = "、".join(p.name for p in a.attendees if p.signed) or (None if a.insurer_attended else "（未到场）")
        blocks.append(ReceiptBlock("保险机构到场人员（签名）", insurer_names, fmt_dt(a.at) if a.insurer_attended else None))
        blocks.append(ReceiptBlock("当事人（签名）", "、".join(a.party_present) if a.party_signed else None,
                                   fmt_dt(a.at) if a.party_signed else None))
    day = a.at.date() if a else None
    sections = [Section("", "见证情况", "Sichuan 二(二)", "attendance", blocks)]
    table = None
    if attachments:
        table = _attachment_table(attachments)
        sections.append(Section("", "附件", None, "attendance-attachments", [table]))
    sections.append(Section("", "鉴定机构", None, "attendance-seal", [_seal(case, day, "记录日期")]))
    return _doc(case, "attendance", "到场见证记录", case.commission.number, day, "川司鉴协〔2022〕7号 二（二）、四（四）",
                sections, attachments=attachments, attachment_table=table)


# ──────────────────────────────────── 选择记录, 回避声明 ───────────────────────────────────────


def build_selection(case: ForensicAppraisalCase) -> ForensicDocument:
    """鉴定机构选择记录 (Sichuan 二(三)): by agreement first, or a fair random draw, from the roster."""
    s = case.selection
    blocks: list[Block] = [KeyValues([
        ("选择方式", SELECTION_METHOD_TITLES[s.method]), ("选定时间", fmt_dt(s.at)),
        ("参与选定的当事人", "、".join(s.agreed_by)), ("名册", s.from_roster), ("选定机构", case.institution.name),
        *([("随机抽取记录编号", s.draw_reference)] if s.method.value == "random_draw" else []),
        ("选择过程记录", s.record),
    ]), Paragraph("依照川司鉴协〔2022〕7号二（三），涉保当事人和保险机构在司法行政机关公布的司法鉴定机构名册中，"
                  "遵循优先协商或公平随机方式选择司法鉴定机构及鉴定人。", style="note"),
        ReceiptBlock("参与选定的当事人（签名）", "；".join(s.agreed_by), fmt_dt(s.at)),
        _seal(case, s.at.date(), "记录日期")]
    sections = [Section("", "选择情况", "Sichuan 二(三)", "selection", blocks)]
    return _doc(case, "selection", "鉴定机构选择记录", case.commission.number, s.at.date(),
                "川司鉴协〔2022〕7号 二（三）", sections)


def build_recusal(case: ForensicAppraisalCase) -> ForensicDocument:
    """回避 / 利害关系声明 of each appraiser (通则 Art 20–21, Sichuan 三(四))."""
    sections: list[Section] = []
    for i, a in enumerate(case.appraisers, start=1):
        decl = next((r for r in case.recusals if r.appraiser == a.name), None)
        if decl is None:
            blocks: list[Block] = [Paragraph(f"{a.name} 的回避声明：{MISSING}", missing=True)]
        else:
            blocks = [
                KeyValues([("声明人", a.name), ("执业证号", a.licence_no), ("专业技术职称", a.title),
                           ("利害关系或应回避情形", "有" if decl.has_interest else "无"),
                           ("声明时间", fmt_dt(decl.declared_at))]),
                Paragraph(decl.statement),
            ]
            if decl.has_interest or decl.decision:
                blocks.append(KeyValues([("机构决定（通则第二十一条）", decl.decision)]))
            blocks.append(ReceiptBlock("声明人（签名）", a.name, fmt_dt(decl.declared_at)))
        sections.append(_sec(i, f"鉴定人 {a.name}", "通则 Art 20–21", f"recusal-{i}", blocks))
    requests = case.commission.recusal_requests
    tail: list[Block] = []
    if requests:
        tail.append(Table(header=[["申请回避的鉴定人", "回避理由"]], rows=[[r.appraiser, r.reason] for r in requests],
                          widths=[1, 3], caption="委托人申请回避"))
    else:
        tail.append(Paragraph("委托人未申请鉴定人回避。"))
    tail.append(_seal(case, case.timeline.accepted_at.date() if case.timeline.accepted_at else None))
    sections.append(_sec(len(sections) + 1, "委托人回避申请及机构意见", "通则 Art 21", "recusal-requests", tail))
    day = max((r.declared_at for r in case.recusals), default=None)
    return _doc(case, "recusal", "回避声明（利害关系声明）", case.commission.number, day.date() if day else None,
                "通则 Art 20–21；川司鉴协〔2022〕7号 三（四）", sections)


# ─────────────────────────────────────── 司法鉴定意见书 ───────────────────────────────────────


def _attachment_table(refs: list[AttachmentRef]) -> Table:
    rows = [[str(i), r.title, "—", "—"] for i, r in enumerate(refs, start=1)]
    return Table(header=[["序号", "附件名称", "页数", "页码"]], rows=rows, numeric=frozenset({0, 2}),
                 widths=[1, 8, 1, 3], caption="附件（装订于本文书之后）")


def opinion_attachments(case: ForensicAppraisalCase) -> list[AttachmentRef]:
    """Files listed in the 意见书's 附件: `attachments[].file`, and the scans of the materials used."""
    refs = [AttachmentRef(a.title, a.file, f"附件 {i + 1}（{a.title}）的文件 $.attachments[{i}].file")
            for i, a in enumerate(case.attachments) if a.file]
    listed = {r.file for r in refs}
    for i, m in enumerate(case.materials):
        if m.file and m.used and m.file not in listed:
            refs.append(AttachmentRef(f"{m.name}（扫描件）", m.file, f"鉴定材料 {m.id} 的扫描件 $.materials[{i}].file"))
    return refs


def build_opinion(case: ForensicAppraisalCase) -> ForensicDocument:
    """司法鉴定意见书 (司发通〔2016〕112号; 通则 Art 36–40): cover, 声明, 基本情况, 基本案情, 资料摘要,
    鉴定过程, 分析说明, 鉴定意见, 附件, sign-off (≥ 2 appraisers, Art 19; dissent, Art 37; 专用章)."""
    c = case.commission
    ex = case.examination
    inst = case.institution
    materials = "；".join(f"{m.name}{m.quantity}{m.unit}" for m in case.materials if m.used) or None
    basic = KeyValues([
        ("委托人", clients(case)),
        ("委托方式", COMMISSION_KIND_TITLES[c.kind]),
        ("委托鉴定事项", "；".join(matter_title(m) for m in c.matters)),
        ("受理日期", fmt_date(case.timeline.accepted_at.date()) if case.timeline.accepted_at else None),
        ("鉴定材料", materials),
        ("鉴定日期", fmt_dt(ex.at) if ex else None),
        ("鉴定地点", ex.place if ex else None),
        ("在场人员", "、".join(ex.present) if ex and ex.present else None),
        ("被鉴定人", _person(case)),
        ("是否属于重新鉴定", f"是（原鉴定：{_original_text(case)}）" if c.is_reappraisal else "否"),
    ])
    summaries: list[Block] = []
    for n, m in enumerate((m for m in case.materials if m.used and m.summary), start=1):
        summaries.append(Paragraph(f"（{cn_number(n)}）{m.name}：{m.summary}"))
    if not summaries:
        summaries.append(Paragraph(f"资料摘要：{MISSING}", missing=True))
    if ex is None:
        process: list[Block] = [Paragraph(f"检验记录：{MISSING}", missing=True)]
        analysis: list[Block] = [Paragraph(MISSING, missing=True)]
    else:
        std = STANDARD_TITLES[ex.standard] if ex.standard is not Standard.other else (ex.standard_other or MISSING)
        process = [KeyValues([("检验方法", ex.method), ("适用标准", std),
                              *([("适用标准依据", ex.standard_basis)] if ex.standard_basis or ex.standard is Standard.jrt_0083_2013 else []),
                              ("检验时间", fmt_dt(ex.at)), ("检验地点", ex.place)]),
                   Paragraph("（一）被鉴定人自诉", style="emphasis"), Paragraph(ex.complaint),
                   Paragraph("（二）检验所见", style="emphasis"), Paragraph(ex.findings),
                   Paragraph("（三）阅片所见", style="emphasis"), text_or_missing(ex.imaging)]
        analysis = [Paragraph(ex.analysis)]
    results = {r.matter: r for r in case.results}
    opinion: list[Block] = []
    for i, m in enumerate(c.matters, start=1):
        r = results.get(m.id)
        if r is None:
            opinion.append(Paragraph(f"{i}. {matter_title(m)}：{MISSING}", missing=True))
            continue
        opinion.append(Paragraph(f"{i}. {matter_title(m)}：{result_phrase(case, r)}。", style="emphasis"))
        if r.text and r.outcome is not Outcome.finding:
            opinion.append(Paragraph(r.text))
    if case.report.opinion:
        opinion.append(Paragraph(case.report.opinion))
    refs = opinion_attachments(case)
    sections_spec: list[tuple[str, str | None, str, list[Block]]] = [
        ("基本情况", "司发通〔2016〕112号", "op-basic", [basic]),
        ("基本案情", None, "op-case", [text_or_missing(ex.incident if ex else c.background)]),
        ("资料摘要", None, "op-materials", summaries),
        ("鉴定过程", "通则 Art 23/27", "op-process", process),
        ("分析说明", None, "op-analysis", analysis),
        ("鉴定意见", "Sichuan 三(三)", "op-opinion", opinion),
    ]
    table = None
    if refs:
        table = _attachment_table(refs)
        sections_spec.append(("附件", "通则 Art 36–40", "op-attachments", [table]))
    sections = _numbered(sections_spec)
    sections.append(Section("", "鉴定人签名及鉴定机构印章", "通则 Art 19/37", "op-signatures",
                            _sign_off(case, [s.appraiser for s in case.report.signatures], case.report.issued_on)))
    cover = [("委托人", clients(case)), ("被鉴定人", ex.person.name if ex else None),
             ("委托鉴定事项", "；".join(MATTER_KIND_TITLES[m.kind] for m in c.matters)),
             ("鉴定机构", inst.name), ("许可证号", inst.licence_no), ("出具日期", fmt_date(case.report.issued_on))]
    decl = [*DECLARATION, f"鉴定机构地址：{inst.address}" + (f"（邮政编码 {inst.post_code}）" if inst.post_code else ""),
            f"联系电话：{inst.phone}"]
    return _doc(case, "opinion", case.report.title or "司法鉴定意见书", case.report.number, case.report.issued_on,
                "司发通〔2016〕112号；通则 Art 36–40", sections, primary=True, cover=cover, declaration=decl,
                attachments=refs, attachment_table=table, signers=[s.appraiser for s in case.report.signatures])


def _person(case: ForensicAppraisalCase) -> str | None:
    if case.examination is None:
        return None
    p = case.examination.person
    parts = [p.name, p.sex]
    if p.birth_date:
        parts.append(f"{fmt_date(p.birth_date)}出生")
    if p.id_number:
        parts.append(f"身份证号 {p.id_number}")
    if p.address:
        parts.append(f"住{p.address}")
    return "，".join(parts)


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
                                 licence_label="《司法鉴定人执业证》证号"))
    return blocks


def party_signatures(case: ForensicAppraisalCase, names: list[str], issuer: str, seal_title: str, day: date | None,
                     signer_title: str) -> SignatureBlock:
    """Parties who sign (PDF fields party-1 …, in the order given) above the issuer's seal:
    each shown with their capacity (受害人, 保险机构 …) where a practising licence would be."""
    roles = {p.name: PARTY_ROLE_TITLES[p.role] for p in case.parties}
    people = [HandlerSignature(i, n, roles.get(n) or MISSING, None) for i, n in enumerate(names, start=1)]
    return SignatureBlock(people, issuer, fmt_date(day) or MISSING, signer_title=signer_title, seal_title=seal_title,
                          date_label="日期", licence_label="身份", box_id="party")


# ───────────────────────────── 复核意见, 延长, 终止, 补正 ───────────────────────────────────


def build_review_opinion(case: ForensicAppraisalCase) -> ForensicDocument:
    """司法鉴定复核意见 (通则 Art 35): by qualified staff who are not appraisers of the case."""
    r = case.review_opinion
    if r is None:
        blocks: list[Block] = [Paragraph(f"复核意见：{MISSING}", missing=True)]
        day = None
    else:
        day = r.at.date()
        blocks = [
            KeyValues([("鉴定文书编号", case.report.number), ("委托书编号", case.commission.number),
                       ("复核人", r.reviewer.name), ("执业证号", r.reviewer.licence_no),
                       ("专业技术职称", r.reviewer.title), ("复核时间", fmt_dt(r.at))]),
            Paragraph("（一）程序复核意见", style="emphasis"), Paragraph(r.procedure),
            Paragraph("（二）鉴定意见复核意见", style="emphasis"), Paragraph(r.substance),
            KeyValues([("复核结论", "同意鉴定意见" if r.agrees else "不同意鉴定意见，退回鉴定人重新研究")]),
            ReceiptBlock("复核人（签名）", r.reviewer.name, fmt_dt(r.at)),
        ]
    blocks.append(_seal(case, day, "复核日期"))
    sections = [Section("", "复核情况", "通则 Art 35", "review", blocks)]
    return _doc(case, "review_opinion", "司法鉴定复核意见", case.report.number, day, "通则 Art 35；司发通〔2016〕112号",
                sections)


def build_extension(case: ForensicAppraisalCase) -> ForensicDocument:
    """延长鉴定时限告知书 (通则 Art 28): reason, the new deadline, the head's approval; the client is told."""
    sections: list[Section] = []
    exts = case.timeline.extensions
    for i, e in enumerate(exts, start=1):
        before, after = time_limit_text(case, extensions=i - 1), time_limit_text(case, extensions=i)
        blocks: list[Block] = [
            Paragraph(f"{clients(case)}："),
            Paragraph(f"贵方委托本机构鉴定的“{'；'.join(matter_title(m) for m in case.commission.matters)}”"
                      f"（委托书编号：{case.commission.number}），因{e.reason}，经本机构负责人批准，鉴定时限延长 "
                      f"{e.working_days} 个工作日。根据《司法鉴定程序通则》第二十八条，特此告知。"),
            KeyValues([("告知书编号", e.notice_number), ("原定完成日期", before),
                       ("延长工作日数", f"{e.working_days} 个工作日"), ("延长后完成日期", after),
                       ("延长理由", e.reason), ("批准人（机构负责人）", e.approved_by), ("批准日期", fmt_date(e.approved_on)),
                       ("告知委托人时间", fmt_dt(e.client_notified_at))]),
            _seal(case, e.approved_on, "告知日期"),
        ]
        title = "延长鉴定时限" if len(exts) == 1 else f"第 {i} 次延长鉴定时限"
        sections.append(Section("", title, "通则 Art 28", f"extension-{i}", blocks))
    first = exts[0] if exts else None
    return _doc(case, "extension", "延长鉴定时限告知书", first.notice_number if first else None,
                first.approved_on if first else None, "通则 Art 28；司发通〔2016〕112号", sections)


def build_termination(case: ForensicAppraisalCase) -> ForensicDocument:
    """终止鉴定告知书 (通则 Art 29): ground, materials returned, refund; the case's primary document."""
    t = case.termination
    assert t is not None
    blocks: list[Block] = [
        Paragraph(f"{clients(case)}："),
        Paragraph(f"贵方委托本机构鉴定的“{'；'.join(matter_title(m) for m in case.commission.matters)}”"
                  f"（委托书编号：{case.commission.number}），因{TERMINATION_GROUND_TITLES[t.ground]}，"
                  "根据《司法鉴定程序通则》第二十九条，本机构决定终止鉴定。特此告知。"),
        KeyValues([("终止理由", TERMINATION_GROUND_TITLES[t.ground]), ("情况说明", t.explanation),
                   ("决定日期", fmt_date(t.decided_on)),
                   ("鉴定材料", "已退还委托人" if t.materials_returned else f"退还情况：{MISSING}"),
                   ("退还鉴定费", _fee(t.refund) if t.refund is not None else "不退还（按约定）")]),
        _seal(case, t.decided_on, "日期"),
    ]
    sections = [Section("", "终止鉴定", "通则 Art 29", "termination", blocks)]
    return _doc(case, "termination", "终止鉴定告知书", t.number, t.decided_on, "通则 Art 29；司发通〔2016〕112号",
                sections, primary=True)


def build_correction(case: ForensicAppraisalCase, index: int, c: Correction) -> ForensicDocument:
    """司法鉴定意见补正书 (通则 Art 41): original number, what was corrected, signatures; never the opinion."""
    rows = [[str(i), it.location, it.before, it.after] for i, it in enumerate(c.items, start=1)]
    blocks: list[Block] = [
        KeyValues([("补正书编号", c.number), ("原鉴定文书编号", case.report.number),
                   ("原鉴定文书出具日期", fmt_date(case.report.issued_on)), ("补正日期", fmt_date(c.issued_on)),
                   ("补正原因", c.reason)]),
        Table(header=[["序号", "补正位置", "原表述", "补正后表述"]], rows=rows, numeric=frozenset({0}),
              widths=[1, 3, 5, 5], caption="补正内容"),
    ]
    if c.changes_opinion:
        blocks.append(Paragraph("本补正涉及鉴定意见：补正不得改变鉴定意见（通则第四十一条），请以重新出具或补充鉴定处理。",
                                missing=True))
    else:
        blocks.append(Paragraph("本补正书仅对原鉴定文书中的文字表述予以补正，不改变原鉴定意见（《司法鉴定程序通则》第四十一条）。"
                                "本补正书与原鉴定文书同时使用。", style="emphasis"))
    sections = [Section("", "补正", "通则 Art 41", f"correction-{index}", blocks),
                Section("", "鉴定人签名及鉴定机构印章", "通则 Art 41", f"correction-{index}-sign",
                        _sign_off(case, list(c.signed_by), c.issued_on))]
    return _doc(case, f"correction-{index}", "司法鉴定意见补正书", c.number, c.issued_on, "通则 Art 41；司发通〔2016〕112号",
                sections, signers=list(c.signed_by))


# ──────────────────── 补充鉴定 (Art 30) and the dispute path (Sichuan 五(一)(二)) ───────────────────


def build_supplementary(case: ForensicAppraisalCase, index: int, sup: Supplementary) -> ForensicDocument:
    """司法鉴定补充意见书 (通则 Art 30): part of the original appraisal, by its appraisers, sealed like the
    意见书 (the institution's 专用章 and the appraisers' signatures, signing role "supplementary-<n>")."""
    names = {m.id: m.name for m in case.materials}
    new = "、".join(f"{mid} {names.get(mid, MISSING)}" for mid in sup.new_materials) or "无"
    blocks: list[Block] = [
        KeyValues([("补充意见书编号", sup.number), ("原鉴定文书编号", case.report.number),
                   ("原鉴定文书出具日期", fmt_date(case.report.issued_on)), ("委托书编号", case.commission.number),
                   ("补充鉴定原因", SUPPLEMENTARY_REASON_TITLES[sup.reason]), ("原因说明", sup.reason_text),
                   ("新的鉴定材料", new), ("申请日期", fmt_date(sup.requested_on)), ("出具日期", fmt_date(sup.issued_on))]),
    ]
    sections = _numbered([
        ("基本情况", "通则 Art 30", f"supplementary-{index}-basis", blocks),
        ("补充检验及分析说明", None, f"supplementary-{index}-findings", [Paragraph(sup.findings)]),
        ("补充鉴定意见", None, f"supplementary-{index}-result", [
            Paragraph(sup.result, style="emphasis"),
            Paragraph("本补充意见书是原鉴定意见书的组成部分，应与原鉴定意见书同时使用（《司法鉴定程序通则》第三十条）。")]),
        ("鉴定人签名及鉴定机构印章", "通则 Art 30", f"supplementary-{index}-sign",
         _sign_off(case, list(sup.appraisers), sup.issued_on)),
    ])
    return _doc(case, f"supplementary-{index}", "司法鉴定补充意见书", sup.number, sup.issued_on,
                "通则 Art 30；司发通〔2016〕112号（意见书格式）", sections, signers=list(sup.appraisers))


def _step_rows(d: Dispute) -> list[list[str]]:
    return [[str(j), fmt_date(st.on) or MISSING, DISPUTE_STEP_TITLES[st.kind], st.by, st.what, st.outcome or "处理中"]
            for j, st in enumerate(d.steps, start=1)]


def build_objection(case: ForensicAppraisalCase, i: int, d: Dispute) -> ForensicDocument:
    """异议登记表 (Sichuan 五(一)): who objected, when, to what and what they asked; the path it took."""
    requests = {"mediation": "申请协商调解", "explanation": "要求鉴定机构及鉴定人解释和说明",
                "supplementary": "申请补充鉴定", "reappraisal": "申请重新鉴定"}
    blocks: list[Block] = [
        KeyValues([("异议登记编号", d.number), ("鉴定文书编号", case.report.number),
                   ("鉴定文书出具日期", fmt_date(case.report.issued_on)), ("异议提出方", d.raised_by),
                   ("提出日期", fmt_date(d.raised_on)), ("异议内容", d.note), ("请求", requests[d.request]),
                   ("处理状态", "已处理" if d.status.value == "resolved" else "处理中")]),
    ]
    if d.steps:
        blocks.append(Table(header=[["序号", "日期", "步骤", "经办", "处理内容", "结果"]], rows=_step_rows(d),
                            numeric=frozenset({0}), widths=[1, 2, 2, 4, 6, 4], caption="处理过程"))
    blocks.append(_seal(case, d.raised_on, "登记日期"))
    sections = [Section("", "异议登记", "Sichuan 五(一)", f"dispute-{i}", blocks)]
    return _doc(case, f"dispute-{i}", "鉴定意见异议登记表", d.number, d.raised_on, "Sichuan 五(一)", sections)


# The title of each dispute step's own document (signing.signers reads them to know a PDF's role).
STEP_DOCUMENT_TITLES = {DisputeStepKind.mediation: "涉保司法鉴定争议调解记录",
                        DisputeStepKind.explanation: "鉴定人解释说明",
                        DisputeStepKind.expert_opinion: "专家意见"}


def build_dispute_step(case: ForensicAppraisalCase, i: int, j: int, d: Dispute, st: DisputeStep) -> ForensicDocument:
    """调解记录, 鉴定人解释说明 or 专家意见 (Sichuan 五(一)(二); 通则 Art 33): the step's record. The 调解记录 is
    the mediation committee's (its name, its seal, the participants' signatures); the 解释说明 carries the
    explaining appraisers' signatures and the institution's seal; the 专家意见 the institution's seal, the
    experts' names, titles and signatures being on it as their paper signatures."""
    title = STEP_DOCUMENT_TITLES[st.kind]
    clause = "Sichuan 五(二)；通则 Art 33" if st.kind is DisputeStepKind.expert_opinion else "Sichuan 五(一)"
    mediation = st.kind is DisputeStepKind.mediation
    who = [("调解组织", st.by), ("参加调解的当事人", "、".join(st.participants) or None)] if mediation else [("经办", st.by)]
    blocks: list[Block] = [
        KeyValues([("文书编号", st.number), ("鉴定文书编号", case.report.number), ("异议提出方", d.raised_by),
                   ("异议提出日期", fmt_date(d.raised_on)), ("日期", fmt_date(st.on)), *who]),
        Paragraph("（一）处理内容", style="emphasis"), Paragraph(st.what),
        Paragraph("（二）处理结果", style="emphasis"), Paragraph(st.outcome or f"处理结果：{MISSING}",
                                                          missing=st.outcome is None),
    ]
    if st.kind is DisputeStepKind.explanation:
        blocks.append(KeyValues([("作出解释说明的鉴定人", "、".join(st.appraisers) or None)]))
    if st.kind is DisputeStepKind.expert_opinion:
        rows = [[str(k), e.name, e.title, e.organisation, "已签名" if e.signed else "未签名"]
                for k, e in enumerate(st.experts, start=1)]
        blocks.append(Table(header=[["序号", "专家姓名", "专业技术职称", "工作单位", "签名"]], rows=rows,
                            numeric=frozenset({0}), widths=[1, 3, 3, 6, 2], caption="出具意见的专家"))
        for e in st.experts:
            blocks.append(ReceiptBlock("专家（签名）", e.name if e.signed else None, fmt_date(st.on) if e.signed else None))
        blocks.append(Paragraph("专家意见由出具意见的专家签名，存入鉴定档案（《司法鉴定程序通则》第三十三条）。", style="note"))
    key = f"dispute-{i}-step-{j}"
    sections = [Section("", DISPUTE_STEP_TITLES[st.kind], clause, key, blocks)]
    if mediation:
        # Sichuan 五(一): the associations' committee mediates and issues the record under its own name and
        # seal; the parties who took part sign it (signing/signers.py). Not the institution's document.
        sections.append(Section("", "签署", clause, f"{key}-sign", [
            party_signatures(case, list(st.participants), st.by, "调解组织（印章）", st.on, "参加调解的当事人签名")]))
        doc = _doc(case, key, title, st.number, st.on, clause, sections, signers=list(st.participants),
                   foreign_issuer=True)
        doc.firm_name = st.by
        return doc
    if st.kind is DisputeStepKind.explanation:
        # Sichuan 五(一): 由鉴定机构及鉴定人作出解释和说明 — the appraisers sign, the institution seals.
        sections.append(Section("", "鉴定人签名及鉴定机构印章", clause, f"{key}-sign",
                                _sign_off(case, list(st.appraisers), st.on, least=1,
                                          signer_title="作出解释说明的司法鉴定人签名")))
        return _doc(case, key, title, st.number, st.on, clause, sections, signers=list(st.appraisers))
    blocks.append(_seal(case, st.on, "日期"))
    return _doc(case, key, title, st.number, st.on, clause, sections)


# The steps with a document of their own: 补充鉴定 has its 补充意见书, 重新鉴定 is another case.
DOCUMENTED_STEPS = (DisputeStepKind.mediation, DisputeStepKind.explanation, DisputeStepKind.expert_opinion)


def build_disputes(case: ForensicAppraisalCase) -> list[ForensicDocument]:
    out: list[ForensicDocument] = []
    for i, d in enumerate(case.disputes, start=1):
        out.append(build_objection(case, i, d))
        out += [build_dispute_step(case, i, j, d, st) for j, st in enumerate(d.steps, start=1)
                if st.kind in DOCUMENTED_STEPS]
    return out


# ─────────────────────────────────────────── registry ─────────────────────────────────────────


@dataclass(frozen=True)
class DocumentSpec:
    key: str  # the key of the rendered document (per correction: key-N)
    title: str
    basis: str
    needed: Callable[[ForensicAppraisalCase], bool]
    build: Callable[[ForensicAppraisalCase], list[ForensicDocument]]
    # A document read from a file in the case folder (the draw record) is built with the folder instead.
    build_in: Callable[[ForensicAppraisalCase, Path | None], list[ForensicDocument]] | None = None


def _build_draw(case: ForensicAppraisalCase, case_dir: Path | None) -> list[ForensicDocument]:
    from generator.forensic.draw_document import build_draw  # it builds on this module's helpers

    return build_draw(case, case_dir)


def _single(case: ForensicAppraisalCase) -> bool:
    return case.commission.kind is CommissionKind.single


def _issued(case: ForensicAppraisalCase) -> bool:
    return case.termination is None


# In the order a file is read: the primary document first, then the records in the order they arose.
DOCUMENTS: tuple[DocumentSpec, ...] = (
    DocumentSpec("opinion", "司法鉴定意见书", "通则 Art 36–40", _issued, lambda c: [build_opinion(c)]),
    DocumentSpec("termination", "终止鉴定告知书", "通则 Art 29", lambda c: c.termination is not None,
                 lambda c: [build_termination(c)]),
    DocumentSpec("commission", "司法鉴定委托书", "通则 Art 16", lambda c: True, lambda c: [build_commission(c)]),
    DocumentSpec("appraisal_notice", "司法鉴定告知书", "司发通〔2016〕112号", lambda c: True,
                 lambda c: [build_appraisal_notice(c)]),
    DocumentSpec("selection", "鉴定机构选择记录", "Sichuan 二(三)", lambda c: True, lambda c: [build_selection(c)]),
    DocumentSpec("draw", "随机选择鉴定机构记录", "Sichuan 二(三)", lambda c: c.selection.draw_record is not None,
                 lambda c: _build_draw(c, None), _build_draw),
    DocumentSpec("recusal", "回避声明（利害关系声明）", "通则 Art 20–21", lambda c: True, lambda c: [build_recusal(c)]),
    DocumentSpec("risk_notice", "单方委托风险告知书", "Sichuan 二(二)", _single, lambda c: [build_risk_notice(c)]),
    DocumentSpec("witness_notice", "到场见证通知书", "Sichuan 二(二)", _single, lambda c: [build_witness_notice(c)]),
    DocumentSpec("attendance", "到场见证记录", "Sichuan 二(二)", lambda c: _single(c) or c.attendance is not None,
                 lambda c: [build_attendance(c)]),
    DocumentSpec("review_opinion", "司法鉴定复核意见", "通则 Art 35", lambda c: _issued(c) or c.review_opinion is not None,
                 lambda c: [build_review_opinion(c)]),
    DocumentSpec("extension", "延长鉴定时限告知书", "通则 Art 28", lambda c: bool(c.timeline.extensions),
                 lambda c: [build_extension(c)]),
    DocumentSpec("correction", "司法鉴定意见补正书", "通则 Art 41", lambda c: bool(c.corrections) and _issued(c),
                 lambda c: [build_correction(c, i, x) for i, x in enumerate(c.corrections, start=1)]),
    DocumentSpec("supplementary", "司法鉴定补充意见书", "通则 Art 30", lambda c: bool(c.supplementary) and _issued(c),
                 lambda c: [build_supplementary(c, i, x) for i, x in enumerate(c.supplementary, start=1)]),
    DocumentSpec("dispute", "异议登记表、调解记录、鉴定人解释说明、专家意见", "Sichuan 五(一)(二)",
                 lambda c: bool(c.disputes), build_disputes),
)


def build_documents(case: ForensicAppraisalCase, case_dir: Path | None = None) -> list[ForensicDocument]:
    """Every document the case needs (the registry above), with case text made visible (bidi, controls).
    `case_dir` is the case's folder, where documents built from files (the draw record) read them."""
    out: list[ForensicDocument] = []
    for spec in DOCUMENTS:
        if spec.needed(case):
            for d in (spec.build_in(case, case_dir) if spec.build_in is not None else spec.build(case)):
                files, d.attachments = d.attachments, []  # paths stay as the case wrote them (read, not shown)
                _visible(d)
                d.attachments = files
                out.append(d)
    return out
