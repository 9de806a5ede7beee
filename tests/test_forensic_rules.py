"""Every forensic completeness rule with a passing and a failing case, each test named after its clause.

Each test edits example (a) (examples/forensic-joint-grade10, a complete joint commission) or its single-
commission variant (case_edits.make_single) in one place and checks that exactly the rule concerned
reacts. Dates in the example: received Fri 8 May 2026, accepted and effective Mon 11 May, agreed limit
20 working days, completed 29 May; the institution's head is 罗永康.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from case_edits import INSURER, forensic_findings, forensic_joint, make_single

from generator.loading import validate_data
from generator.rules import all_rules, blocking_reasons, run_rules
from generator.rules.registry import clause_key

Edit = Any


def hit(edit: Edit, **kw: Any) -> set[str]:
    return {f.rule for f in forensic_findings(edit, **kw)}


def both(*edits: Edit) -> Edit:
    def edit(d: dict) -> None:
        for e in edits:
            e(d)
    return edit


# ── the registry ──

def test_example_is_complete_at_every_stage() -> None:
    for stage in ("review", "issue", "archive"):
        assert forensic_findings(stage=stage) == []
        assert forensic_findings(make_single, stage=stage) == []


def test_registry_is_kind_aware() -> None:
    forensic = all_rules("forensic_appraisal")
    survey = all_rules("car_survey")
    assert forensic and survey
    assert not {r.id for r in forensic} & {r.id for r in survey}
    assert all(r.clause.startswith(("Sichuan ", "通则 Art ")) for r in forensic)
    assert all(r.clause[0].isdigit() for r in survey)
    assert all_rules() == survey  # the survey kind stays the default listing
    assert len(all_rules(None)) == len(forensic) + len(survey)
    # Only the case's own kind runs: a survey rule would fail on a forensic case (no handlers).
    findings = run_rules(validate_data(forensic_joint(), "<test>"))
    assert findings == []


def test_clause_order_survey_then_sichuan_then_tongze() -> None:
    labels = ["通则 Art 41", "Sichuan 三(二)", "10.1", "通则 Art 13", "Sichuan 二(四)", "4.1", "通则 Art 20–21",
              "Sichuan 二(一)", "5.1.2", "Sichuan 四(四)"]
    assert sorted(labels, key=clause_key) == ["4.1", "5.1.2", "10.1", "Sichuan 二(一)", "Sichuan 二(四)",
                                              "Sichuan 三(二)", "Sichuan 四(四)", "通则 Art 13", "通则 Art 20–21",
                                              "通则 Art 41"]
    rules = all_rules("forensic_appraisal")
    assert [clause_key(r.clause) for r in rules] == sorted(clause_key(r.clause) for r in rules)


def test_blocking_reasons_cite_forensic_clause() -> None:
    data = forensic_joint()
    data["process"]["identity_shown"] = False
    (reason,) = blocking_reasons(validate_data(data, "<test>"))
    assert reason.startswith("[Sichuan 三(二)]") and "$.process.identity_shown" in reason


# ── Sichuan 二(一): joint commission ──

def test_sichuan_2_1_joint_material_confirmed_by_each_client() -> None:
    assert hit(lambda d: d["materials"][0]["confirmations"].pop()) == {"forensic.joint.materials_confirmed"}
    (f,) = forensic_findings(lambda d: d["materials"][0]["confirmations"].pop(),
                             rule="forensic.joint.materials_confirmed")
    assert f.severity == "blocking" and f.value == [INSURER] and f.path == "$.materials[0].confirmations"


def test_sichuan_2_1_unconfirmed_material_must_not_be_used() -> None:
    def refused(d: dict) -> None:
        d["materials"][2]["confirmations"][0]["confirmed"] = False

    assert hit(refused) == {"forensic.joint.materials_confirmed"}
    # Set aside (not used for the appraisal), the refused material is no longer a fault.
    assert hit(both(refused, lambda d: d["materials"][2].update(used=False))) == set()


def test_sichuan_2_1_joint_needs_insurer_and_party_as_clients() -> None:
    assert hit(lambda d: d["parties"][1].update(client=False)) >= {"forensic.joint.both_sides_commission"}
    assert hit(lambda d: d["parties"][0].update(client=False)) >= {"forensic.joint.both_sides_commission"}


# ── Sichuan 二(二): single commission ──

def test_sichuan_2_2_insurance_use_asked_and_recorded() -> None:
    assert hit(both(make_single, lambda d: d["commission"].pop("for_insurance_claim"))) == {
        "forensic.single.insurance_use_asked"}
    # A joint commission does not need the question.
    assert hit(lambda d: d["commission"].pop("for_insurance_claim")) == set()


def test_sichuan_2_2_risk_notice_signed() -> None:
    assert hit(both(make_single, lambda d: d["single"].pop("risk_notice"))) == {"forensic.single.risk_notice"}
    assert hit(both(make_single, lambda d: d.pop("single"))) == {"forensic.single.risk_notice",
                                                                 "forensic.single.insurer_notified"}


def test_sichuan_2_2_insurer_notified() -> None:
    assert hit(both(make_single, lambda d: d["single"].update(witness_notices=[]))) == {
        "forensic.single.insurer_notified"}
    # Not for an insurance claim: no insurer to notify and no attendance record needed.
    not_claim = both(make_single, lambda d: d["commission"].update(for_insurance_claim=False),
                     lambda d: d["single"].update(witness_notices=[]), lambda d: d.pop("attendance"))
    assert hit(not_claim) == set()


def test_sichuan_2_2_attendance_recorded_absent_insurer() -> None:
    assert hit(both(make_single, lambda d: d.pop("attendance"))) == {"forensic.single.attendance_record"}
    no_note = both(make_single, lambda d: d["attendance"].pop("absence_note"))
    assert hit(no_note) == {"forensic.single.attendance_record"}
    stopped = both(make_single, lambda d: d["attendance"].update(proceeded=False))
    (f,) = forensic_findings(stopped, rule="forensic.single.attendance_record")
    assert f.path == "$.attendance.proceeded"
    unsigned = both(make_single, lambda d: d["attendance"].update(party_signed=False))
    assert hit(unsigned) == {"forensic.single.attendance_record"}


def test_sichuan_2_2_attendance_signed_by_attending_insurer() -> None:
    attendee = {"name": "陈敏", "organisation": INSURER, "id_checked": True, "work_id_checked": True,
                "copies_kept": True, "signed": True}

    def came(d: dict) -> None:
        d["attendance"].update(insurer_attended=True, attendees=[dict(attendee)])
        d["attendance"].pop("absence_note")

    assert hit(both(make_single, came)) == set()
    assert hit(both(make_single, came, lambda d: d["attendance"]["attendees"][0].update(signed=False))) == {
        "forensic.single.attendance_record"}
    assert hit(both(make_single, came, lambda d: d["attendance"].update(attendees=[]))) == {
        "forensic.single.attendance_record"}


# ── Sichuan 二(三): choosing the institution ──

def test_sichuan_2_3_random_draw_needs_draw_reference() -> None:
    draw = lambda d: d["selection"].update(method="random_draw")  # noqa: E731
    assert hit(draw) == {"forensic.selection.recorded", "forensic.selection.draw_record_kept"}
    # A reference alone (a filmed lottery kept elsewhere) passes the blocking rule; that the draw cannot be
    # re-computed is a warning (forensic.selection.draw_record_kept; tests/test_draw_link.py).
    assert hit(both(draw, lambda d: d["selection"].update(draw_reference="CD-2026-RD-0412"))) == {
        "forensic.selection.draw_record_kept"}


# ── Sichuan 二(四) / 通则 Art 32: re-appraisal ──

def _reappraisal(original: str, licence_no: str = "510107088") -> Edit:
    number, institution = original.split("，")
    record = {"ground": "agreement", "ground_text": "双方对伤残等级有异议，协商一致申请重新鉴定",
              "agreed_by": ["何建平", INSURER], "original_opinion_number": number,
              "original_institution": institution, "original_licence_no": licence_no}
    return lambda d: d["commission"].update(is_reappraisal=True, original_opinion=original, reappraisal=record)


def test_sichuan_2_4_reappraisal_at_another_institution() -> None:
    assert hit(_reappraisal("川华西司鉴〔2026〕临鉴字第88号，四川华西法医学鉴定中心")) == set()
    # The licence number decides (the example's institution holds 510115012), whatever the name says.
    assert hit(_reappraisal("蜀正司鉴〔2026〕临鉴字第0100号，蜀正鉴定中心", "510115012")) == {
        "forensic.reappraisal.other_institution"}
    assert hit(_reappraisal("蜀正司鉴〔2026〕临鉴字第0100号，四川蜀正司法鉴定中心", "510107088")) == set()


def test_sichuan_2_4_reappraisal_free_text_only_compares_the_name() -> None:
    # Without the structured record the grounds rule blocks, and the legacy text is compared by name.
    def legacy(text: str) -> Edit:
        return lambda d: d["commission"].update(is_reappraisal=True, original_opinion=text)

    assert hit(legacy("川华西司鉴〔2026〕临鉴字第88号，四川华西法医学鉴定中心")) == {"forensic.reappraisal.grounds"}
    assert hit(legacy("蜀正司鉴〔2026〕临鉴字第0100号，四川蜀正司法鉴定中心")) == {
        "forensic.reappraisal.grounds", "forensic.reappraisal.other_institution"}


def test_sichuan_2_4_reappraisal_needs_senior_title() -> None:
    other = _reappraisal("川华西司鉴〔2026〕临鉴字第88号，四川华西法医学鉴定中心")

    def junior(d: dict) -> None:
        for a in d["appraisers"]:
            a["senior_title"] = False

    assert hit(both(other, junior)) == {"forensic.reappraisal.senior_title"}
    assert hit(junior) == set()  # a first appraisal needs no senior title
    only_second = both(other, lambda d: d["appraisers"][0].update(senior_title=False))
    assert hit(only_second) == set()


# ── 通则 Art 16: the 委托书 ──

def test_art_16_three_risk_warnings_and_signatures() -> None:
    assert hit(lambda d: d["commission"].update(risk_warnings_acknowledged=False)) == {"forensic.commission.contents"}
    assert hit(lambda d: d["commission"].update(signed_by=[])) == {"forensic.commission.contents"}
    assert hit(lambda d: d["commission"].pop("signed_on")) == {"forensic.commission.contents"}
    (f,) = forensic_findings(lambda d: d["commission"].update(signed_by=["何建平"]), rule="forensic.commission.contents")
    assert f.value == [INSURER]


# ── 通则 Art 13 / 28: acceptance recorded ──

def test_art_13_acceptance_and_effective_date_recorded() -> None:
    # No decision recorded, and on the report date (29 May) the 7 working days (to 18 May) are over too.
    assert hit(lambda d: d["timeline"].pop("accepted_at")) == {"forensic.acceptance.recorded",
                                                               "forensic.time.acceptance"}
    assert hit(lambda d: d["timeline"].pop("accepted_at"), today=date(2026, 5, 18)) == {"forensic.acceptance.recorded"}
    assert hit(lambda d: d["timeline"].pop("effective_on")) == {"forensic.acceptance.recorded"}


# ── Sichuan 三(二) / 通则 Art 27: the process record ──

def test_sichuan_3_2_identity_shown() -> None:
    assert hit(lambda d: d["process"].update(identity_shown=False)) == {"forensic.process.identity_shown"}
    assert hit(lambda d: d["process"].update(identity_shown_to=[])) == {"forensic.process.identity_shown"}


def test_art_27_real_time_notes_signed() -> None:
    assert hit(lambda d: d["process"]["notes"][1].update(signed=False)) == {"forensic.process.notes_signed"}
    assert hit(lambda d: d["process"].update(notes=[])) == {"forensic.process.notes_signed"}


# ── 通则 Art 20–21 / Sichuan 三(四): recusal ──

def test_art_20_21_every_signing_appraiser_declares() -> None:
    (f,) = forensic_findings(lambda d: d["recusals"].pop(), rule="forensic.recusal.declared")
    assert f.value == "邓晓梅" and f.severity == "blocking"
    assert hit(lambda d: d["recusals"].pop()) == {"forensic.recusal.declared"}


def test_art_20_21_interested_appraiser_must_not_sign() -> None:
    assert hit(lambda d: d["recusals"][1].update(has_interest=True)) == {"forensic.recusal.interested_not_signing"}
    asked = {"appraiser": "唐志明", "reason": "曾为被鉴定人提供咨询"}
    assert hit(lambda d: d["commission"]["recusal_requests"].append(asked)) == {
        "forensic.recusal.interested_not_signing"}


# ── Sichuan 四(四): no ID, no witnessing ──

def test_sichuan_4_4_attendee_id_and_work_id_checked_and_copies_kept() -> None:
    for key in ("id_checked", "work_id_checked", "copies_kept"):
        (f,) = forensic_findings(lambda d, k=key: d["attendance"]["attendees"][0].update({k: False}),
                                 rule="forensic.witness.identity_checked")
        assert f.path == f"$.attendance.attendees[0].{key}"


# ── 通则 Art 12: materials ──

def test_art_12_materials_registered_with_storage() -> None:
    assert hit(lambda d: d["materials"][3].pop("storage")) == {"forensic.materials.registered"}
    unused = lambda d: [m.update(used=False) for m in d["materials"]]  # noqa: E731
    assert "forensic.materials.registered" in hit(unused)


# ── 通则 Art 23: examination and standard ──

def test_art_23_jrt_0083_needs_standard_basis() -> None:
    jrt = lambda d: d["examination"].update(standard="jrt_0083_2013")  # noqa: E731
    assert hit(jrt) == {"forensic.examination.standard"}
    basis = lambda d: d["examination"].update(standard_basis="意外伤害保险条款第十二条约定采用 JR/T 0083-2013")  # noqa: E731
    assert hit(both(jrt, basis)) == set()


def test_art_23_examination_recorded() -> None:
    assert "forensic.examination.standard" in hit(lambda d: d.pop("examination"))


# ── 通则 Art 36: each matter answered ──

def test_art_36_every_matter_has_a_result() -> None:
    (f,) = forensic_findings(lambda d: d["results"].pop(), rule="forensic.results.every_matter")
    assert f.value == "M4"


# ── Sichuan 三(三): 未构成伤残等级 vs not stable ──

def _no_disability(d: dict) -> None:
    d["results"][0] = {"matter": "M1", "outcome": "no_disability", "text": "被鉴定人何建平未构成伤残等级。"}


def test_sichuan_3_3_no_disability_is_a_result_and_the_opinion_issues() -> None:
    assert forensic_findings(_no_disability) == []
    terminated = {"number": "蜀正司鉴终〔2026〕第3号", "ground": "other", "explanation": "未构成伤残等级",
                  "decided_on": "2026-05-29"}
    assert "forensic.results.no_disability_issued" in hit(both(_no_disability, lambda d: d.update(termination=terminated)))


def test_sichuan_3_3_not_stable_blocks_the_opinion() -> None:
    def unstable(d: dict) -> None:
        d["results"][0] = {"matter": "M1", "outcome": "not_stable"}

    assert hit(unstable) == {"forensic.results.not_stable"}
    (f,) = forensic_findings(unstable, rule="forensic.results.not_stable")
    assert f.blocking and "终止" in f.message


# ── 通则 Art 19 / 37: sign-off ──

def test_art_19_two_appraisers_sign_and_seal() -> None:
    assert hit(lambda d: d["report"]["signatures"].pop()) == {"forensic.signoff.two_appraisers"}
    assert hit(lambda d: d["report"].update(institution_seal=False)) == {"forensic.signoff.two_appraisers"}


def _sign_as(name: str, licence: str) -> Edit:
    """邓晓梅 (the second appraiser) replaced by `name` everywhere she appears as an appraiser: the case's
    appraisers, the signatures and the recusal declarations, so only who she is changes."""
    def edit(d: dict) -> None:
        d["appraisers"][1].update(name=name, licence_no=licence)
        d["report"]["signatures"][1]["appraiser"] = name
        d["recusals"][1]["appraiser"] = name
    return edit


def test_art_19_appraiser_not_on_the_institution_register_is_blocked() -> None:
    # 邓晓梅's licence 510109013007 is on 四川蜀正司法鉴定中心's register; 510199000001 is on no register.
    (f,) = forensic_findings(_sign_as("邓晓梅", "510199000001"), rule="forensic.appraisers.registered")
    assert (f.severity, f.path, f.value) == ("blocking", "$.appraisers[1].licence_no", "510199000001")
    assert "不在鉴定机构「四川蜀正司法鉴定中心」的执业鉴定人名册上" in f.message
    assert hit(_sign_as("邓晓梅", "510199000001")) == {"forensic.appraisers.registered"}


def test_art_19_register_licence_held_by_another_name_is_blocked() -> None:
    # 510106010002 is on the register as 宋建华 (the 复核人), not as 邓晓梅
    (f,) = forensic_findings(_sign_as("邓晓梅", "510106010002"), rule="forensic.appraisers.registered")
    assert f.path == "$.appraisers[1].name" and "登记为「宋建华」" in f.message


def test_art_19_appraiser_registered_in_another_category_is_blocked() -> None:
    # 何永年 (510106009011) is registered for 法医病理鉴定 only; every matter of example (a) is 法医临床鉴定
    (f,) = forensic_findings(_sign_as("何永年", "510106009011"), rule="forensic.appraisers.registered")
    assert f.path == "$.appraisers[1]" and f.value == ["法医病理鉴定"]
    assert "不含鉴定事项所需的法医临床鉴定" in f.message


def test_art_19_empty_register_is_blocked() -> None:
    def edit(d: dict) -> None:
        d["institution"]["appraiser_register"] = []
    (f,) = forensic_findings(edit)
    assert (f.rule, f.clause, f.path) == ("forensic.appraisers.registered", "通则 Art 19",
                                          "$.institution.appraiser_register")


def test_sichuan_4_1_insurer_claims_handler_as_appraiser_is_blocked() -> None:
    """The insurer's claims handler 陈敏 (its contact person "理赔人伤岗 陈敏" and attendee) entered as the
    second signing appraiser: not on the register (通则 Art 19) and on the insurer's side (Sichuan 四(一))."""
    found = forensic_findings(_sign_as("陈敏", "510106099999"))
    assert {(f.rule, f.path) for f in found} == {
        ("forensic.appraisers.registered", "$.appraisers[1].licence_no"),
        ("forensic.appraisers.not_party_staff", "$.appraisers[1].name")}
    assert all(f.blocking for f in found)
    staff = next(f for f in found if f.rule == "forensic.appraisers.not_party_staff")
    assert staff.clause == "Sichuan 四(一)"
    # the first person the case names on the insurer's side: the insurer party's contact person
    assert "保险机构「中国人民财产保险股份有限公司成都市分公司」的联系人" in staff.message


