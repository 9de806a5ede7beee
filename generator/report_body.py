"""The body of the survey report: the sections of 9.2 in order, from 案件概述 to 公估报告附件清单."""

from __future__ import annotations

from datetime import date, datetime, time

from generator.adjust import Adjustment, Step
from generator.amounts import format_amount, format_ratio, rmb_uppercase
from generator.model import (
    COMMISSION_TYPE_TITLES,
    LOCATION_BAND_TITLES,
    PRICE_BASIS_TITLES,
    SALVAGE_METHOD_TITLES,
    VALUE_COMPONENT_TITLES,
    CarSurveyCase,
    DocumentStatus,
    Finding,
    LiabilityCheck,
)
from generator.report_appendices import _STATUS, _appendix_c_names
from generator.report_blocks import (
    MISSING,
    AmountBlock,
    Block,
    HandlerSignature,
    KeyValues,
    Paragraph,
    PhotoBlock,
    ReportDocument,
    Section,
    SignatureBlock,
    Table,
    _section,
    _sub,
    fmt_date,
    fmt_dt,
    money,
    qty,
    text_or_missing,
    yes_no,
)
from generator.types import SHANGHAI

_FINDING = {Finding.yes: "是", Finding.no: "否", Finding.undetermined: "待定"}


# 9.2 案件概述: client, subject, scope of commission.
def _overview(case: CarSurveyCase, adj: Adjustment) -> Section:
    c = case.commission
    pairs: list[tuple[str, str | None]] = [
        ("委托人", c.commissioning_party),
        ("委托方式", COMMISSION_TYPE_TITLES[c.type]),
        ("评估标的", c.subject),
        ("公估委托范围", c.scope),
        ("接受委托时间", fmt_dt(c.received_at)),
        ("指派时间", fmt_dt(case.assigned_at)),
        ("承办人员", "、".join(h.name for h in case.handlers)),
        ("法定公估业务", "是" if case.statutory else "否"),
    ]
    blocks: list[Block] = [KeyValues(pairs)]
    if c.letters:
        blocks.append(Table(
            header=[["出具方", "委托书编号", "出具日期"]],
            rows=[[lt.issuer, lt.reference or MISSING, fmt_date(lt.issued_on) or MISSING] for lt in c.letters],
            widths=[5, 3, 2], caption="委托书"))
    else:
        blocks.append(Paragraph(f"委托书：{MISSING}", missing=True))
    return _section("案件概述", "9.2/4.1", "sec-overview", blocks)


def _contract(case: CarSurveyCase, adj: Adjustment) -> Section:
    p = case.policy
    blocks: list[Block] = [KeyValues([
        ("保单号", p.number), ("险种", p.product), ("保险人", p.insurer), ("投保人", p.policyholder),
        ("被保险人", p.insured),
        ("保险期间", f"{fmt_dt(p.period_start)} 至 {fmt_dt(p.period_end)}"),
        ("保险地址", p.insured_site),
        ("条款约定承担变更改进费用", yes_no(p.betterment_covered)),
    ])]
    rows = []
    for item in p.items:
        comps = "；".join(f"{VALUE_COMPONENT_TITLES[vc.kind]} {format_amount(vc.amount)}"
                         + (f"（{vc.note}）" if vc.note else "") for vc in item.value_components)
        rows.append([item.id, item.name, format_amount(item.sum_insured), format_amount(item.insurable_value),
                     comps or MISSING])
    blocks.append(Table(header=[["编号", "保险项目", "保险金额（元）", "应保金额（元）", "应保金额构成（8.2.1）"]],
                        rows=rows, numeric=frozenset({2, 3}), widths=[1, 4, 3, 3, 6], caption="保险项目"))
    if p.deductibles:
        blocks.append(Table(
            header=[["编号", "免赔条款", "免赔额（元）", "免赔率", "适用项目"]],
            rows=[[d.id, d.description, money(d.amount) or "—", format_ratio(d.rate) if d.rate is not None else "—",
                   "、".join(d.items) or "全部"] for d in p.deductibles],
            numeric=frozenset({2, 3}), widths=[1, 8, 2, 2, 2], caption="免赔额/率"))
    else:
        blocks.append(Paragraph("免赔额/率：无"))
    if p.special_clauses:
        blocks.append(Table(
            header=[["编号", "条款名称", "条款内容", "限制性", "对本案的影响（7.4）"]],
            rows=[[sc.code or "—", sc.title, sc.text, "是" if sc.restrictive else "否", sc.effect or MISSING]
                  for sc in p.special_clauses],
            widths=[1, 3, 6, 1, 4], caption="特别约定及限制性条款"))
    return _section("保险合同内容摘要", "9.2", "sec-contract", blocks)


