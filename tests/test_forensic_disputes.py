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
        # on the institution's register, so only Art 30 (not the register, 通则 Art 19) reacts
        d["institution"]["appraiser_register"].append(
            {"name": "吴刚", "licence_no": "510106012099", "categories": ["法医临床鉴定"]})
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


# ───────────────────────── documents: rendered, then read back with pdftotext ─────────────────────────

import json  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
JOINT = ROOT / "examples" / "forensic-joint-grade10"
NUMBER = "蜀正司鉴〔2026〕临鉴字第0318号"
NEW_KEYS = {"supplementary-1", "dispute-1", "dispute-1-step-1", "dispute-1-step-2", "dispute-1-step-4"}
INSTITUTION = "四川蜀正司法鉴定中心"
COMMITTEE = "四川省涉保司法鉴定纠纷调解委员会"  # the associations' committee of Sichuan 五(一)


def text_of(pdf: Path) -> str:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True, text=True)
    return re.sub(r"\s+", "", out.stdout)


def copy_case(base: Path, edit: Edit = None) -> Path:
    folder = base / "case"
    shutil.copytree(JOINT, folder)
    if edit is not None:
        edit_file(folder / "case.json", edit)
    return folder / "case.json"


def edit_file(case_file: Path, edit: Edit) -> None:
    data = json.loads(case_file.read_text("utf-8"))
    edit(data)
    case_file.write_text(json.dumps(data, ensure_ascii=False, indent=1), "utf-8")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from generator.loading import load_case
    from generator.render import render_case_documents

    base = tmp_path_factory.mktemp("dispute-docs")
    case_file = copy_case(base, then(with_dispute_path, reappraisal(ground="agreement", agreed_by=["何建平", INSURER])))
    docs = render_case_documents(load_case(case_file), base / "out", formats=("pdf", "docx"))
    return {d.key: d for d in docs}


def test_documents_of_the_dispute_path_are_in_the_registry(rendered: dict[str, Any]) -> None:
    assert NEW_KEYS <= set(rendered)
    # 补充鉴定 has its 补充意见书 and 重新鉴定 is another case: neither step has a document of its own
    assert "dispute-1-step-3" not in rendered
    assert rendered["supplementary-1"].title == "司法鉴定补充意见书"
    assert [rendered[k].title for k in ("dispute-1", "dispute-1-step-1", "dispute-1-step-2", "dispute-1-step-4")] == [
        "鉴定意见异议登记表", "涉保司法鉴定争议调解记录", "鉴定人解释说明", "专家意见"]


def test_supplementary_opinion_names_the_original_and_its_appraisers(rendered: dict[str, Any]) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.fields import enumerate_sig_fields

    flat = text_of(rendered["supplementary-1"].pdf)
    for words in ("司法鉴定补充意见书", "蜀正司鉴〔2026〕临鉴字第0318-1号", f"原鉴定文书编号{NUMBER}",
                  "委托人就原委托鉴定事项提供新的鉴定材料", "C5左膝关节复查CT片及报告", "维持原鉴定意见",
                  "唐志明", "510106012001", "邓晓梅", "第三十条"):
        assert words in flat, words
    with open(rendered["supplementary-1"].pdf, "rb") as fh:
        fields = [name for name, *_ in enumerate_sig_fields(PdfFileReader(fh))]
    assert sorted(fields) == ["appraiser-1", "appraiser-2", "institution-seal"]  # sealed like the 意见书


def test_objection_lists_the_path_and_each_step_has_its_record(rendered: dict[str, Any]) -> None:
    objection = text_of(rendered["dispute-1"].pdf)
    for words in ("蜀正异〔2026〕第003号", INSURER, "对左膝关节功能丧失程度的测量", "申请协商调解", "处理过程",
                  "2026年6月12日", "未达成一致", "2026年7月20日"):
        assert words in objection, words
    mediation = text_of(rendered["dispute-1-step-1"].pdf)
    assert "川涉保调〔2026〕第15号" in mediation and COMMITTEE in mediation
    explanation = text_of(rendered["dispute-1-step-2"].pdf)
    assert "作出解释说明的鉴定人唐志明、邓晓梅" in explanation and "蜀正司鉴〔2026〕解字第0318号" in explanation


