"""The 司法鉴定意见书 (司发通〔2016〕112号; 通则 Art 36–40) and the documents that follow it: 复核意见
(Art 35), 延长鉴定时限告知书 (Art 28), 终止鉴定告知书 (Art 29), 补正书 (Art 41) and 补充意见书 (Art 30)."""



from generator.forensic.documents_common import (
    ForensicDocument,
    _attachment_table,
    _doc,
    _fee,
    _numbered,
    _original_text,
    _seal,
    _sign_off,
    clients,
    matter_title,
    result_phrase,
    time_limit_text,
)
from generator.forensic.model import (
    COMMISSION_KIND_TITLES,
    MATTER_KIND_TITLES,
    STANDARD_TITLES,
    SUPPLEMENTARY_REASON_TITLES,
    TERMINATION_GROUND_TITLES,
    Correction,
    ForensicAppraisalCase,
    Outcome,
    Standard,
    Supplementary,
)
from generator.pdf_binding import AttachmentRef
from generator.report_content import (
    MISSING,
    Block,
    KeyValues,
    Paragraph,
    ReceiptBlock,
    Section,
    Table,
    cn_number,
    fmt_date,
    fmt_dt,
    text_or_missing,
)

# The 声明 page of the 意见书 (2007 national format; the 2016 wording is unverified, forensic-rules.md).
DECLARATION = (
    "委托人应当向鉴定人提供真实、完整、充分的鉴定材料，并对鉴定材料的真实性、合法性负责。",
    "司法鉴定人按照法律、法规和规章规定的方式、方法和步骤，遵守和采用相关技术标准和技术规范进行鉴定。",
    "司法鉴定实行鉴定人负责制度。司法鉴定人依法独立、客观、公正地进行鉴定，不受任何个人和组织的非法干预。",
    "使用司法鉴定意见书，应当保持其完整性和严肃性。",
    "鉴定意见属于专家的专业意见，其是否被采信取决于办案机关的审查和判断，鉴定人和鉴定机构无权干涉。",
)


# ─────────────────────────────────────── 司法鉴定意见书 ───────────────────────────────────────



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


# ──────────────────────────────────── 补充鉴定 (Art 30) ─────────────────────────────────────


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