def _insured_and_subject(case: CarSurveyCase, adj: Adjustment) -> Section:
    pr = case.project
    pairs: list[tuple[str, str | None]] = [
        ("被保险人", case.policy.insured), ("工程名称", pr.name), ("工程地点", pr.location),
        ("业主", pr.owner), ("施工方", pr.contractor), ("分包方", "、".join(pr.subcontractors) or None),
        ("监理", pr.supervisor), ("设计单位", pr.designer), ("工程概况", pr.overview),
        ("出险前施工形象进度", pr.progress_before_loss), ("主要工艺工法", pr.methods),
        ("招投标情况", pr.tendering), ("投资方组成及资金来源", pr.funding), ("合同价（元）", money(pr.contract_price)),
    ]
    return _section("被保险人及保险公估标的简介", "9.2/5.2.2", "sec-subject", [KeyValues(pairs)])


def _incident(case: CarSurveyCase, adj: Adjustment) -> Section:
    i = case.incident
    return _section("事故经过及索赔情况", "9.2", "sec-incident", [KeyValues([
        ("出险时间", fmt_dt(i.occurred_at)), ("出险地点", i.place), ("报案时间", fmt_dt(i.reported_at)),
        ("损失类型", i.loss_type), ("出险经过", i.course), ("采取的措施", i.measures_taken),
        ("报称事故原因", i.reported_cause), ("索赔金额（元）", money(i.claimed_amount)), ("索赔情况", i.claim_summary),
    ])])


def _principles(case: CarSurveyCase, adj: Adjustment) -> Section:
    s = case.survey
    return _section("保险公估活动依据的原则、手段、评估和计算方法", "9.2", "sec-principles", [KeyValues([
        ("依据的原则", case.report.principles),
        ("查勘方案", s.plan),
        ("查勘手段", s.methods),
        # The methods themselves are fixed by clauses 7 and 8 of the code, so they are stated, not entered.
        ("损失核定方法", "部分损失按修复至基本恢复受损前状态的费用扣除残值核定（7.1.1）；修复费用达到或超过损失前价值的，"
                    "按全部损失或推定全损以损失前实际价值扣除残值核定（7.1.2）；剔除变更、性能增加或改进费用（7.1）；"
                    "核损单价原则上采用施工合同单价，否则参考定额或市场价格（7.3）"),
        ("理算方法", "理算金额 = Σ（核损金额 − 残值）× 投保比例 − 免赔额，或 × （1 − 免赔率）（8.3）；"
                 "投保比例 = 保险金额 / 应保金额，大于100%时按100%（8.2.2）；施救费用另行计算（7.1.3）"),
    ])])