def _fields(pdf: Path) -> list[str]:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.fields import enumerate_sig_fields

    with open(pdf, "rb") as fh:
        return sorted(name for name, *_ in enumerate_sig_fields(PdfFileReader(fh)))


def test_gongu_seal_knows_each_record_by_the_title_and_number_it_states(rendered: dict[str, Any]) -> None:
    """`gongu seal` of one PDF (no role given): the 调解记录 川涉保调〔2026〕第15号 is step 1 of dispute 1, the
    解释说明 蜀正司鉴〔2026〕解字第0318号 step 2; the 异议登记表 is the institution's alone, the 意见书 the report."""
    from gongu.pipeline.sealing import _document_role
    from signing.embedded import embedded_case

    raw = embedded_case(rendered["opinion"].pdf)
    assert raw is not None
    assert _document_role(rendered["dispute-1-step-1"].pdf, raw) == "dispute-1-step-1"
    assert _document_role(rendered["dispute-1-step-2"].pdf, raw) == "dispute-1-step-2"
    assert _document_role(rendered["dispute-1"].pdf, raw) == "institution"
    assert _document_role(rendered["opinion"].pdf, raw) == "report"
    # a 解释说明 whose number the case does not list falls back to the fields (two appraisers' → the 意见书)
    raw["disputes"][0]["steps"][1]["number"] = "另一编号"
    assert _document_role(rendered["dispute-1-step-2"].pdf, raw) == "report"


def test_mediation_record_is_the_committees_with_the_participants_signatures(rendered: dict[str, Any]) -> None:
    """Sichuan 五(一): the committee mediates; its record is headed with the committee, not the institution,
    and has a field for the committee's seal and one per participant (何建平, the insurer)."""
    doc = rendered["dispute-1-step-1"]
    flat = text_of(doc.pdf)
    assert flat.startswith(COMMITTEE)  # the header line is the issuer's name
    assert INSTITUTION not in flat  # nowhere the institution's name: it is not the issuer
    assert "调解组织（印章）" in flat and "参加调解的当事人签名" in flat
    assert f"参加调解的当事人何建平、{INSURER}" in flat and "身份：受害人" in flat and "身份：保险机构" in flat
    assert _fields(doc.pdf) == ["institution-seal", "party-1", "party-2"]  # the committee's seal, two parties
    from docx import Document

    word = Document(str(doc.docx)) if doc.docx else None
    if word is not None:
        assert word.paragraphs[0].text == COMMITTEE


def test_explanation_carries_a_signature_field_per_explaining_appraiser(rendered: dict[str, Any]) -> None:
    """Sichuan 五(一) 由鉴定机构及鉴定人作出解释和说明: the appraisers sign (fields), the institution seals."""
    doc = rendered["dispute-1-step-2"]
    flat = text_of(doc.pdf)
    assert "作出解释说明的司法鉴定人签名" in flat and "510106012001" in flat and "510109013007" in flat
    assert flat.startswith(INSTITUTION)
    assert _fields(doc.pdf) == ["appraiser-1", "appraiser-2", "institution-seal"]
    assert doc.title == "鉴定人解释说明"


def test_expert_opinion_names_each_expert_with_title_and_signature(rendered: dict[str, Any]) -> None:
    flat = text_of(rendered["dispute-1-step-4"].pdf)
    for name, title in zip(PANEL, ("主任法医师", "主任医师", "高级经济师"), strict=True):
        assert f"{name}{title}" in flat, name
    assert flat.count("已签名") == 3 and "第三十三条" in flat and "川涉保专〔2026〕第7号" in flat


def test_commission_and_opinion_print_the_reappraisal_record(rendered: dict[str, Any]) -> None:
    flat = text_of(rendered["commission"].pdf)
    assert "川华西司鉴〔2026〕临鉴字第88号，四川华西法医学鉴定中心（许可证号510107088）" in flat
    assert "重新鉴定理由：涉保双方协商一致申请重新鉴定" in flat