def test_sichuan_4_1_even_when_registered_the_insurers_person_is_blocked() -> None:
    def edit(d: dict) -> None:
        _sign_as("陈敏", "510106099999")(d)
        d["institution"]["appraiser_register"].append(
            {"name": "陈敏", "licence_no": "510106099999", "categories": ["法医临床鉴定"]})
    assert hit(edit) == {"forensic.appraisers.not_party_staff"}


def test_art_37_dissent_is_a_warning() -> None:
    (f,) = forensic_findings(lambda d: d["report"]["signatures"][1].update(dissent="护理期以60日为宜"))
    assert (f.rule, f.severity) == ("forensic.signoff.dissent", "warning")


# ── 通则 Art 35: 复核 and the three levels ──

def test_art_35_review_opinion_by_qualified_non_appraiser() -> None:
    assert hit(lambda d: d.pop("review_opinion")) == {"forensic.review.opinion"}
    assert hit(lambda d: d["review_opinion"]["reviewer"].pop("licence_no")) == {"forensic.review.opinion"}
    assert hit(lambda d: d["review_opinion"].update(agrees=False)) == {"forensic.review.opinion"}


def test_art_35_reviewer_is_not_an_appraiser_and_matches_recheck_level() -> None:
    def appraiser_reviews(d: dict) -> None:
        d["review_opinion"]["reviewer"]["name"] = "邓晓梅"

    findings = forensic_findings(appraiser_reviews, rule="forensic.review.opinion")
    messages = " ".join(f.message for f in findings)
    assert "是本案鉴定人" in messages and "应为同一人" in messages


