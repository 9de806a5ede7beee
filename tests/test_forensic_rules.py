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


NUMBER = "蜀正司鉴〔2026〕临鉴字第0318号"  # example (a)'s opinion


def as_issued(edit: Edit = None, *, number: str = NUMBER, issued_data: dict | None = None) -> list[Any]:
    """The findings of the Art 41 comparison when example (a) was issued as it stands in the examples (or as
    `issued_data`) and `edit` is what the case file became afterwards."""
    from generator.forensic.issued import IssuedOpinion

    data = forensic_joint()
    if edit is not None:
        edit(data)
    issued = IssuedOpinion(number=number, source="<issued>", data=issued_data or forensic_joint())
    found = run_rules(validate_data(data, "<test>"), issued=issued)
    return [f for f in found if f.rule == "forensic.correction.opinion_as_issued"]


def regrade(d: dict) -> None:
    """九级 instead of the issued 十级 (5.10.6.11 → 5.9.6.1), the words edited to match."""
    d["results"][0].update(grade=9, clause="5.9.6.1",
                           text=d["results"][0]["text"].replace("构成十级伤残", "构成九级伤残"))


def test_art_41_correction_is_checked_against_the_issued_opinion_not_its_flag() -> None:
    # A wording correction elsewhere, nothing in the results touched: no finding.
    assert as_issued(_correction()) == []
    # The grade changed and a 补正书 claiming it does not touch the opinion (changes_opinion false): the
    # grade, its clause and the opinion words each differ from the issued copy, each a blocking finding.
    found = as_issued(both(regrade, _correction()))
    assert [f.path for f in found] == ["$.results[0].grade", "$.results[0].clause", "$.results[0].text"]
    assert {(f.severity, f.clause) for f in found} == {("blocking", "通则 Art 41")}
    grade = found[0]
    assert grade.value == 9 and "出具时为「10」，现为「9」" in grade.message and NUMBER in grade.message
    assert "蜀正司鉴补〔2026〕第1号 却记载不涉及鉴定意见" in grade.message
    assert "须补充鉴定或重新鉴定" in grade.message
    # The issued copy is what counts: the same case, not yet issued, has nothing to compare with.
    assert "forensic.correction.opinion_as_issued" not in hit(both(regrade, _correction()))


def test_art_41_periods_matters_and_a_reissue() -> None:
    # 误工期 180 → 200 days without any 补正书 recorded: still a change of the issued opinion.
    (f,) = as_issued(lambda d: d["results"][1].update(days=200))
    assert (f.path, f.value) == ("$.results[1].days", 200) and "却记载" not in f.message
    # A matter's result dropped: named by its matter id.
    (g,) = as_issued(lambda d: d["results"].pop(3))
    assert g.path == "$.results" and "M4" in g.message
    # A reissue under a new number is compared with its own issued copy, not the old number's.
    assert as_issued(lambda d: d["results"][1].update(days=200), number=NUMBER + "R0") == []


def reissue(d: dict) -> None:
    """What `gongu issue --reissue` makes of the case: R1 superseding the issued number, dated 7 Dec."""
    d["report"].update(number=NUMBER + "R1", supersedes=NUMBER, reissue_reason="更正", issued_on="2026-12-07")
    d["issuances"] = [{"number": NUMBER, "issued_at": "2026-05-29T10:00:00", "sealed": True, "pdf_file": "o.pdf"}]


def test_art_41_a_reissue_is_held_against_the_opinion_it_supersedes() -> None:
    # Reissued unchanged: nothing. Reissued with 护理期 90 → 120 days: the reissue would change the
    # conclusion of the opinion it replaces, which only 补充鉴定 or 重新鉴定 may do.
    assert as_issued(reissue) == []
    (f,) = as_issued(both(reissue, lambda d: d["results"][2].update(days=120)))
    assert (f.path, f.value) == ("$.results[2].days", 120)
    assert f"重新出具（{NUMBER}R1 替代 {NUMBER}）不得改变鉴定意见" in f.message


