"""Appendices A–C of the survey report (9.1): 客户告知书 (5.2.1), 施救告知书 (5.2.6), 建筑工程一切险索赔资料清单
(5.3.3), filled from the case.
"""

from __future__ import annotations

from forms.catalogue import appendix_c
from generator.model import (
    CarSurveyCase,
    DocumentStatus,
    NoticeReceipt,
)
from generator.report_blocks import (
    MISSING,
    Block,
    Paragraph,
    ReceiptBlock,
    Section,
    Table,
    fmt_date,
    fmt_dt,
)
from generator.types import SHANGHAI


def _appendix_c_names() -> dict[str, str]:
    return {item["code"]: item["name"] for g in appendix_c()["groups"] for item in g["items"]}



_STATUS = {DocumentStatus.received: "已收到", DocumentStatus.outstanding: "待提供", DocumentStatus.waived: "免予提供"}


def _receipt(label: str, r: NoticeReceipt | None) -> ReceiptBlock:
    if r is None:
        return ReceiptBlock(label, None, None, [("出具时间", None)])
    extra: list[tuple[str, str | None]] = [("出具时间", fmt_dt(r.issued_at))]
    if r.electronic_proof:
        extra.append(("电子凭证", r.electronic_proof))
    if not r.signed_by and (r.unsigned_record or r.client_informed_at):
        extra.append(("未签收书面记录", r.unsigned_record))
        extra.append(("告知委托人时间", fmt_dt(r.client_informed_at)))
    return ReceiptBlock(label, r.signed_by, fmt_dt(r.signed_at), extra)


def _firm_intro(case: CarSurveyCase) -> list[Block]:
    f = case.firm
    return [
        Paragraph("致被保险人：" + case.policy.insured),
        Paragraph("尊敬的被保险人："),
        Paragraph(f"我司为{f.name}，公司地址：{f.address}，邮政编码：{f.post_code}；"
                  f"客服二十四小时联系电话：{f.hotline}。公司业务范围包括：{f.business_scope}。"),
    ]


def _appendix_a(case: CarSurveyCase) -> Section:
    """Appendix A 客户告知书 (5.2.1), filled from the firm and commission data."""
    blocks = _firm_intro(case) + [
        Paragraph(f"我司受{case.commission.commissioning_party}委托，将为您提供公估服务，请您给予协助。"),
        Paragraph("我司将秉承依法经营、廉洁从业、诚实守信的经营理念。要求公估师在工作中严格遵守职业规范和职业道德。"
                  "如您发现我司公估师有不当行为，请及时拨打我司客服电话，向我司举报并提供相应证据。"),
        Paragraph("公估过程中各相关方出现争议的，可通过友好协商的方式解决。经协商无法达成一致的，可通过诉讼或仲裁解决。"),
        Paragraph("特此函告！", style="emphasis"),
        _receipt("被保险人签收（签章）", case.survey.client_notice),
    ]
    return Section("附录A", "客户告知书", "5.2.1", "app-a", blocks, level=1)