def _timeline(case: CarSurveyCase) -> Table:
    """4.4, 5.1, 5.2, 5.3: commission, contact, arrival, survey, documents requested and received."""
    events: list[tuple[datetime, str, str, str]] = []

    def add(when: datetime | date | None, what: str, note: str = "") -> None:
        if when is None:
            return
        if isinstance(when, datetime):
            events.append((when, fmt_dt(when) or "", what, note))
        else:  # a date without a time sorts after the timed events of that day
            events.append((datetime.combine(when, time(23, 59, 59), tzinfo=SHANGHAI), fmt_date(when) or "", what, note))

    add(case.incident.occurred_at, "出险")
    add(case.incident.reported_at, "报案")
    for lt in case.commission.letters:
        add(lt.issued_on, "委托书出具", lt.reference or "")
    add(case.commission.received_at, "接受委托", case.commission.commissioning_party)
    add(case.assigned_at, "指派承办人员（4.3）", "、".join(h.name for h in case.handlers))
    if case.contact:
        add(case.contact.contacted_at, "联系被保险人（4.4）", f"{case.contact.person}，{case.contact.method}")
        add(case.contact.agreed_survey_time, "约定查勘时间（5.1.5）")
    s = case.survey
    add(s.arrived_at, "到达现场（5.1）", LOCATION_BAND_TITLES[s.location_band])
    if s.client_notice:
        add(s.client_notice.issued_at, "出具客户告知书（5.2.1）")
        add(s.client_notice.signed_at, "客户告知书签收", s.client_notice.signed_by or "")
    if s.rescue_notice:
        add(s.rescue_notice.issued_at, "出具施救告知书（5.2.6）")
        add(s.rescue_notice.signed_at, "施救告知书签收", s.rescue_notice.signed_by or "")
    add(s.surveyed_at, "开始现场查勘（5.3.1）")
    add(s.finished_at, "查勘结束")
    if s.confirmation:
        add(s.confirmation.confirmed_at, "查勘记录确认（5.3.2）", s.confirmation.representative or "")
    add(s.checklist_issued_on, "出具索赔资料清单（5.3.3）")
    items = _appendix_c_names()
    # One line per day for requests and receipts, so a long checklist does not swamp the timeline.
    requested: dict[date, list[str]] = {}
    received: dict[date, list[str]] = {}
    for doc in s.documents:
        label = doc.code if doc.code in items else (doc.name or doc.code or MISSING)
        if doc.requested_on:
            requested.setdefault(doc.requested_on, []).append(label)
        if doc.received_on:
            received.setdefault(doc.received_on, []).append(label)
        if doc.status is DocumentStatus.outstanding:
            add(doc.due_on, "资料约定提供日期（5.3.3 c）", label)
    for day, labels in requested.items():
        add(day, f"索要资料（{len(labels)}项）", "、".join(labels))
    for day, labels in received.items():
        add(day, f"收到资料（{len(labels)}项）", "、".join(labels))
    add(case.report.issued_on, "出具公估报告", case.report.number)
    events.sort(key=lambda e: e[0])
    rows = [[shown, what, note] for _, shown, what, note in events]
    return Table(header=[["时间", "事项", "说明"]], rows=rows, widths=[3, 3, 6], caption="作业时间线")


def _doc_name(code: str | None, name: str | None, items: dict[str, str]) -> str:
    if code and code in items:
        return f"{code} {items[code]}"
    return name or code or MISSING


