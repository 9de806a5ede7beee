"""Issue 14 §3: re-appraisal (通则 Art 31–32, Sichuan 二(四)), supplementary appraisal (通则 Art 30) and the
dispute path (Sichuan 五(一)(二), 通则 Art 33, 35) — every rule with a passing and a failing case.

Example (a): the institution 四川蜀正司法鉴定中心 holds licence 510115012 and the scopes 法医临床鉴定、法医病理
鉴定、法医物证鉴定; its appraisers 唐志明 and 邓晓梅 (both senior) signed the opinion of 29 May 2026; the
clients are 何建平 and the insurer.
"""

from __future__ import annotations

from typing import Any

from case_edits import INSURER, PANEL, forensic_findings, with_dispute_path, with_supplementary

Edit = Any
RULES_OF_SECTION_3 = "forensic.reappraisal.", "forensic.supplementary.", "forensic.disputes."


def hit(edit: Edit) -> set[str]:
    return {f.rule for f in forensic_findings(edit)}


def then(*edits: Edit) -> Edit:
    def edit(d: dict) -> None:
        for e in edits:
            e(d)
    return edit


def reappraisal(**record: Any) -> Edit:
    base = {"ground": "unqualified", "ground_text": "原鉴定人执业类别为法医病理，不具有法医临床鉴定执业资格",
            "original_case_id": "HX-2026-0088", "original_opinion_number": "川华西司鉴〔2026〕临鉴字第88号",
            "original_institution": "四川华西法医学鉴定中心", "original_licence_no": "510107088"}
    base.update(record)
    return lambda d: d["commission"].update(is_reappraisal=True, reappraisal=base,
                                            original_opinion=f"{base['original_opinion_number']}，{base['original_institution']}")


# ── 通则 Art 31 / Sichuan 二(四): the grounds ──

def test_art_31_grounds_recorded() -> None:
    assert hit(reappraisal()) == set()
    legacy = lambda d: d["commission"].update(is_reappraisal=True, original_opinion="川华西司鉴〔2026〕临鉴字第88号")  # noqa: E731
    assert hit(legacy) == {"forensic.reappraisal.grounds"}


def test_sichuan_2_4_agreement_needs_both_clients() -> None:
    assert hit(reappraisal(ground="agreement", agreed_by=["何建平", INSURER])) == set()
    assert hit(reappraisal(ground="agreement", agreed_by=[INSURER])) == {"forensic.reappraisal.grounds"}
    # an Art 31 ground needs nobody's agreement
    assert hit(reappraisal(ground="ordered", agreed_by=[])) == set()


def test_loader_refuses_a_record_on_a_first_appraisal() -> None:
    import pytest
    from case_edits import forensic_joint

    from generator.loading import CaseFileError, validate_data

    d = forensic_joint()
    reappraisal()(d)
    d["commission"]["is_reappraisal"] = False
    with pytest.raises(CaseFileError) as err:
        validate_data(d, "<test>")
    assert [(p.path, p.value) for p in err.value.problems] == [("$.commission.is_reappraisal", False)]


# ── 通则 Art 32: another institution (by licence), a senior title, qualifications not lower ──

def test_art_32_reappraisal_at_the_original_institution_is_refused_with_the_clause() -> None:
    findings = forensic_findings(reappraisal(original_licence_no="510115012", original_institution="蜀正中心"))
    assert [(f.rule, f.clause, f.severity) for f in findings] == [
        ("forensic.reappraisal.other_institution", "Sichuan 二(四)", "blocking")]
    assert "510115012" in findings[0].message and "通则第三十二条" in findings[0].message
    # the same name at a different licence is another institution
    assert hit(reappraisal(original_institution="四川蜀正司法鉴定中心", original_licence_no="510107088")) == set()


def test_art_32_reappraisal_without_a_senior_title_is_refused_with_the_clause() -> None:
    def junior(d: dict) -> None:
        for a in d["appraisers"]:
            a["senior_title"] = False

    findings = forensic_findings(then(reappraisal(), junior))
    assert [(f.rule, f.severity) for f in findings] == [("forensic.reappraisal.senior_title", "blocking")]
    assert "高级专业技术职称" in findings[0].message
    assert hit(then(reappraisal(), lambda d: d["appraisers"][1].update(senior_title=False))) == set()


def test_art_32_qualification_not_lower() -> None:
    # The original held 法医临床 and 法医病理: both in the 法医类 of the matters; this institution holds both.
    assert hit(reappraisal(original_scopes=["法医临床鉴定", "法医病理鉴定"])) == set()
    # 法医精神病鉴定 is 法医类 too and this institution lacks it: lower qualifications.
    findings = forensic_findings(reappraisal(original_scopes=["法医临床鉴定", "法医精神病鉴定"]))
    assert [(f.rule, f.clause, f.value) for f in findings] == [
        ("forensic.reappraisal.qualification_not_lower", "通则 Art 32", ["法医精神病鉴定"])]
    # A scope outside the matters' category (文书鉴定) does not count.
    assert hit(reappraisal(original_scopes=["法医临床鉴定", "文书鉴定"])) == set()
    assert hit(reappraisal(original_scopes=[])) == set()  # not recorded: nothing to compare