# ─────────────── issuing the later documents (gongu issue --additional), sealed, then archived ───────────────

APPRAISERS = [("唐志明", "510106012001"), ("邓晓梅", "510109013007")]
# The parties who sign the 调解记录 (and no practising licence): keys under [signing.handlers] by name.
PARTIES = [("何建平", None), (INSURER, None)]
PASSPHRASE = "gongu-demo"


def review_again(d: dict) -> None:
    """通则 Art 35: the documents issued after the opinion pass 校对, 复核 and 签发 again."""
    d["reviews"] += [{"level": level, "reviewer": who, "at": at, "decision": "approve"} for level, who, at in (
        ("proofread", "王一帆", "2026-07-21T09:00:00"), ("recheck", "宋建华", "2026-07-21T11:00:00"),
        ("approve", "罗永康", "2026-07-21T16:00:00"))]


ADDITIONAL_DAY = "2026-07-22"  # the day the fixture seals the later documents (FixedClock below)


def sealed_on_22_july(d: dict) -> None:
    """The 补充意见书 carries the day it is sealed (通则 Art 30, 37): 22 July, with the other later records."""
    d["supplementary"][0]["issued_on"] = ADDITIONAL_DAY


@dataclass
class World:
    home: Path
    case_file: Path
    out: Path
    signer: Any
    pki: Any
    first: Any  # IssueResult of the first issue
    additional: Any  # IssueResult of gongu issue --additional
    stale: Path  # the case after the first issue with the later documents but no new review round


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from datetime import datetime

    from generator.clock import FixedClock
    from generator.issuance import IssueRefused
    from gongu.pipeline.issuing import issue_additional, issue_case
    from gongu.pipeline.sealing import ConfiguredSigner
    from gongu.settings import load_settings
    from signing.keys import make_demo_pki
    from signing.seal import SigningConfig
    from signing.tsa import LocalTsa
    from tests.sealkit import forensic_signing_home

    base = tmp_path_factory.mktemp("issue-additional")
    tsa = LocalTsa(base / "keys").start()
    try:
        pki = make_demo_pki(base / "keys", INSTITUTION, APPRAISERS + PARTIES, crl_url=tsa.crl_url,
                            other_firms=[COMMITTEE], seal_purposes={INSTITUTION: "司法鉴定专用章", COMMITTEE: "调解专用章"})
        # The committee seals its own 调解记录 with its own key (Sichuan 五(一)), configured under its name.
        config = SigningConfig(firm_p12=pki.firm_p12, handlers=dict(pki.handler_p12), tsa_url=tsa.url,
                               trust_roots=(pki.root_pem,), crls=(pki.crl,), firms=dict(pki.firm_p12s))
        home = forensic_signing_home(base / "home", pki)
        case_file = copy_case(base)
        settings = load_settings(home)
        signer = ConfiguredSigner(config, lambda *_: PASSPHRASE.encode())
        out = home / "issued" / "SJ-2026-0318"
        first = issue_case(case_file, signer=signer, settings=settings, out_dir=out,
                           clock=FixedClock(datetime(2026, 5, 29, 10, 0)))
        edit_file(case_file, with_dispute_path)  # the objection, its path and the 补充鉴定 come later
        edit_file(case_file, sealed_on_22_july)
        stale = copy_case(base / "stale")
        shutil.copyfile(case_file, stale)
        with pytest.raises(IssueRefused, match="早于上次出具"):  # the later documents pass 三级审核 again
            issue_additional(stale, signer=signer, settings=settings, out_dir=out, clock=FixedClock(datetime(2026, 7, 22)))
        edit_file(case_file, review_again)
        additional = issue_additional(case_file, signer=signer, settings=settings, out_dir=out,
                                      clock=FixedClock(datetime(2026, 7, 22, 10, 0)))
        yield World(home, case_file, out, signer, pki, first, additional, stale)
    finally:
        tsa.stop()