def test_art_35_review_opinion_signed_by_the_recheck_reviewer() -> None:
    other = lambda d: d["review_opinion"]["reviewer"].update(name="周志远")  # noqa: E731 — qualified, not an appraiser
    (f,) = forensic_findings(other)
    assert (f.rule, f.value) == ("forensic.review.opinion", "宋建华") and "应为同一人" in f.message
    # The recheck level approved by the same person: consistent again.
    assert hit(both(other, lambda d: d["reviews"][1].update(reviewer="周志远"))) == set()


def test_art_35_three_levels_titled_for_the_kind() -> None:
    (f,) = forensic_findings(lambda d: d["reviews"].pop(), rule="forensic.review.three_levels")
    assert f.clause == "通则 Art 35" and "签发" in f.message and "审核（" not in f.message
    (w,) = forensic_findings(lambda d: d["reviews"].pop(), rule="forensic.review.three_levels", stage="review")
    assert w.severity == "warning"
    # An appraiser may not review at any level.
    bad = forensic_findings(lambda d: d["reviews"][0].update(reviewer="唐志明"), rule="forensic.review.three_levels")
    assert bad[0].path == "$.reviews[0]" and "是本案鉴定人" in bad[0].message
    assert any("校对（proofread）尚未通过" in f.message for f in bad)


