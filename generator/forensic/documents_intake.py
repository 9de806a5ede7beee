"""The documents of commissioning and choosing: 司法鉴定委托书 (通则 Art 16), 司法鉴定告知书, the single
commission's 风险告知书, 到场见证通知书 and 到场见证记录 (Sichuan 二(二), 四(四)), the 鉴定机构选择记录
(Sichuan 二(三)) and the appraisers' 回避声明 (通则 Art 20–21)."""



from generator.forensic.documents_common import (
    DEFAULT_WORKING_DAYS,
    ForensicDocument,
    _attachment_table,
    _doc,
    _fee,
    _materials_table,
    _numbered,
    _original_text,
    _seal,
    _sec,
    clients,
    matter_title,
    time_limit_text,
)
from generator.forensic.model import (
    COMMISSION_KIND_TITLES,
    NOTICE_CHANNEL_TITLES,
    PARTY_ROLE_TITLES,
    SELECTION_METHOD_TITLES,
    ForensicAppraisalCase,
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
    fmt_date,
    fmt_dt,
    text_or_missing,
    yes_no,
)

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


# ───────────────────────────────────── 司法鉴定委托书 (Art 16) ─────────────────────────────────



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