def _survey_and_cause(case: CarSurveyCase, adj: Adjustment) -> Section:
    s = case.survey
    subs: list[Section] = []
    subs.append(_sub(1, "作业时间线", "4.4/5.1/5.3.3", "sec-timeline", [_timeline(case)]))

    # 5.3.2: time, place, participants, objective description of each item, and the confirmation.
    record: list[Block] = [KeyValues([
        ("查勘时间", f"{fmt_dt(s.surveyed_at or s.arrived_at)} 至 {fmt_dt(s.finished_at) or MISSING}"),
        ("查勘地点", case.incident.place),
        ("参与人员", "、".join(s.participants) or None),
        ("被保险人指定配合人员（5.3.1 a）", s.insured_representative),
        ("保单信息核对（5.2.3）", _policy_check_text(case)),
    ])]
    if s.record_items:
        rows = []
        for r in s.record_items:
            meas = "；".join(f"{m.name} {qty(m.value)}{m.unit}" for m in r.measurements)
            amount = f"{qty(r.quantity)} {r.unit or ''}".strip() if r.quantity is not None else MISSING
            rows.append([r.id, r.name, r.location, r.parameters or MISSING, amount, r.condition, meas or "—"])
        record.append(Table(header=[["编号", "受损工程名称", "位置", "参数", "数量", "损失情形", "测量数据"]],
                            rows=rows, widths=[1, 3, 3, 3, 2, 4, 4], caption="现场查勘记录（5.3.1 c）"))
    else:
        record.append(Paragraph(f"现场查勘记录：{MISSING}", missing=True))
    conf = s.confirmation
    if conf:
        record.append(KeyValues([
            ("受损财产是否已全部查勘", yes_no(conf.all_property_surveyed)),
            ("被保险人代表", conf.representative),
            ("签字 / 盖章", f"{'已签字' if conf.signed else '未签字'} / {'已盖章' if conf.sealed else '未盖章'}"),
            ("确认时间", fmt_dt(conf.confirmed_at)),
            *([("未签章书面记录", conf.unsigned_record)] if not (conf.signed and conf.sealed) else []),
            *([("告知委托人时间", fmt_dt(conf.client_informed_at))] if conf.unsigned_record else []),
        ]))
    else:
        record.append(Paragraph(f"查勘记录确认：{MISSING}", missing=True))
    record.append(KeyValues([("查勘后与保险双方沟通情况（5.3.4）", s.communication),
                             ("损失扩大时的协调措施（5.2.6 b）", s.loss_spreading_action or "查勘时未发现损失扩大趋势")]))
    subs.append(_sub(2, "现场查勘记录", "5.3.2", "sec-survey-record", record))

    photos: list[Block] = []
    names = {r.id: r.name for r in s.record_items}
    for ph in s.photos:
        ref = f"{ph.record_item} {names.get(ph.record_item, '')}".strip() if ph.record_item else MISSING
        photos.append(PhotoBlock(ph.id, ph.file, ph.caption, ref, fmt_dt(ph.taken_at)))
    if not photos:
        photos.append(Paragraph(f"现场照片：{MISSING}", missing=True))
    subs.append(_sub(3, "现场照片", "5.3.1 d", "sec-photos", photos))

    docs = _documents_table(case)
    subs.append(_sub(4, "索赔资料收集情况", "5.3.3", "sec-documents", [docs]))

    cause: list[Block] = []
    if case.cause is None:
        cause.append(Paragraph(MISSING, missing=True))
    else:
        kinds = {"insured_report": "被保险人报告（6.1.1）", "inquiry": "现场询问（6.1.2）",
                 "expert_report": "相关机构分析、鉴定（6.1.3）", "meeting_minutes": "会议纪要（6.1.1）", "other": "其他"}
        if case.cause.sources:
            cause.append(Table(header=[["来源", "资料名称", "要点"]],
                               rows=[[kinds[src.kind], src.title, src.summary or "—"] for src in case.cause.sources],
                               widths=[3, 5, 6], caption="原因分析依据"))
        cause.append(KeyValues([("原因分析", case.cause.analysis), ("近因", case.cause.proximate_cause)]))
    subs.append(_sub(5, "事故原因调查及分析", "6.1", "sec-cause", cause))
    sec = _section("现场查勘情况及事故原因调查", "9.2/5/6.1", "sec-survey")
    sec.subsections = subs
    return sec


def _policy_check_text(case: CarSurveyCase) -> str | None:
    pc = case.survey.policy_check
    if pc is None:
        return None
    marks = [f"保险地址{'已' if pc.address_checked else '未'}核对", f"保险标的{'已' if pc.subject_checked else '未'}核对",
             f"保险期限{'已' if pc.period_checked else '未'}核对"]
    return "；".join(marks) + (f"。{pc.remarks}" if pc.remarks else "")


def _documents_table(case: CarSurveyCase) -> Block:
    docs = case.survey.documents
    if not docs:
        return Paragraph(f"索赔资料：{MISSING}", missing=True)
    items = _appendix_c_names()
    rows = [[_doc_name(d.code, d.name, items), _STATUS[d.status], fmt_date(d.requested_on) or "—",
             fmt_date(d.due_on) or "—", fmt_date(d.received_on) or "—"] for d in docs]
    return Table(header=[["资料名称", "状态", "索要日期", "约定提供日期", "收到日期"]], rows=rows,
                 widths=[8, 2, 3, 3, 3], caption="索赔资料清单执行情况（详见附录C）")