# ── 通则 Art 30: supplementary appraisal by the original appraisers ──

def test_art_30_supplementary_by_the_original_appraisers() -> None:
    assert hit(with_supplementary) == set()

    def stranger(d: dict) -> None:
        d["appraisers"].append({"name": "吴刚", "licence_no": "510106012099", "title": "法医师"})
        d["supplementary"][0]["appraisers"] = ["唐志明", "吴刚"]

    findings = forensic_findings(then(with_supplementary, stranger))
    assert [(f.rule, f.path, f.value) for f in findings] == [
        ("forensic.supplementary.original_appraisers", "$.supplementary[0].appraisers[1]", "吴刚")]


def test_art_30_new_materials_listed_and_after_the_opinion() -> None:
    no_ids = then(with_supplementary, lambda d: d["supplementary"][0].update(new_materials=[]))
    assert hit(no_ids) == {"forensic.supplementary.original_appraisers"}
    missed = then(with_supplementary, lambda d: d["supplementary"][0].update(new_materials=[], reason="missed_item"))
    assert hit(missed) == set()
    early = then(with_supplementary, lambda d: d["supplementary"][0].update(issued_on="2026-05-28"))
    assert [f.path for f in forensic_findings(early)] == ["$.supplementary[0].issued_on"]


# ── Sichuan 五(一): the dispute path in date order, after the opinion ──

def test_sichuan_5_1_full_path_is_complete() -> None:
    assert forensic_findings(with_dispute_path) == []


def test_sichuan_5_1_objection_after_the_opinion() -> None:
    early = then(with_dispute_path, lambda d: d["disputes"][0].update(raised_on="2026-05-28"))  # opinion: 29 May
    assert [(f.rule, f.path) for f in forensic_findings(early)] == [
        ("forensic.disputes.in_order", "$.disputes[0].raised_on")]


def test_sichuan_5_1_steps_in_date_order() -> None:
    swapped = then(with_dispute_path, lambda d: d["disputes"][0]["steps"][1].update(on="2026-06-10"))  # before mediation
    assert [(f.rule, f.path, f.value) for f in forensic_findings(swapped)] == [
        ("forensic.disputes.in_order", "$.disputes[0].steps[1].on", "2026-06-10")]


def test_sichuan_5_1_explanation_by_the_case_appraisers() -> None:
    nobody = then(with_dispute_path, lambda d: d["disputes"][0]["steps"][1].update(appraisers=[]))
    assert hit(nobody) == {"forensic.disputes.explanation_by_appraisers"}
    other = then(with_dispute_path, lambda d: d["disputes"][0]["steps"][1].update(appraisers=["唐志明", "李四"]))
    assert [(f.path, f.value) for f in forensic_findings(other)] == [("$.disputes[0].steps[1].appraisers[1]", "李四")]


# ── 通则 Art 33 / 35, Sichuan 五(二): the expert opinion ──

def test_art_33_every_expert_signs() -> None:
    unsigned = then(with_dispute_path, lambda d: d["disputes"][0]["steps"][3]["experts"][2].update(signed=False))
    findings = forensic_findings(unsigned)
    # the unsigned expert is blocking; with two signatures the complex case's panel is also short (a warning)
    assert sorted((f.rule, f.severity) for f in findings) == [
        ("forensic.disputes.expert_panel_size", "warning"), ("forensic.disputes.expert_signed", "blocking")]
    assert PANEL[2] in next(f.message for f in findings if f.rule == "forensic.disputes.expert_signed")


def test_art_35_complex_case_panel_of_three() -> None:
    two = then(with_dispute_path, lambda d: d["disputes"][0]["steps"][3]["experts"].pop())
    assert [(f.rule, f.severity, f.value) for f in forensic_findings(two)] == [
        ("forensic.disputes.expert_panel_size", "warning", list(PANEL[:2]))]
    simple = then(two, lambda d: d["disputes"][0]["steps"][3].update(complex_case=False))
    assert forensic_findings(simple) == []
    empty = then(with_dispute_path, lambda d: d["disputes"][0]["steps"][3].update(experts=[], complex_case=False))
    assert hit(empty) == {"forensic.disputes.expert_signed"}


def test_section_3_rules_are_registered_with_their_clauses() -> None:
    from generator.rules import all_rules

    ours = {r.id: (r.clause, r.severity) for r in all_rules("forensic_appraisal") if r.id.startswith(RULES_OF_SECTION_3)}
    assert ours == {
        "forensic.reappraisal.grounds": ("通则 Art 31", "blocking"),
        "forensic.reappraisal.other_institution": ("Sichuan 二(四)", "blocking"),
        "forensic.reappraisal.senior_title": ("Sichuan 二(四)", "blocking"),
        "forensic.reappraisal.qualification_not_lower": ("通则 Art 32", "blocking"),
        "forensic.supplementary.original_appraisers": ("通则 Art 30", "blocking"),
        "forensic.disputes.in_order": ("Sichuan 五(一)", "blocking"),
        "forensic.disputes.explanation_by_appraisers": ("Sichuan 五(一)", "blocking"),
        "forensic.disputes.expert_signed": ("通则 Art 33", "blocking"),
        "forensic.disputes.expert_panel_size": ("通则 Art 35", "warning"),
    }