def _verify(world: World, pdf: Path) -> Any:
    from signing.completeness import CompletenessPolicy
    from signing.verify import verify_issued_report

    return verify_issued_report(pdf, [world.pki.root_pem], crls=[world.pki.crl],
                                policy=CompletenessPolicy(require_timestamp=True))


def test_additional_issue_records_a_new_issuance_with_the_same_number_and_only_the_new_documents(world: World) -> None:
    import hashlib

    data = json.loads(world.case_file.read_text("utf-8"))
    first, second = data["issuances"]
    assert first["number"] == second["number"] == NUMBER
    assert "pdf_file" not in second and second["sealed"] is True
    assert {d["key"] for d in second["documents"]} == NEW_KEYS == set(world.additional.documents)
    assert not {d["key"] for d in first["documents"]} & NEW_KEYS
    for d in second["documents"]:
        assert d["pdf_sha256"] == hashlib.sha256((world.out / d["pdf_file"]).read_bytes()).hexdigest()


def test_each_issued_document_carries_its_own_check_code_and_a_later_issue_codes_only_its_new_ones(
        world: World, tmp_path: Path) -> None:
    """Issue 30 item 1: one code per document per issuance, printed on each document's first page (and footer)
    and read back from it; the additional issuance draws codes for its new documents only."""
    import zxingcpp
    from PIL import Image

    from generator.check_code import CODE_PATTERN, code_in_pdf, grouped

    first, second = json.loads(world.case_file.read_text("utf-8"))["issuances"][:2]
    coded = [(first["pdf_file"], first["check_code"])] + [(d["pdf_file"], d["check_code"]) for d in first["documents"]]
    assert len(coded) == 1 + len(first["documents"]) >= 5  # the 意见书 and at least four companions
    assert "check_code" not in second  # no primary document in the later issuance
    later = [(d["pdf_file"], d["check_code"]) for d in second["documents"]]
    assert len(later) == len(NEW_KEYS)
    codes = [c for _f, c in coded + later]
    assert all(re.fullmatch(CODE_PATTERN, c) for c in codes) and len(set(codes)) == len(codes)
    for name, code in coded + later:
        pdf = world.out / name
        assert code_in_pdf(pdf.read_bytes()) == code, name
        pages = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True,
                               text=True).stdout.split("\f")[:-1]
        assert all(f"校验码：{grouped(code)}" in page for page in pages), name
    # the QR code on the 意见书's cover and on the 补充意见书's first page: each its own check address
    for name, code in (coded[0], dict((d["key"], (d["pdf_file"], d["check_code"])) for d in second["documents"])
                       ["supplementary-1"]):
        subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", "-singlefile", str(world.out / name),
                        str(tmp_path / "p")], check=True, capture_output=True)
        assert [r.text for r in zxingcpp.read_barcodes(Image.open(tmp_path / "p.png"))] == [
            f"http://127.0.0.1:8080/v/{code}"]  # the default [web] public_url: gongu web on loopback


def test_the_supplementary_opinion_is_signed_by_the_institution_and_its_appraisers(world: World) -> None:
    _title, files = world.additional.documents["supplementary-1"]
    report, completeness = _verify(world, files["pdf"])
    assert report.ok, report.all_problems()
    assert [s.field for s in report.signatures] == ["institution-seal", "appraiser-1", "appraiser-2"]
    assert [s.signer for s in report.signatures[1:]] == ["唐志明 (DEMO)", "邓晓梅 (DEMO)"]
    assert completeness.complete and completeness.role == "supplementary-1"


def test_objection_and_expert_opinion_are_sealed_by_the_institution_alone(world: World) -> None:
    for key in ("dispute-1", "dispute-1-step-4"):
        _title, files = world.additional.documents[key]
        report, completeness = _verify(world, files["pdf"])
        assert report.ok, (key, report.all_problems())
        assert [s.field for s in report.signatures] == ["institution-seal"], key
        assert completeness.complete and completeness.role == "institution", key