def _check_row(number: str, title: str, check: LiabilityCheck | None) -> list[str]:
    if check is None:
        return [number, title, MISSING, MISSING]
    basis = check.basis + (f"（{check.note}）" if check.note else "")
    return [number, title, _FINDING[check.finding], basis]


def _liability(case: CarSurveyCase, adj: Adjustment) -> Section:
    li = case.liability
    rows = [
        _check_row("6.2.1", "索赔人是否具有保险利益", li.insurable_interest),
        _check_row("6.2.2", "出险时间是否在保险期间内", li.within_period),
        _check_row("6.2.3", "出险地址是否为保险合同约定的地址", li.at_insured_site),
        _check_row("6.2.4", "出险财产是否为保险标的", li.insured_property),
        _check_row("6.2.5", "出险原因是否不属于除外责任", li.not_excluded),
    ]
    blocks: list[Block] = [Table(header=[["条款", "核查事项", "结论", "依据"]], rows=rows, widths=[1, 4, 1, 8])]
    covered = None if li.covered is None else ("属于保险责任" if li.covered else "不属于保险责任")
    blocks.append(KeyValues([("保险责任建议", li.recommendation), ("结论", covered)]))
    return _section("保险责任分析及建议", "6.2", "sec-liability", blocks)


def _loss_assessment(case: CarSurveyCase, adj: Adjustment) -> Section:
    blocks: list[Block] = []
    if not adj.losses:
        blocks.append(Paragraph(f"损失项目：{MISSING}", missing=True))
    else:
        rows = []
        for a in adj.losses:
            lo = a.loss
            basis = PRICE_BASIS_TITLES[lo.price_basis] if lo.price_basis else MISSING
            if lo.price_reference:
                basis += f"：{lo.price_reference}"
            salvage = format_amount(a.salvage)
            if lo.salvage_method and a.salvage:
                salvage += f"（{SALVAGE_METHOD_TITLES[lo.salvage_method]}）"
            # Id with name, and quantity with unit price, share a cell: fewer cells keep a report of
            # thousands of items within the renderer's memory budget (bench/render_bench.py).
            rows.append([f"{lo.id} {lo.name}", f"{qty(lo.quantity)} {lo.unit} × {format_amount(lo.unit_price)}", basis,
                         format_amount(a.repair_cost - a.betterment_excluded), money(lo.pre_loss_value) or "—",
                         salvage, format_amount(a.net), a.basis_title])
        footer = [["合计", "", "", "", "", format_amount(adj.salvage_total), format_amount(adj.net_loss_total), ""]]
        blocks.append(Table(
            header=[["损失项目", "核损数量 × 核损单价（元）", "单价依据（7.3）", "修复费用（元）",
                     "损失前价值（元）", "残值（元）", "核损金额（元）", "损失性质"]],
            rows=rows, footer=footer, numeric=frozenset({3, 4, 5, 6}), widths=[42, 36, 36, 30, 28, 30, 30, 24],
            caption="损失核定明细（核损金额已扣除残值及变更改进费用）"))
        notes = [f"{a.loss.id}：{a.loss.note}" for a in adj.losses if a.loss.note]
        excluded = [a for a in adj.losses if a.betterment_excluded]
        for a in excluded:
            notes.append(f"{a.loss.id}：剔除变更改进费用 {format_amount(a.betterment_excluded)} 元（7.1）")
        for n in notes:
            blocks.append(Paragraph(n, style="note"))
    if adj.rescues:
        rows = [[r.rescue.id, r.rescue.description, format_amount(r.rescue.claimed), format_amount(r.rescue.reasonable),
                 r.rescue.disallowed_reason or "—", format_amount(r.capped)] for r in adj.rescues]
        blocks.append(Table(header=[["编号", "施救措施", "报损金额（元）", "合理必要部分（元）", "不予认可原因", "核定施救费用（元）"]],
                            rows=rows, numeric=frozenset({2, 3, 5}), widths=[1, 4, 2, 2, 5, 2], caption="施救费用（7.1.3）"))
    restrictive = [sc for sc in case.policy.special_clauses if sc.restrictive]
    for sc in restrictive:
        blocks.append(Paragraph(f"限制性条款（7.4）{sc.title}：{sc.effect or MISSING}", style="note"))
    blocks.append(KeyValues([
        ("报损金额合计（元）", format_amount(adj.claimed_total)),
        ("核损金额合计（扣除残值，元）", format_amount(adj.net_loss_total)),
        ("核定施救费用合计（元）", format_amount(adj.rescue_assessed_total)),
    ]))
    return _section("损失核定", "7", "sec-loss", blocks)