def test_art_41_words_corrected_by_the_items_keep_the_conclusion() -> None:
    name_fix = {"location": "鉴定意见", "before": "何建平", "after": "何建萍"}
    # The name in the opinion's words corrected by a recorded item: a correction, not a change.
    renamed = both(lambda d: d["results"][0].update(text=d["results"][0]["text"].replace("何建平", "何建萍")),
                   _correction(items=[name_fix]))
    assert as_issued(renamed) == []
    # A date in the words corrected by an item: the day of a date (12日 → 22日) is not a period of days,
    # so the conclusion words are unchanged and the item accounts for the rest; without the item, a change.
    issued_dated = forensic_joint()
    issued_dated["results"][0]["text"] = "2026年5月12日受伤，" + issued_dated["results"][0]["text"]
    redate = lambda d: d["results"][0].update(  # noqa: E731
        text=issued_dated["results"][0]["text"].replace("5月12日", "5月22日"))
    date_fix = _correction(items=[{"location": "鉴定意见", "before": "5月12日", "after": "5月22日"}])
    assert as_issued(both(redate, date_fix), issued_data=issued_dated) == []
    assert [f.path for f in as_issued(redate, issued_data=issued_dated)] == ["$.results[0].text"]
    # The same words changed with no item recording it: the words differ from the issued copy.
    (f,) = as_issued(lambda d: d["results"][0].update(text=d["results"][0]["text"].replace("何建平", "何建萍")))
    assert f.path == "$.results[0].text"
    # An item that rewrites the grade in the words, the grade field left as issued: the conclusion words
    # (十级伤残 → 九级伤残) changed, so the correction explaining it does not make it a correction.
    words = both(lambda d: d["results"][0].update(text=d["results"][0]["text"].replace("十级", "九级")),
                 _correction(items=[{"location": "鉴定意见", "before": "十级伤残", "after": "九级伤残"}]))
    (g,) = as_issued(words)
    assert g.path == "$.results[0].text" and "九级伤残" in g.message


# ── dates in order: examination → 复核 (通则 Art 35) → signed and dated (Arts 36–37) → 补正 (Art 41) ──
# Example (a): examined 15 May 09:40, 复核 27 May 15:00, signed 28 May 16:00 / 16:05, dated 29 May.

def test_art_13_received_accepted_and_in_effect_before_the_examination() -> None:
    # Example (a): received 8 May 10:05, accepted 11 May 09:30, in effect 11 May, examined 15 May 09:40.
    rule = "forensic.dates.commission_before_examination"
    (f,) = forensic_findings(lambda d: d["timeline"].update(accepted_at="2026-05-08T09:00:00"), rule=rule)
    assert (f.severity, f.clause, f.path) == ("blocking", "通则 Art 13", "$.timeline.accepted_at")
    assert "$.timeline.received_at" in f.message and "2026-05-08T10:05" in f.message and "收到委托时间" in f.message
    # Examined at 09:00 on 11 May, half an hour before the acceptance; the 委托书 in effect that day is a
    # date, so the same day is in order for it: one finding only.
    (g,) = forensic_findings(lambda d: d["examination"].update(at="2026-05-11T09:00:00"), rule=rule)
    assert g.path == "$.examination.at" and "$.timeline.accepted_at" in g.message
    # The 委托书 in effect only on 18 May, after the examination of the 15th.
    (h,) = forensic_findings(lambda d: d["timeline"].update(effective_on="2026-05-18"), rule=rule)
    assert h.path == "$.examination.at" and "$.timeline.effective_on" in h.message and "2026-05-18" in h.message
    assert hit(lambda d: d["timeline"].update(accepted_at="2026-05-08T10:05:00")) == set()


def test_art_36_opinion_not_dated_before_its_examination() -> None:
    # Dated 14 May, the day before the examination; the 复核 and the signatures now lie after the opinion
    # date too, and each pair is its own finding.
    early = lambda d: d["report"].update(issued_on="2026-05-14")  # noqa: E731
    found = {f.rule: f for f in forensic_findings(early) if f.rule.startswith("forensic.dates.")}
    assert set(found) == {"forensic.dates.examination_before_opinion", "forensic.dates.review_before_opinion",
                          "forensic.dates.signed_before_opinion"}
    f = found["forensic.dates.examination_before_opinion"]
    assert (f.severity, f.clause, f.path, f.value) == ("blocking", "通则 Art 36", "$.report.issued_on", "2026-05-14")
    assert "$.examination.at" in f.message and "2026-05-15T09:40" in f.message and "检验时间" in f.message
    # Dated the day of the examination: in order.
    assert "forensic.dates.examination_before_opinion" not in hit(
        both(lambda d: d["report"].update(issued_on="2026-05-15"),
             lambda d: d["review_opinion"].update(at="2026-05-15T15:00:00"),
             lambda d: [s.update(signed_at="2026-05-15T16:00:00") for s in d["report"]["signatures"]]))