def test_explanation_is_signed_by_each_explaining_appraiser_and_sealed(world: World) -> None:
    _title, files = world.additional.documents["dispute-1-step-2"]
    report, completeness = _verify(world, files["pdf"])
    assert report.ok, report.all_problems()
    assert [s.field for s in report.signatures] == ["institution-seal", "appraiser-1", "appraiser-2"]
    assert [(s.role, s.own_organisation) for s in report.signatures] == [("司法鉴定专用章", True), ("鉴定人", True),
                                                                        ("鉴定人", True)]
    # the step's `appraisers`, in that order, each by their own certificate
    assert [s.signer for s in report.signatures[1:]] == ["唐志明 (DEMO)", "邓晓梅 (DEMO)"]
    assert completeness.complete and completeness.role == "dispute-1-step-2"
    assert completeness.firm == INSTITUTION and completeness.handlers == ("唐志明", "邓晓梅")


def test_mediation_record_is_sealed_by_the_committee_and_signed_by_the_participants(world: World) -> None:
    _title, files = world.additional.documents["dispute-1-step-1"]
    report, completeness = _verify(world, files["pdf"])
    assert report.ok, report.all_problems()
    assert [s.field for s in report.signatures] == ["institution-seal", "party-1", "party-2"]
    assert [s.role for s in report.signatures[1:]] == ["当事人", "当事人"]
    seal = report.signatures[0]
    assert COMMITTEE in seal.subject and INSTITUTION not in seal.subject  # the committee's certificate
    # verify names it as the committee's seal, and the committee as the document's own issuer
    assert seal.role == f"调解专用章（{COMMITTEE}）" and seal.own_organisation is True
    assert [s.signer for s in report.signatures[1:]] == ["何建平 (DEMO)", report.signatures[2].signer]
    assert report.signatures[2].signer.startswith("中国人民财产保险")  # the insurer (CN cut to 64 bytes)
    assert completeness.complete and completeness.role == "dispute-1-step-1" and completeness.firm == COMMITTEE


def test_the_institution_cannot_seal_the_committees_record(world: World, tmp_path: Path) -> None:
    """Never the institution's seal on the 调解记录: without the committee's key sealing is refused, and a record
    sealed with the institution's key is reported incomplete (wrong signer) by verification."""
    from dataclasses import replace as with_

    from generator.loading import load_case
    from generator.render import render_case_documents
    from signing.completeness import CompletenessPolicy, check_completeness
    from signing.seal import SealError, load_signer, seal_pdf, seal_report
    from signing.signers import document_signers

    raw = json.loads(world.case_file.read_text("utf-8"))
    docs = render_case_documents(load_case(world.case_file), tmp_path / "r", formats=("pdf",))
    record = next(d for d in docs if d.key == "dispute-1-step-1").pdf
    without = with_(world.signer.config, firms={})  # only the institution's firm_p12
    with pytest.raises(SealError, match=f"没有「{COMMITTEE}」的印章密钥"):
        seal_report(record, tmp_path / "x.pdf", without, lambda *_: PASSPHRASE.encode(), case_raw=raw,
                    role="dispute-1-step-1")
    assert not (tmp_path / "x.pdf").exists()
    key = PASSPHRASE.encode()
    document = document_signers(raw, "dispute-1-step-1")
    forged = seal_pdf(record.read_bytes(), firm_name=COMMITTEE, firm_signer=load_signer(world.pki.firm_p12, key),
                      handlers=[(p, load_signer(world.pki.handler_p12[p.name], key)) for p in document.people],
                      document=document)
    missing = check_completeness(forged, CompletenessPolicy()).missing
    assert [(m.field, m.code) for m in missing] == [("institution-seal", "wrong_signer")]