# ── 通则 Art 41: corrections ──

def _correction(**kw: Any) -> Edit:
    item = {"location": "第2页 基本情况", "before": "受理日期：2026年5月12日", "after": "受理日期：2026年5月11日"}
    corr = {"number": "蜀正司鉴补〔2026〕第1号", "issued_on": "2026-06-03", "items": [item],
            "reason": "受理日期笔误", "signed_by": ["唐志明"], **kw}
    return lambda d: d.setdefault("corrections", []).append(corr)


def test_art_41_correction_must_not_change_opinion() -> None:
    assert hit(_correction()) == set()
    assert hit(_correction(changes_opinion=True)) == {"forensic.correction.keeps_opinion"}

    def opinion_touched(d: dict) -> None:
        d["report"]["opinion"] = "被鉴定人何建平构成十级伤残。"
        _correction(items=[{"location": "鉴定意见", "before": "构成十级伤残", "after": "构成九级伤残"}])(d)

    assert hit(opinion_touched) == {"forensic.correction.keeps_opinion"}


# ── 通则 Art 13 / 28: time limits (warnings) ──

def test_art_13_acceptance_within_7_working_days() -> None:
    # Received Fri 8 May; due Mon 18 May (Sat 9 May is a make-up working day). Accepted on the 18th: met.
    on_time = lambda d: d["timeline"].update(accepted_at="2026-05-18T17:00:00")  # noqa: E731
    assert hit(on_time) == set()
    late = lambda d: d["timeline"].update(accepted_at="2026-05-19T09:00:00")  # noqa: E731
    (f,) = forensic_findings(late)
    assert (f.rule, f.severity) == ("forensic.time.acceptance", "warning") and "2026-05-18" in f.message