def test_art_35_review_after_examination_and_before_the_opinion_date() -> None:
    # 复核 on 30 May, after the opinion dated 29 May: one finding on the opinion date naming both.
    (f,) = forensic_findings(lambda d: d["review_opinion"].update(at="2026-05-30T09:00:00"),
                             rule="forensic.dates.review_before_opinion")
    assert (f.severity, f.clause, f.path) == ("blocking", "通则 Art 35", "$.report.issued_on")
    assert "$.review_opinion.at" in f.message and "2026-05-30T09:00" in f.message and "2026-05-29" in f.message
    # 复核 on the opinion's own day: in order (a date against a timestamp compares Beijing days).
    assert hit(lambda d: d["review_opinion"].update(at="2026-05-29T08:00:00")) == set()
    # 复核 at 09:00 on the examination day, 40 minutes before the examination began: the pair is timed.
    (g,) = forensic_findings(lambda d: d["review_opinion"].update(at="2026-05-15T09:00:00"),
                             rule="forensic.dates.review_before_opinion")
    assert g.path == "$.review_opinion.at" and "$.examination.at" in g.message


def test_art_37_signatures_between_examination_and_the_opinion_date() -> None:
    (f,) = forensic_findings(lambda d: d["report"]["signatures"][1].update(signed_at="2026-05-30T10:00:00"))
    assert (f.rule, f.severity, f.clause) == ("forensic.dates.signed_before_opinion", "blocking", "通则 Art 37")
    assert f.path == "$.report.issued_on" and "$.report.signatures[1].signed_at" in f.message and "邓晓梅" in f.message
    (g,) = forensic_findings(lambda d: d["report"]["signatures"][0].update(signed_at="2026-05-14T10:00:00"))
    assert g.path == "$.report.signatures[0].signed_at" and "$.examination.at" in g.message


def test_art_35_review_signatures_and_date_precede_the_recorded_issue() -> None:
    def issued_at(moment: str) -> Edit:
        return lambda d: d.setdefault("issuances", []).append(
            {"number": NUMBER, "issued_at": moment, "sealed": True, "pdf_file": "opinion.pdf"})

    # Issued 29 May 10:00: 复核 27 May, signatures 28 May, dated 29 May — all before or on it.
    assert hit(issued_at("2026-05-29T10:00:00")) == set()
    # Recorded as issued 28 May 12:00: both signatures (16:00, 16:05) came later, and the opinion is dated
    # the day after; each is its own finding on the field to put right, naming the issuance.
    found = forensic_findings(issued_at("2026-05-28T12:00:00"), rule="forensic.dates.before_issuance")
    assert [f.path for f in found] == ["$.report.signatures[0].signed_at", "$.report.signatures[1].signed_at",
                                       "$.report.issued_on"]
    assert all(f.severity == "blocking" and f.clause == "通则 Art 35" and "$.issuances[0].issued_at" in f.message
               for f in found)
    assert found[2].value == "2026-05-29" and "2026-05-28T12:00" in found[2].message
    # Issued 27 May 12:00, before the 复核 at 15:00 that day: the 复核 is named too (timestamps compared exactly).
    early = forensic_findings(issued_at("2026-05-27T12:00:00"), rule="forensic.dates.before_issuance")
    assert early[0].path == "$.review_opinion.at" and len(early) == 4
    # Another number's issuance (the one a reissue replaces) says nothing about this opinion.
    other = lambda d: d["issuances"].append({"number": "蜀正司鉴〔2026〕临鉴字第0001号",  # noqa: E731
                                             "issued_at": "2026-05-01T10:00:00", "pdf_file": "old.pdf"})
    assert hit(both(lambda d: d.setdefault("issuances", []), other)) == set()