def test_cli_issue_without_the_committees_key_is_exit_2_and_publishes_nothing(world: World, tmp_path: Path) -> None:
    """A later 调解记录 when gongu.toml has no [signing.firms] key for the committee: `gongu issue --additional`
    ends with exit 2 and says which key is missing; nothing is published, nothing recorded."""
    from typer.testing import CliRunner

    from gongu.cli.app import app

    home = tmp_path / "home"  # the world's settings, but a fresh archive: the report is not archived here
    home.mkdir()
    shutil.copyfile(world.home / "gongu.toml", home / "gongu.toml")
    case_file = copy_case(tmp_path)
    shutil.copyfile(world.case_file, case_file)

    def second_mediation(d: dict) -> None:
        d["disputes"][0]["steps"].append({"kind": "mediation", "on": "2026-07-25", "by": COMMITTEE,
                                          "what": "应被鉴定人申请再次组织协商调解", "number": "川涉保调〔2026〕第21号",
                                          "participants": ["何建平", INSURER]})
        for r in d["reviews"][-3:]:
            r["at"] = "2026-07-26" + r["at"][10:]  # 三级审核 again, after the step

    edit_file(case_file, second_mediation)
    before = case_file.read_bytes()
    out = tmp_path / "out"
    env = {"GONGU_HOME": str(home), "GONGU_FIRM_KEY_PASSPHRASE": PASSPHRASE, "GONGU_HANDLER_KEY_PASSPHRASE": PASSPHRASE}
    result = CliRunner().invoke(app, ["issue", str(case_file), "--additional", "-o", str(out)], env=env)
    assert result.exit_code == 2, result.output
    assert f"没有「{COMMITTEE}」的印章密钥" in result.output and "Traceback" not in result.output
    assert case_file.read_bytes() == before  # no issuance recorded
    assert not out.exists() or not any(out.glob("*.pdf"))  # nothing published


def test_too_few_signers_of_a_dispute_record_refuse_the_issue_with_the_path() -> None:
    """Sichuan 五(一): a mediation is between the party and the insurer (two participants); an explanation
    is given by at least one appraiser. Refused before anything is rendered, naming the JSON path."""
    from case_edits import forensic_joint

    from gongu.pipeline.issuing import signer_problems

    d = forensic_joint()
    with_dispute_path(d)
    assert signer_problems(d) == []
    d["disputes"][0]["steps"][0]["participants"] = ["何建平"]
    d["disputes"][0]["steps"][1]["appraisers"] = []
    assert signer_problems(d) == [
        "[Sichuan 五(一)] 至少需要两名参加调解的当事人签名，当前 1 名（at least 2 parties who took part must sign, "
        "Sichuan 五(一)）（$.disputes[0].steps[0].participants）",
        "[Sichuan 五(一)] 至少需要一名鉴定人签名，当前 0 名（at least 1 appraisers must sign, Sichuan 五(一)）"
        "（$.disputes[0].steps[1].appraisers）"]


def test_participants_must_be_parties_of_the_case() -> None:
    import pytest as _pytest
    from case_edits import forensic_joint

    from generator.loading import CaseFileError, validate_data

    d = forensic_joint()
    with_dispute_path(d)
    d["disputes"][0]["steps"][0]["participants"] = ["何建平", "张三"]
    with _pytest.raises(CaseFileError) as err:
        validate_data(d, "<test>")
    assert [(p.path, p.value) for p in err.value.problems] == [("$.disputes[0].steps[0].participants[1]", "张三")]


def test_nothing_new_to_issue_is_refused(world: World) -> None:
    from generator.issuance import IssueRefused
    from gongu.pipeline.issuing import issue_additional
    from gongu.settings import load_settings

    before = world.case_file.read_bytes()
    with pytest.raises(IssueRefused, match="均已出具"):
        issue_additional(world.case_file, signer=world.signer, settings=load_settings(world.home), out_dir=world.out)
    assert world.case_file.read_bytes() == before


def test_additional_before_the_first_issue_is_refused(tmp_path: Path, world: World) -> None:
    from generator.issuance import IssueRefused
    from gongu.pipeline.issuing import issue_additional
    from gongu.settings import load_settings

    case_file = copy_case(tmp_path, then(with_dispute_path, review_again))
    with pytest.raises(IssueRefused, match="尚未出具"):
        issue_additional(case_file, signer=world.signer, settings=load_settings(world.home), out_dir=tmp_path / "o")
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").rglob("*.pdf"))


