"""The dispute path's documents (Sichuan 五(一)(二)): the 鉴定意见异议登记表 and one record per mediation,
explanation or expert-opinion step."""



from generator.forensic.documents_common import (
    ForensicDocument,
    _doc,
    _seal,
    _sign_off,
    party_signatures,
)
from generator.forensic.model import (
    DISPUTE_STEP_TITLES,
    Dispute,
    DisputeStep,
    DisputeStepKind,
    ForensicAppraisalCase,
)
from generator.report_content import (
    MISSING,
    Block,
    KeyValues,
    Paragraph,
    ReceiptBlock,
    Section,
    Table,
    fmt_date,
)


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