def test_art_41_correction_dated_after_the_opinion() -> None:
    # The correction of example (a) is dated 3 June, after the opinion of 29 May; 28 May is before it.
    (f,) = forensic_findings(_correction(issued_on="2026-05-28"))
    assert (f.rule, f.severity, f.path) == ("forensic.dates.correction_after_opinion", "blocking",
                                            "$.corrections[0].issued_on")
    assert "$.report.issued_on" in f.message and "2026-05-29" in f.message
    assert hit(_correction(issued_on="2026-05-29")) == set()
    # After a reissue dated 7 Dec, a correction of 3 June corrected the opinion first issued on 29 May:
    # in order. One dated 28 May is still before that first issue, named by its issuance record.
    assert hit(both(reissue, _correction())) == set()
    (g,) = forensic_findings(both(reissue, _correction(issued_on="2026-05-28")),
                             rule="forensic.dates.correction_after_opinion")
    assert "$.issuances[0].issued_at" in g.message and "2026-05-29T10:00" in g.message


# ── 通则 Art 13 / 28: time limits (warnings) ──

def test_art_13_acceptance_within_7_working_days() -> None:
    # Received Fri 8 May; due Mon 18 May (Sat 9 May is a make-up working day). Accepted on the 18th: met.
    # The examination moves to 20 May with it: examining before the acceptance is its own finding
    # (forensic.dates.commission_before_examination).
    examined_later = lambda d: d["examination"].update(at="2026-05-20T09:40:00")  # noqa: E731
    on_time = both(lambda d: d["timeline"].update(accepted_at="2026-05-18T17:00:00"), examined_later)
    assert hit(on_time) == set()
    late = both(lambda d: d["timeline"].update(accepted_at="2026-05-19T09:00:00"), examined_later)
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


def test_art_28_extension_approved_before_the_limit_ran_out() -> None:
    # Agreed 20 working days from Mon 11 May: the limit runs out on Mon 8 Jun (test above). An extension
    # approved that day is in time; approved Tue 9 Jun, the limit had already run out: blocking.
    ext = {"working_days": 5, "reason": "需补充影像检查", "approved_by": "罗永康", "approved_on": "2026-06-08",
           "client_notified_at": "2026-06-08T15:00:00"}
    add = lambda **kw: lambda d: d["timeline"]["extensions"].append({**ext, **kw})  # noqa: E731
    assert hit(add()) == set()
    (f,) = forensic_findings(add(approved_on="2026-06-09", client_notified_at="2026-06-09T15:00:00"))
    assert (f.rule, f.severity, f.clause) == ("forensic.time.extension_before_deadline", "blocking", "通则 Art 28")
    assert (f.path, f.value) == ("$.timeline.extensions[0].approved_on", "2026-06-09")
    assert "2026-06-08" in f.message and "$.timeline.effective_on" in f.message and "批准日期" in f.message
    # A second extension is measured against the deadline as the first left it: 20 + 5 working days from
    # 11 May is Mon 15 Jun (8 Jun + 9, 10, 11, 12, 15 Jun; no holiday in between). Approved on the 15th, in
    # time; on the 16th, too late — listed first but approved last, it is still judged second.
    assert hit(both(add(approved_on="2026-06-01"), add(working_days=3, approved_on="2026-06-15"))) == set()
    (g,) = forensic_findings(both(add(working_days=3, approved_on="2026-06-16"), add(approved_on="2026-06-01")))
    assert g.path == "$.timeline.extensions[0].approved_on" and "2026-06-15" in g.message
    # A suspension moves the deadline: 1–5 Jun suspended (5 working days skipped) → Mon 15 Jun, so an
    # extension approved on 12 Jun is in time.
    suspended = lambda d: d["timeline"]["suspensions"].append(  # noqa: E731
        {"start": "2026-06-01", "end": "2026-06-05", "reason": "等待补充材料"})
    assert "forensic.time.extension_before_deadline" not in hit(both(suspended, add(approved_on="2026-06-12")))


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
    # (the examination of May now comes before the December acceptance: the date-order rules say so apart)
    by_rule = {f.rule: f for f in forensic_findings(into_2027) if f.rule.startswith("forensic.time.")}
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