@pytest.fixture(scope="module")
def archived(world: World) -> Any:
    """The case ingested once every document is issued (the archive's index listener indexes it)."""
    from archive.ingest import ingest
    from generator.loading import load_case
    from tests.archivekit import open_archive

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GONGU_FIRM_KEY_PASSPHRASE", PASSPHRASE)
        with open_archive(world.home) as archive:
            return ingest(archive, load_case(world.case_file), world.first.files["pdf"], by="档案员甲")


def _search(world: World, query: str) -> list[str]:
    from typer.testing import CliRunner

    from gongu.cli.app import app

    result = CliRunner().invoke(app, ["search", query, "--json"], env={"GONGU_HOME": str(world.home)})
    assert result.exit_code == 0, result.output
    return [h["case_id"] for h in json.loads(result.output)["hits"]]


def test_words_only_in_dispute_documents_are_found_by_gongu_search(world: World, archived: Any) -> None:
    """Sichuan 五(一)(二): the 调解记录, 解释说明, 专家意见 and 补充意见书 are searched with the opinion. Each query
    below is printed in one of them and nowhere in the 意见书 (issued before the objection was raised)."""
    from gongu.pipeline.indexing import open_index
    from gongu.settings import load_settings
    from index.tantivy_backend import TantivyBackend

    assert isinstance(open_index(load_settings(world.home)), TantivyBackend)  # the default engine of a new home
    assert _search(world, "火星探测") == []  # no such word anywhere: the search can come back empty
    for query in ("组织保险机构与被鉴定人协商调解",  # the 调解记录 (and the 异议登记表's 处理过程)
                  "关节活动度的测量方法",  # the 鉴定人解释说明
                  "华西基础医学与法医学院",  # only the 专家意见 names the experts' organisations
                  "内固定在位"):  # the 补充意见书's findings
        assert _search(world, query) == ["SJ-2026-0318"], query


def test_archive_packages_every_issuance_then_refuses_more_documents(world: World, archived: Any) -> None:
    """Ingest takes the documents of both issuances of the number; once archived, a further document
    is refused with what to do (an archived package is never changed)."""
    from archive.package_format import open_package
    from generator.issuance import IssueRefused
    from gongu.pipeline.issuing import issue_additional
    from gongu.settings import load_settings

    result = archived
    payload = {p.name for p in Path(result.path).rglob("*.pdf")}
    for key in NEW_KEYS | {"commission", "review_opinion"}:
        issued = world.additional.documents.get(key) or world.first.documents[key]
        assert issued[1]["pdf"].name in payload, key
    pkg = open_package(result.path)
    assert pkg is not None
    # 卷内目录: each issued document with its key; the 调解记录's 责任者 is the committee that issued it
    rows = {r["key"]: r for r in (pkg.tag_json("file-index.json") or {})["entries"] if r.get("key")}
    assert NEW_KEYS | {"commission", "appraisal_notice"} <= set(rows)
    assert rows["dispute-1-step-1"]["responsible"] == COMMITTEE
    assert {rows[k]["responsible"] for k in rows if k != "dispute-1-step-1"} == {INSTITUTION}

    def second_explanation(d: dict) -> None:
        d["disputes"][0]["steps"].append({"kind": "explanation", "on": "2026-07-25", "by": INSTITUTION,
                                          "what": "就专家意见向被鉴定人作出说明", "appraisers": ["唐志明"]})
        for r in d["reviews"][-3:]:
            r["at"] = r["at"].replace("2026-07-21", "2026-07-26")

    edit_file(world.case_file, second_explanation)
    with pytest.raises(IssueRefused) as err:
        issue_additional(world.case_file, signer=world.signer, settings=load_settings(world.home), out_dir=world.out)
    assert any("已归档" in r and "归档前补充出具" in r for r in err.value.reasons)