def test_art_28_completion_deadline() -> None:
    # Agreed 20 working days from Mon 11 May: Mon 8 Jun.
    assert hit(lambda d: d["timeline"].update(completed_on="2026-06-08")) == set()
    (f,) = forensic_findings(lambda d: d["timeline"].update(completed_on="2026-06-09"))
    assert (f.rule, f.severity) == ("forensic.time.completion", "warning") and "2026-06-08" in f.message
    # An approved 1-day extension moves the deadline to Tue 9 Jun.
    ext = {"working_days": 1, "reason": "需补充影像检查", "approved_by": "罗永康", "approved_on": "2026-06-01",
           "client_notified_at": "2026-06-01T15:00:00"}
    extended = both(lambda d: d["timeline"].update(completed_on="2026-06-09"),
                    lambda d: d["timeline"]["extensions"].append(ext))
    assert hit(extended) == set()
    # Not completed and past the deadline on the day checked.
    pending = lambda d: d["timeline"].pop("completed_on")  # noqa: E731
    assert hit(pending, today=date(2026, 6, 8)) == set()
    assert hit(pending, today=date(2026, 6, 9)) == {"forensic.time.completion"}


def test_art_28_extension_limit_head_and_client_told() -> None:
    ext = {"working_days": 10, "reason": "疑难", "approved_by": "罗永康", "approved_on": "2026-06-01",
           "client_notified_at": "2026-06-01T15:00:00"}
    add = lambda **kw: lambda d: d["timeline"]["extensions"].append({**ext, **kw})  # noqa: E731
    assert hit(add()) == set()
    assert hit(add(working_days=31)) == {"forensic.time.extension"}
    assert hit(add(approved_by="唐志明")) == {"forensic.time.extension"}
    assert hit(add(client_notified_at=None)) == {"forensic.time.extension"}
    # 20 + 11 = 31 working days in total: over 30 though each is within.
    (f,) = forensic_findings(both(add(working_days=20), add(working_days=11)), rule="forensic.time.extension")
    assert f.value == 31 and f.severity == "warning"