def _appendix_b(case: CarSurveyCase) -> Section:
    """Appendix B 施救告知书 (5.2.6 a).

    The draft code's Appendix B repeats Appendix A's text by mistake; this is the notice 5.2.6 asks
    for: the insured's duty to rescue, what rescue costs are assessed (7.1.3), what to keep, whom to call.
    """
    f = case.firm
    handler = case.handlers[0]
    contact = f"{handler.name}（{f.hotline}）"
    blocks = _firm_intro(case)[:2] + [
        Paragraph(f"{case.incident.place}于{fmt_dt(case.incident.occurred_at)}发生的{case.incident.loss_type or '保险'}事故，"
                  f"我司受{case.commission.commissioning_party}委托进行公估。根据《中华人民共和国保险法》第五十七条及保险合同约定，"
                  "保险事故发生时，被保险人应当尽力采取必要的、合理的措施，防止或者减少损失。现就施救事宜告知如下："),
        Paragraph("一、请立即采取合理措施制止损失扩大，包括但不限于：撤离人员、设置警戒、排水、覆盖、支护加固、转移未受损财产等；"
                  "涉及人身安全的，应首先确保人员安全。"),
        Paragraph("二、为防止或者减少保险标的损失所支付的必要的、合理的施救费用，由公估人依照作业规范7.1.3核定："
                  "以必要合理为限，最高不超过被施救财产的应保金额；被施救财产中含有未承保财产的，按被施救财产的应保金额与"
                  "全部被施救财产价值的比例分摊。施救费用在保险标的损失赔偿金额以外另行计算，最高不超过保险金额。"),
        Paragraph("三、请妥善保留以下资料以备查验：受损财产及其残骸（未经查勘确认前请勿清理、变卖或丢弃，确需清理的请先拍照、"
                  "录像并通知我司）；施救过程的照片、影像及施工日志、监理日志；施救所用人工、机械、材料的记录、合同、"
                  "发票及付款凭证；相关方会议纪要及往来函件。"),
        Paragraph("四、被保险人未尽施救义务致使损失扩大的，扩大部分的损失可能不予核定。"),
        Paragraph(f"五、施救过程中需紧急决策（如大额支出、拆除、改变施工方案等）的，请事先或及时联系承办公估人员 {contact}，"
                  "我司将与委托人沟通，协调相关方制定有效的应对措施（5.2.6 b）。"),
        Paragraph("特此告知！", style="emphasis"),
        _receipt("被保险人签收（签章）", case.survey.rescue_notice),
    ]
    return Section("附录B", "施救告知书", "5.2.6", "app-b", blocks, level=1)


def _appendix_c(case: CarSurveyCase) -> Section:
    """Appendix C 建筑工程一切险索赔资料清单 (5.3.3): every group and item, requested ones ticked."""
    s = case.survey
    requested = {d.code: d for d in s.documents if d.code}
    catalogue = appendix_c()
    occurred = case.incident.occurred_at.astimezone(SHANGHAI)
    blocks: list[Block] = [
        Paragraph(f"致{case.policy.insured}："),
        Paragraph(f"贵公司于{occurred.year}年{occurred.month}月{occurred.day}日报称的{case.incident.loss_type or ''}事故，"
                  "根据保险法及保险单的规定，请及时、准确、真实地提供如下打“√”的资料，资料提供时，请加盖贵司公章："),
    ]
    rows: list[list[str]] = []
    group_rows: set[int] = set()
    for group in catalogue["groups"]:
        group_rows.add(len(rows))
        rows.append([f"{group['number']}、{group['title']}", "", "", "", ""])
        for item in group["items"]:
            d = requested.get(item["code"])
            if d is None:
                rows.append([f"{item['code']} {item['name']}", "", "", "", ""])
            else:
                rows.append([f"{item['code']} {item['name']}", "√", _STATUS[d.status],
                             fmt_date(d.due_on) or "—", fmt_date(d.received_on) or "—"])
        if group["number"] == 7:
            others = [d for d in s.documents if not d.code or d.code not in _appendix_c_names()]
            for d in others:
                rows.append([d.name or d.code or MISSING, "√", _STATUS[d.status], fmt_date(d.due_on) or "—",
                             fmt_date(d.received_on) or "—"])
            # Blank handwritten lines stay on the form (Appendix C group 7: 手写添加).
            for _ in range(2):
                rows.append(["＿" * 12, "", "", "", ""])
    blocks.append(Table(header=[["资料名称", "索要", "状态", "约定提供日期（5.3.3 c）", "收到日期"]], rows=rows,
                        widths=[10, 1, 2, 3, 3], group_rows=frozenset(group_rows)))
    handler = case.handlers[0]
    blocks.append(Paragraph(f"如有其他事宜请与公估人员联系，联系人及电话：{handler.name}，{case.firm.hotline}"))
    blocks.append(ReceiptBlock("被保险人知悉确认（签章）", s.checklist_signed_by, fmt_date(s.checklist_signed_on),
                               [("清单出具日期", fmt_date(s.checklist_issued_on))]))
    return Section("附录C", "建筑工程一切险索赔资料清单", "5.3.3", "app-c", blocks, level=1)