def test_cli_issue_additional_refusals(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from gongu.cli.app import app

    case_file = copy_case(tmp_path)
    env = {"GONGU_HOME": str(tmp_path / "home")}
    runner = CliRunner()
    mixed = runner.invoke(app, ["issue", str(case_file), "--additional", "--reissue", "--reason", "x"], env=env)
    assert mixed.exit_code == 2 and "--additional 不能与" in mixed.output
    never = runner.invoke(app, ["issue", str(case_file), "--additional"], env=env)
    assert never.exit_code == 1 and "尚未出具" in never.output, never.output
    assert "Traceback" not in never.output


def _unarchived_home(base: Path) -> Path:
    """A home with the world's reviewers registered and no archive (the world's report is archived by an
    earlier test, which would add its own reason); the signer is passed in."""
    home = base / "home"
    home.mkdir()
    (home / "gongu.toml").write_text('[people]\nnames = ["王一帆", "宋建华", "罗永康"]\n', encoding="utf-8")
    return home


def test_check_stage_issue_shows_what_issue_additional_refuses(world: World, tmp_path: Path) -> None:
    """`gongu check --stage issue` and `gongu issue --additional` decide from one function: on the case
    issued on 29 May with the later documents but no review since, both give the same three reasons."""
    from datetime import datetime

    from typer.testing import CliRunner

    from generator.clock import FixedClock
    from generator.issuance import IssueRefused
    from gongu.cli.app import app
    from gongu.pipeline.issuing import issue_additional
    from gongu.settings import load_settings

    home = _unarchived_home(tmp_path)
    with pytest.raises(IssueRefused) as refused:
        issue_additional(world.stale, signer=world.signer, settings=load_settings(home), out_dir=tmp_path / "o",
                         clock=FixedClock(datetime(2026, 7, 22, 10, 0)))
    result = CliRunner().invoke(app, ["check", str(world.stale), "--json", "--today", ADDITIONAL_DAY],
                                env={"GONGU_HOME": str(home)})
    assert result.exit_code == 1, result.output
    payload = json.loads(result.output)
    assert (payload["issuance"], payload["sealing_day"]) == ("additional", ADDITIONAL_DAY)
    shown = [f"[{f['clause']}] {f['message']}（{f['path']}）" for f in payload["findings"] if f["severity"] == "blocking"]
    assert shown == refused.value.reasons
    # Worked out by hand: 校对, 复核 and 签发 were all approved on 27–28 May, before the issue of 29 May.
    assert len(shown) == 3 and all("早于上次出具" in r and "2026-05-29T10:00:00+08:00" in r for r in shown)
    assert [t in r for t, r in zip(("校对", "复核", "签发"), shown, strict=True)] == [True, True, True]


def test_additional_issue_refuses_a_supplementary_opinion_dated_before_its_sealing(world: World, tmp_path: Path) -> None:
    """A 补充意见书 dated 3 July sealed on 22 July: refused naming both dates (通则 Art 30, 37), never re-dated;
    `gongu check --stage issue` shows the same."""
    from datetime import datetime

    from typer.testing import CliRunner

    from generator.clock import FixedClock
    from generator.issuance import IssueRefused
    from gongu.cli.app import app
    from gongu.pipeline.issuing import issue_additional
    from gongu.settings import load_settings

    case_file = tmp_path / "case" / "case.json"
    shutil.copytree(world.stale.parent, case_file.parent)
    home = _unarchived_home(tmp_path)

    def dated_3_july(d: dict) -> None:
        d["supplementary"][0]["issued_on"] = "2026-07-03"

    edit_file(case_file, then(review_again, dated_3_july))
    before = case_file.read_bytes()
    with pytest.raises(IssueRefused) as refused:
        issue_additional(case_file, signer=world.signer, settings=load_settings(home), out_dir=tmp_path / "o",
                         clock=FixedClock(datetime(2026, 7, 22, 10, 0)))
    (reason,) = refused.value.reasons
    assert reason.startswith("[通则 Art 30] 补充意见书") and "$.supplementary[0].issued_on" in reason
    assert "2026-07-03" in reason and "2026-07-22" in reason
    assert case_file.read_bytes() == before  # not re-dated, nothing recorded
    payload = json.loads(CliRunner().invoke(app, ["check", str(case_file), "--json", "--today", ADDITIONAL_DAY],
                                            env={"GONGU_HOME": str(home)}).output)
    assert [f"[{f['clause']}] {f['message']}（{f['path']}）" for f in payload["findings"] if f["severity"] == "blocking"] == [reason]