def test_art_28_completion_in_a_year_without_a_file_is_compared_with_the_exact_deadline() -> None:
    late = both(lambda d: d["timeline"].update(completed_on="2027-01-05"))
    (f,) = forensic_findings(late)  # the deadline (2026-06-08) was counted on 2026's file: no estimate
    assert f.rule == "forensic.time.completion" and f.severity == "warning"
    assert "2027-01-05" in f.message and "2026-06-08" in f.message and "估算" not in f.message


def test_art_28_deadline_counted_through_an_estimated_year_is_marked_and_warned() -> None:
    # effective Tue 22 Dec 2026, agreed 20: … Fri 1 Jan 2027 off (estimate) … → Wed 20 Jan 2027 (估算)
    into_2027 = both(lambda d: d["timeline"].update(received_at="2026-12-21T10:00:00",
                                                    accepted_at="2026-12-22T09:00:00", effective_on="2026-12-22",
                                                    completed_on="2027-01-21"))
    by_rule = {f.rule: f for f in forensic_findings(into_2027)}
    assert set(by_rule) == {"forensic.time.completion", "forensic.time.calendar"}
    assert "2027-01-20（估算）" in by_rule["forensic.time.completion"].message
    hint = by_rule["forensic.time.calendar"]
    assert hint.severity == "warning" and hint.value == 2027 and "2027.toml" in hint.message


# ── 通则 Art 42: closing the file ──

def test_art_42_delivered_fee_received_closed_before_archive() -> None:
    open_case = lambda d: d["delivery"].pop("closed_at")  # noqa: E731
    (f,) = forensic_findings(open_case)
    assert (f.rule, f.severity) == ("forensic.archive.closed", "warning")
    (g,) = forensic_findings(open_case, stage="archive")
    assert g.severity == "blocking"


# ── text that displays differently ──

def test_art_36_bidi_controls_in_text_are_flagged() -> None:
    (f,) = forensic_findings(lambda d: d["examination"].update(complaint="左膝\u202e疼痛"))
    assert (f.rule, f.severity, f.path) == ("forensic.text.bidi_controls", "warning", "$.examination.complaint")
