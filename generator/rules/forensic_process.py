"""Forensic kind — the appraisal process (Sichuan 三(二), 三(四); 通则 Arts 12, 20–21, 27).

Materials registered, recusal declared, identity shown, notes taken in real time and signed: each is a
record the institution keeps, so each gap is blocking.
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.persons import person_key
from generator.rules.rule import FORENSIC, Miss, RuleContext, rule


@rule("forensic.process.identity_shown", "Sichuan 三(二)", "blocking",
      "鉴定前向到场人员出示司法鉴定人执业证、助理证，表明身份", kinds=FORENSIC)
def identity_shown(ctx: RuleContext) -> Iterator[Miss]:
    process = ctx.forensic.process
    if not process.identity_shown:
        yield Miss("$.process.identity_shown", "鉴定过程记录：未记录鉴定人、助理向到场人员出示执业证、助理证", False)
    elif not process.identity_shown_to:
        yield Miss("$.process.identity_shown_to", "鉴定过程记录：未记录向谁出示了执业证、助理证")


@rule("forensic.recusal.declared", "通则 Art 20–21", "blocking",
      "每名签名鉴定人作出利害关系及回避声明（川 三(四)）", kinds=FORENSIC)
def recusal_declared(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.forensic
    declared = {person_key(d.appraiser) for d in case.recusals}
    signers = [s.appraiser for s in case.report.signatures] or [a.name for a in case.appraisers]
    for name in signers:
        if person_key(name) not in declared:
            yield Miss("$.recusals", f"回避声明：鉴定人「{name}」没有利害关系及回避声明", name)


@rule("forensic.recusal.interested_not_signing", "通则 Art 20–21", "blocking",
      "与当事人存在利害关系或应回避的鉴定人不得参与鉴定、签名（川 三(四)）", kinds=FORENSIC)
def interested_not_signing(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.forensic
    signers = {person_key(s.appraiser): i for i, s in enumerate(case.report.signatures)}
    for decl in case.recusals:
        if decl.has_interest and person_key(decl.appraiser) in signers:
            yield Miss(f"$.report.signatures[{signers[person_key(decl.appraiser)]}]",
                       f"鉴定人「{decl.appraiser}」声明存在利害关系或应回避情形，应当回避，不得签名", decl.appraiser)
    for req in case.commission.recusal_requests:
        if person_key(req.appraiser) in signers:
            yield Miss(f"$.report.signatures[{signers[person_key(req.appraiser)]}]",
                       f"委托人申请鉴定人「{req.appraiser}」回避（{req.reason}），其不得签名", req.appraiser)


@rule("forensic.process.notes_signed", "通则 Art 27", "blocking",
      "鉴定过程实时记录并由鉴定人签名（川 三(二)）", kinds=FORENSIC)
def notes_signed(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.forensic
    if case.termination is None and not case.process.notes:
        yield Miss("$.process.notes", "鉴定过程记录：没有实时记录")
    for i, note in enumerate(case.process.notes):
        if not note.signed:
            yield Miss(f"$.process.notes[{i}].signed", f"鉴定过程记录：{note.at.isoformat()} 的实时记录未签名", False)


@rule("forensic.materials.registered", "通则 Art 12", "blocking",
      "登记鉴定材料的名称、种类、数量、性状、保存状况和收到时间", kinds=FORENSIC)
def materials_registered(ctx: RuleContext) -> Iterator[Miss]:
    case = ctx.forensic
    if not case.materials:
        yield Miss("$.materials", "鉴定材料：没有登记任何鉴定材料")
        return
    # name, type, quantity, condition and time received are required by the model; storage is not.
    for i, material in enumerate(case.materials):
        if not material.storage:
            yield Miss(f"$.materials[{i}].storage", f"鉴定材料「{material.name}」：未登记保存状况")
    if case.termination is None and not any(m.used for m in case.materials):
        yield Miss("$.materials", "鉴定材料：没有一份材料用于鉴定")