def _insurance_analysis(case: CarSurveyCase, adj: Adjustment) -> Section:
    blocks: list[Block] = []
    if adj.items:
        rows = [[ia.item.id, ia.item.name, format_amount(ia.item.sum_insured), format_amount(ia.item.insurable_value),
                 format_ratio(ia.ratio), "足额投保" if ia.ratio >= 1 else "不足额投保"] for ia in adj.items]
        blocks.append(Table(header=[["编号", "保险项目", "保险金额（元）", "应保金额（元）", "投保比例", "结论"]], rows=rows,
                            numeric=frozenset({2, 3, 4}), widths=[1, 4, 3, 3, 2, 2], caption="足额投保分析（8.2）"))
    p = case.policy
    if p.other_insurance:
        rows = [["重复保险" if o.relation == "duplicate" else "保险竞合", o.insurer, o.policy_no, format_amount(o.sum_insured),
                 "、".join(o.items) or "全部", o.note or "—"] for o in p.other_insurance]
        blocks.append(Table(header=[["关系", "保险人", "保单号", "保险金额（元）", "涉及项目", "说明"]], rows=rows,
                            numeric=frozenset({3}), widths=[2, 4, 3, 2, 2, 4], caption="重复保险、保险竞合（8.1）"))
        if p.agreed_share is not None:
            blocks.append(Paragraph(f"约定分摊比例 {format_ratio(p.agreed_share)}（{p.agreed_share_basis or '保险合同约定'}）"))
    else:
        blocks.append(Paragraph("经核查，本案未发现重复保险或保险竞合（8.1）。"))
    tp = case.third_party
    blocks.append(KeyValues([
        ("是否涉及第三者", yes_no(tp.involved)), ("第三者情况", tp.description),
        *([("责任方", tp.liable_party), ("追偿建议", tp.recovery),
           ("权益转让书", "已取得" if tp.subrogation_form else "未取得")] if tp.involved else []),
    ]))
    return _section("足额投保、重复投保、保险竞合、第三者责任及追偿等情况的分析", "9.2/8.1/8.2", "sec-analysis", blocks)


# Above this many loss items the clause-7 steps of each item (2–4 rows per loss) are folded into one
# row: the loss-assessment table already shows every one of their results (repair cost, betterment
# excluded, pre-loss value, salvage, net), and repeating them would double a report of thousands of
# items (and WeasyPrint's memory, ~16 KB per table cell). Smaller reports list every engine step.
STEP_DETAIL_LIMIT = 200


def is_loss_item_step(step: Step) -> bool:
    """A per-loss-item step of clause 7 (7.1–7.5), not the rescue-cost steps of 7.1.3."""
    return step.clause.startswith("7.") and not step.clause.startswith("7.1.3")


def _step_row(s: Step) -> list[str]:
    return [s.clause, s.label, s.formula, "；".join(f"{k} {v}" for k, v in s.inputs), s.result_text]


