"""随机选择鉴定机构记录: the `gongu draw` record as a document of the case (Sichuan 二(三)).

Rendered from the record JSON the case names in `selection.draw_record` (generator/forensic/draw_link.py):
every input a reader needs to redo the draw by hand — the roster snapshot (source, date, SHA-256), each
exclusion with its reason and clause, the eligible list and its hash, the acknowledgements, the public
value named in advance and its published result, the commitments and reveals, the seed, the order, the
chosen institution and any declines — and a short "how to check" paragraph pointing at docs/draw.md.
Signed by every side that took part in the choice and sealed by the institution (signing/signers.py, role
"draw"): the chosen institution's seal alone would be the word of the one who benefits.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from generator.forensic import draw
from generator.forensic.documents_common import SEAL_TITLE, ForensicDocument, _doc, party_signatures
from generator.forensic.draw_link import DrawRecordError, read_draw_record
from generator.forensic.model import MATTER_KIND_TITLES, ForensicAppraisalCase, MatterKind
from generator.report_content import MISSING, Block, KeyValues, Paragraph, Section, Table, fmt_dt

TITLE = "随机选择鉴定机构记录"
BASIS = "川司鉴协〔2022〕7号 二（三）、二（四）；通则 Art 32；RFC 3797"
DECLINE_TITLES = {"declined": "拒绝受理", "recused": "回避"}


def _at(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return fmt_dt(draw.instant(text))
    except ValueError:
        return text  # shown as written: verify reports it


def _day(text: str | None) -> date | None:
    try:
        return draw.instant(text).astimezone(draw.BEIJING).date() if text else None
    except ValueError:
        return None


def _matter(m: dict[str, Any]) -> str:
    kind = m.get("kind")
    title = MATTER_KIND_TITLES.get(MatterKind(kind)) if kind in MatterKind.__members__ else None
    return f"{m.get('id', '')} {m.get('description', '')}" + (f"（{title}）" if title else "")


def _sections(record: dict[str, Any], sha256: str, reference: str) -> list[Section]:
    roster = record.get("roster") or {}
    re_ = record.get("reappraisal")
    overview: list[tuple[str, str | None]] = [
        ("案件编号", record.get("case_id")), ("案件名称", record.get("case_name")),
        ("鉴定事项", "；".join(_matter(m) for m in record.get("matters") or []) or None),
        ("所需业务范围", "、".join(record.get("required_scopes") or []) or None),
        ("名单生成时间", _at(record.get("prepared_at"))),
        ("抽取记录文件", f"{reference}（格式 {record.get('format')}）"), ("抽取记录 SHA-256", sha256),
    ]
    if re_:
        o = re_.get("original") or {}
        overview += [("重新鉴定：原鉴定机构", f"{o.get('name')}（许可证号 {o.get('licence_no')}）"),
                     ("比较资质所依据的业务范围", "、".join(re_.get("relevant_scopes") or []) or "—"),
                     ("比较标准", re_.get("rule"))]
    snapshot = KeyValues([
        ("名册", roster.get("title")), ("来源文件", roster.get("source")), ("导入时间", _at(roster.get("imported_at"))),
        ("来源文件 SHA-256", roster.get("source_sha256")), ("名册条目 SHA-256", roster.get("sha256")),
        ("名册机构数", str(len(roster.get("entries") or []))),
    ])
    exclusions: Block = Table(
        header=[["许可证号", "机构名称", "排除理由", "依据"]],
        rows=[[x["licence_no"], x["name"], x["reason"], x["clause"]] for x in record.get("exclusions") or []],
        widths=[2, 4, 6, 3], caption="排除的机构（每条排除理由一行）",
    ) if record.get("exclusions") else Paragraph("没有排除的机构。")
    eligible = Table(header=[["序号", "许可证号", "机构名称"]], numeric=frozenset({0}), widths=[1, 3, 6],
                     rows=[[str(i), e["licence_no"], e["name"]] for i, e in enumerate(record.get("eligible") or [])],
                     caption="符合条件的机构（按许可证号排序，序号从 0 数起）")
    acks = Table(header=[["当事人", "确认时间", "确认的名单哈希"]], widths=[4, 3, 7],
                 rows=[[a["party"], _at(a["at"]) or "", a["list_hash"]] for a in record.get("acknowledgements") or []],
                 caption="双方确认名单哈希")
    decl = record.get("declaration") or {}
    res = record.get("result") or {}
    public = KeyValues([
        ("来源", decl.get("source")), ("期号", decl.get("issue")), ("指定时间", _at(decl.get("declared_at"))),
        ("记录人", decl.get("declared_by") or None),
        ("开奖号码", " ".join(f"{n:02d}" for n in res.get("numbers") or []) or None),
        ("号码串（RFC 3797）", res.get("value")), ("开奖公布时间", _at(res.get("published_at"))),
    ])
    reveals = {r["party"]: r for r in record.get("reveals") or []}
    secrets: Block = Table(
        header=[["当事人", "承诺值", "提交时间", "公开的秘密值", "公开时间"]], widths=[3, 6, 2, 4, 2],
        rows=[[c["party"], c["commitment"], _at(c["committed_at"]) or "", reveals.get(c["party"], {}).get("secret", MISSING),
               _at(reveals.get(c["party"], {}).get("revealed_at")) or MISSING] for c in record.get("commitments") or []],
        caption="秘密值的承诺与公开",
    ) if record.get("commitments") else Paragraph("各方未使用秘密值；种子只由名单哈希、案件编号和公开随机值决定。")
    order = Table(header=[["顺序", "许可证号", "机构名称"]], numeric=frozenset({0}), widths=[1, 3, 6],
                  rows=[[str(i), o["licence_no"], o["name"]] for i, o in enumerate(record.get("order") or [], start=1)],
                  caption="抽取顺序")
    declines: Block = Table(
        header=[["许可证号", "机构名称", "类别", "理由", "时间"]], widths=[2, 4, 2, 5, 3],
        rows=[[d["licence_no"], d["name"], DECLINE_TITLES.get(d.get("kind", ""), d.get("kind", "")), d["reason"],
               _at(d["at"]) or ""] for d in record.get("declines") or []],
        caption="拒绝受理或回避（由顺序中的下一家顶替，不重新抽取）",
    ) if record.get("declines") else Paragraph("没有机构拒绝受理或回避。")
    chosen = record.get("chosen")
    result = KeyValues([("种子", record.get("seed")), ("抽取时间", _at(record.get("drawn_at"))),
                        ("选定机构", f"{chosen['name']}（许可证号 {chosen['licence_no']}）" if chosen else None)])
    check = Paragraph(
        "如何核对：本记录列出了抽取的全部输入，任何人都可以只凭本记录重算结果。用本软件核对：gongu draw verify "
        f"{reference}（一致时显示“重新计算一致”）。不用本软件手工核对：按 docs/draw.md（《随机抽取鉴定机构：怎样自己核对"
        "一次抽取》）第三节的七个步骤，用任何计算 SHA-256 的工具依次算出名单哈希、承诺值、号码串、种子和随机数，"
        "再按剩余家数取数、划出机构，得到的顺序和选定机构应与本记录相同；开奖号码和公布时间须到彩票的官方公告核对。",
        style="note")
    return [
        Section("一、", "抽取概况", "Sichuan 二(三)", "draw-overview", [KeyValues(overview)]),
        Section("二、", "名册快照", "Sichuan 二(三)", "draw-roster", [snapshot]),
        Section("三、", "排除的机构", "通则 Art 15, 20–21, 32", "draw-exclusions", [exclusions]),
        Section("四、", "符合条件的机构及名单哈希", None, "draw-eligible",
                [eligible, KeyValues([("名单哈希", record.get("list_hash"))]), acks]),
        Section("五、", "事先指定的公开随机值", None, "draw-public", [public, secrets]),
        Section("六、", "种子、顺序和选定机构", None, "draw-result", [result, order, declines]),
        Section("七、", "核对方法", None, "draw-check", [check]),
    ]


def build_draw(case: ForensicAppraisalCase, case_dir: Path | None) -> list[ForensicDocument]:
    """The record of the draw the case names (`selection.draw_record`); the 「未提供」 marker when it cannot
    be read (the rule forensic.selection.draw_record blocks issuing such a case)."""
    reference = case.selection.draw_record or ""
    try:
        if case_dir is None:
            raise DrawRecordError("案件文件夹未知，无法读取随机抽取记录")
        linked = read_draw_record(case_dir, reference)
    except DrawRecordError as exc:
        sections = [Section("", "随机抽取记录", "Sichuan 二(三)", "draw-missing",
                            [Paragraph(f"{MISSING}：{exc}", missing=True)]),
                    _certification(case, case.selection.at.date())]
        return [_doc(case, "draw", TITLE, case.selection.draw_reference, case.selection.at.date(), BASIS, sections,
                     signers=list(case.selection.agreed_by))]
    record = linked.data
    day = _day(record.get("drawn_at")) or case.selection.at.date()
    sections = _sections(record, linked.sha256, reference)
    sections.append(_certification(case, day))
    return [_doc(case, "draw", TITLE, case.selection.draw_reference, day, BASIS, sections,
                 signers=list(case.selection.agreed_by))]


def _certification(case: ForensicAppraisalCase, day: date | None) -> Section:
    """Sichuan 二(三): the chosen institution benefits from the draw, so its seal alone does not certify the
    record: every side that took part in the choice (`selection.agreed_by`) signs it (PDF fields handler-1 …)."""
    return Section("", "参与选定的当事人签名及鉴定机构印章", "Sichuan 二(三)", "draw-seal", [
        party_signatures(case, list(case.selection.agreed_by), case.institution.name,
                         f"鉴定机构（{SEAL_TITLE}）", day, "参与选定的当事人签名（确认本记录与抽取经过一致）")])