def _adjustment(case: CarSurveyCase, adj: Adjustment) -> Section:
    blocks: list[Block] = []
    if len(adj.losses) > STEP_DETAIL_LIMIT:
        n = len(adj.losses)
        rows = [["7.1–7.5", f"各损失项目核损（{n} 项）", "Σ(核损金额 − 残值)，逐项计算见损失核定明细",
                 f"损失项目 {n} 项", format_amount(adj.net_loss_total)]]
        rows += [_step_row(s) for s in adj.steps if not is_loss_item_step(s)]
        blocks.append(Paragraph(f"本案损失项目共 {n} 项，各项目的修复费用、剔除变更改进费用、全损判断及扣除残值的计算"
                                "见“损失核定”明细表，此处列其合计及其后各理算步骤。", style="note"))
    else:
        rows = [_step_row(s) for s in adj.steps]
    blocks.insert(0, Table(header=[["条款", "步骤", "公式", "输入", "结果"]], rows=rows, numeric=frozenset({4}),
                           widths=[2, 4, 5, 6, 3], caption="理算过程"))
    blocks.append(AmountBlock("理算金额", format_amount(adj.total_payable), rmb_uppercase(adj.total_payable)))
    return _section("保险赔款理算", "8", "sec-adjustment", blocks)


def _conclusion(case: CarSurveyCase, adj: Adjustment) -> Section:
    blocks: list[Block] = [text_or_missing(case.conclusion.text if case.conclusion else None)]
    blocks.append(KeyValues([
        ("核损金额（扣除残值）", f"{format_amount(adj.net_loss_total)} 元"),
        ("核定施救费用", f"{format_amount(adj.rescue_assessed_total)} 元"),
    ]))
    blocks.append(AmountBlock("建议赔付理算金额", format_amount(adj.total_payable), rmb_uppercase(adj.total_payable)))
    return _section("保险公估结论", "9.2", "sec-conclusion", blocks)


def _limits(case: CarSurveyCase, adj: Adjustment) -> Section:
    text = case.conclusion.limits_of_use if case.conclusion else None
    return _section("保险公估报告使用限制说明", "9.2", "sec-limits", [text_or_missing(text)])


def _signatures(case: CarSurveyCase, adj: Adjustment) -> Section:
    handlers = [HandlerSignature(i, h.name, h.licence_no, h.role) for i, h in enumerate(case.handlers, start=1)]
    blocks: list[Block] = []
    if len(handlers) < 2:
        # 4.3 / 资产评估法 Art. 27: at least two; shown, not hidden, so the reviewer sees it.
        blocks.append(Paragraph(f"第二名承办公估人员：{MISSING}", missing=True))
    blocks.append(SignatureBlock(handlers, case.firm.name, fmt_date(case.report.issued_on) or MISSING))
    return _section("承办公估人员签名、保险公估机构印章及报告日期", "9.2", "sec-signatures", blocks)


def _attachments(case: CarSurveyCase, adj: Adjustment) -> Section:
    rows = [[str(i), a.title, str(a.pages) if a.pages is not None else "—"] for i, a in enumerate(case.attachments, 1)]
    n = len(rows)
    for title in ("附录A 客户告知书", "附录B 施救告知书", "附录C 建筑工程一切险索赔资料清单", "案件数据文件 case.json（PDF内嵌）"):
        n += 1
        rows.append([str(n), title, "—"])
    blocks: list[Block] = [Table(header=[["序号", "附件名称", "页数"]], rows=rows, numeric=frozenset({2}), widths=[1, 8, 1])]
    if not case.attachments:
        blocks.insert(0, Paragraph(f"案件附件：{MISSING}", missing=True))
    return _section("公估报告附件清单", "9.1/9.2", "sec-attachments", blocks)


def set_attachment_pages(doc: ReportDocument, pages: dict[int, tuple[int, str]]) -> None:
    """9.1 附件清单 with the bound files: `pages` maps an attachment's index in the case to (its page
    count, its place in the bound report, e.g. 第 31–32 页); the table gains a 页码 column."""
    section = next(s for s in doc.sections if s.anchor == "sec-attachments")
    table = next(b for b in section.blocks if isinstance(b, Table))
    table.header = [[*table.header[0], "页码"]]
    for i, row in enumerate(table.rows):
        count, where = pages.get(i, (None, "—"))
        if count is not None:
            row[2] = str(count)
        row.append(where)
    table.widths = [1, 7, 1, 3]
