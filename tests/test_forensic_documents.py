"""The documents of a forensic appraisal (generator/forensic/documents.py, generator/render.py
render_case_documents): which documents a case needs, their contents per 司发通〔2016〕112号 and the
Sichuan opinion, 「第 X 页 共 Y 页」 on every page, attachment PDFs bound with their page ranges, PDF/A
and signature fields kept, hostile text inert, the DOCX with the same sections, and clear refusals."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields
from pypdf import PdfReader
from typer.testing import CliRunner

from generator.forensic.documents import build_documents
from generator.loading import load_case
from generator.render import RenderedDocument, render_case_documents, render_report
from generator.render_forensic import build_forensic_html
from generator.render_safety import RenderError
from generator.signature_fields import INSTITUTION_SEAL_FIELD
from gongu.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
JOINT = ROOT / "examples" / "forensic-joint-grade10"
STEM = "蜀正司鉴_2026_临鉴字第0318号"  # 蜀正司鉴〔2026〕临鉴字第0318号, 〔〕 made safe for a file name
HOSTILE = "<script>alert('x')</script> & </td>"


def pdftotext(path: Path, page: int | None = None) -> str:
    args = ["pdftotext", "-enc", "UTF-8"] + (["-f", str(page), "-l", str(page)] if page else []) + [str(path), "-"]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def case_copy(tmp: Path, edit: Any = None) -> Path:
    """Example (a) copied with its scans into `tmp`, its JSON changed by `edit`."""
    folder = tmp / "case"
    shutil.copytree(JOINT, folder)
    data = json.loads((folder / "case.json").read_text("utf-8"))
    if edit is not None:
        edit(data)
    (folder / "case.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), "utf-8")
    return folder / "case.json"


def make_single(d: dict[str, Any]) -> None:
    """Example (b)-like: single commission by the victim, the insurer told by phone and absent,
    未构成伤残等级; with an extension (通则 Art 28) and a 补正书 (Art 41), and hostile text."""
    d["commission"]["kind"] = "single"
    d["parties"][1]["client"] = False
    d["commission"]["signed_by"] = ["何建平"]
    d["commission"]["background"] += HOSTILE
    d["single"] = {
        "risk_notice": {"signed_by": "何建平", "signed_at": "2026-05-11T09:20:00", "told_by": "王一帆"},
        "witness_notices": [{
            "insurer": "中国人民财产保险股份有限公司成都市分公司", "channel": "phone", "at": "2026-05-12T10:15:00",
            "person_reached": "理赔人伤岗 陈敏", "contact": "028-8666 1234", "notified_by": "王一帆",
            "scheduled_for": "2026-05-15T09:30:00", "place": "四川蜀正司法鉴定中心法医临床检验室",
            "notice_number": "蜀正见证〔2026〕第0318号"}],
    }
    d["attendance"] = {"at": "2026-05-15T09:30:00", "insurer_attended": False, "attendees": [],
                       "party_present": ["何建平"], "party_signed": True, "proceeded": True,
                       "absence_note": "保险机构经电话通知后未派员到场，至约定时间后等候30分钟仍未到场。"}
    for m in d["materials"]:
        m["confirmations"] = []
    d["results"][0] = {"matter": "M1", "outcome": "no_disability"}
    d["examination"]["analysis"] = ("被鉴定人何建平左胫骨平台骨折经手术治疗，现骨折已临床愈合，左膝关节活动度丧失未达25%，"
                                    "不符合《人体损伤致残程度分级》任何等级的规定，未构成伤残等级。")
    d["timeline"]["extensions"] = [{
        "working_days": 15, "reason": "被鉴定人需补充复查影像资料", "approved_by": "罗永康", "approved_on": "2026-06-01",
        "notice_number": "蜀正延〔2026〕第0318号", "client_notified_at": "2026-06-01T15:00:00"}]
    d["corrections"] = [{
        "number": "蜀正司鉴〔2026〕临鉴字第0318-1号补", "issued_on": "2026-06-10",
        "items": [{"location": "一、基本情况 被鉴定人", "before": "营门口路88号", "after": "营门口路86号"}],
        "reason": "被鉴定人住址门牌号笔误", "signed_by": ["邓晓梅", "唐志明"]}]


@pytest.fixture(scope="module")
def joint(tmp_path_factory: pytest.TempPathFactory) -> dict[str, RenderedDocument]:
    out = tmp_path_factory.mktemp("joint")
    docs = render_case_documents(load_case(JOINT / "case.json"), out)
    return {d.key: d for d in docs}


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> dict[str, RenderedDocument]:
    tmp = tmp_path_factory.mktemp("single")
    docs = render_case_documents(load_case(case_copy(tmp, make_single)), tmp / "out", formats=("pdf",))
    return {d.key: d for d in docs}


# ───────────────────────────────────── which documents ─────────────────────────────────────────


def test_joint_case_renders_its_documents_with_the_report_number_as_stem(joint: dict[str, RenderedDocument]) -> None:
    # Joint commission (Sichuan 二(一)): no risk notice or witness notice; the witnessing was recorded.
    # 司法鉴定告知书 (司发通〔2016〕112号) in every case, after the 委托书.
    assert list(joint) == ["opinion", "commission", "appraisal_notice", "selection", "recusal", "attendance",
                           "review_opinion"]
    assert [k for k, d in joint.items() if d.primary] == ["opinion"]
    assert joint["opinion"].title == "司法鉴定意见书"
    assert joint["opinion"].pdf.name == f"{STEM}.pdf" and joint["opinion"].docx.name == f"{STEM}.docx"
    assert joint["commission"].pdf.name == f"{STEM}-commission.pdf"
    for d in joint.values():
        assert d.pdf.read_bytes().startswith(b"%PDF-1.7") and d.docx.is_file() and d.pages >= 1


def test_single_commission_adds_risk_witness_extension_and_correction(single: dict[str, RenderedDocument]) -> None:
    # Sichuan 二(二): risk notice and witness notice for a single commission; 通则 Art 28 / 41.
    assert list(single) == ["opinion", "commission", "appraisal_notice", "selection", "recusal", "risk_notice",
                            "witness_notice",
                            "attendance", "review_opinion", "extension", "correction-1"]
    assert all(d.docx is None for d in single.values())
    assert single["correction-1"].pdf.name == f"{STEM}-correction-1.pdf"


def test_terminated_case_has_the_termination_notice_as_primary_and_no_opinion() -> None:
    data = json.loads((JOINT / "case.json").read_text("utf-8"))
    data["termination"] = {"number": "蜀正终〔2026〕第0318号", "ground": "not_stable", "decided_on": "2026-05-20",
                           "explanation": "被鉴定人内固定物尚未取出，伤情尚未稳定。", "materials_returned": True,
                           "refund": "1800"}
    data["review_opinion"] = None
    from generator.loading import validate_data

    docs = build_documents(validate_data(data, "<test>"))
    keys = [d.key for d in docs]
    assert "opinion" not in keys and keys[0] == "termination"
    assert [d.key for d in docs if d.primary] == ["termination"]
    text = "".join(p.text for d in docs if d.key == "termination" for s in d.sections for p in s.blocks
                   if hasattr(p, "text"))
    assert "被鉴定人伤情尚未稳定，未达到评定时机" in text and "第二十九条" in text


# ──────────────────────────────────────── contents ─────────────────────────────────────────────


def test_opinion_sections_in_the_2016_order_and_its_results(joint: dict[str, RenderedDocument]) -> None:
    flat = squash(pdftotext(joint["opinion"].pdf))
    order = ["司法鉴定意见书", "声明", "一、基本情况", "二、基本案情", "三、资料摘要", "四、鉴定过程", "五、分析说明",
             "六、鉴定意见", "七、附件", "鉴定人签名及鉴定机构印章"]
    positions = [flat.find(h) for h in order]
    assert -1 not in positions and positions == sorted(positions), dict(zip(order, positions, strict=True))
    for expected in ("受理日期2026年5月11日", "鉴定日期2026年5月15日09:40", "四川蜀正司法鉴定中心法医临床检验室",
                     "被鉴定人自诉", "检验所见", "阅片所见", "《人体损伤致残程度分级》（2017）",
                     "构成十级伤残（《人体损伤致残程度分级》（2017）第5.10.6.11条）",
                     "2.误工期：180日", "3.护理期：90日", "4.营养期：90日",
                     "《司法鉴定人执业证》证号：510106012001", "《司法鉴定人执业证》证号：510109013007",
                     "鉴定机构（司法鉴定专用章）", "日期：2026年5月29日", "许可证号510115012"):
        assert expected in flat, expected


def test_no_disability_is_rendered_as_a_result(single: dict[str, RenderedDocument]) -> None:
    # Sichuan 三(三): 未构成伤残等级 still gets a full opinion.
    flat = squash(pdftotext(single["opinion"].pdf))
    assert "伤残等级：未构成伤残等级。" in flat
    assert "十级伤残" not in flat and "六、鉴定意见" in flat


def test_commission_records_art16_contents_risks_and_insurance_use(joint: dict[str, RenderedDocument]) -> None:
    flat = squash(pdftotext(joint["commission"].pdf))
    for expected in ("蜀正司鉴委〔2026〕第0318号", "委托方式共同委托", "是否属于重新鉴定否",
                     "是，鉴定文书用于保险理赔",  # Sichuan 二(二)
                     "自本委托书生效之日起20个工作日内完成（2026年6月8日前）",  # 2026-05-11 + 20 working days
                     "2,600.00元（人民币贰仟陆佰元整）", "需要回避的鉴定人：无",
                     "鉴定意见属于专家的专业意见", "并非所有的鉴定都能得出明确的鉴定意见", "不会考虑是否有利于任何一方当事人",
                     "左膝关节X线片及CT片", "6张"):
        assert expected in flat, expected


def test_witness_notice_and_absent_insurer(single: dict[str, RenderedDocument]) -> None:
    notice = squash(pdftotext(single["witness_notice"].pdf))
    for expected in ("致中国人民财产保险股份有限公司成都市分公司", "电话", "2026年5月12日10:15", "理赔人伤岗陈敏",
                     "2026年5月15日09:30", "不得参与见证"):
        assert expected in notice, expected
    record = squash(pdftotext(single["attendance"].pdf))
    assert "保险机构是否到场未到场" in record and "至约定时间后等候30分钟仍未到场" in record
    assert "本机构按规定实施鉴定（川司鉴协〔2022〕7号二（二））" in record
    risk = squash(pdftotext(single["risk_notice"].pdf))
    assert "单方委托风险告知书" in risk and "告知人：王一帆" in risk and "2026年5月11日09:20" in risk


def test_witness_notice_states_the_no_photo_no_film_rule_of_sichuan_4_4(single: dict[str, RenderedDocument]) -> None:
    """Sichuan 四(四): insurer attendees may not photograph or film the appraisal without the party's consent.
    The sentence is quoted word for word: it must be found verbatim in the opinion's text itself."""
    from generator.forensic.documents import ATTENDEE_DUTY

    source = squash((Path("/work/shared/reference/四川省涉保司法鉴定实施意见-2022.txt")).read_text("utf-8")) \
        if Path("/work/shared/reference/四川省涉保司法鉴定实施意见-2022.txt").is_file() else None
    if source is not None:
        assert squash(ATTENDEE_DUTY) in source  # the exact wording, not a paraphrase
    notice = squash(pdftotext(single["witness_notice"].pdf))
    assert "依照川司鉴协〔2022〕7号四（四），保险机构到场人员必须遵守相关法律法规" in notice
    assert "未经涉保当事人同意不得对司法鉴定过程进行拍照、录像。" in notice
    assert "不得干扰或干预司法鉴定人独立、公正执业" in notice


def test_appraisal_notice_tells_rights_duties_recusal_materials_fees_limits_and_risks(
        joint: dict[str, RenderedDocument]) -> None:
    """司法鉴定告知书 (司发通〔2016〕112号): each item restates an article of the 通则 or the Sichuan opinion."""
    notice = joint["appraisal_notice"]
    assert notice.title == "司法鉴定告知书" and not notice.primary
    flat = squash(pdftotext(notice.pdf))
    case = json.loads((JOINT / "case.json").read_text("utf-8"))
    c = case["commission"]
    for expected in (
        "司法鉴定告知书", c["number"], "致委托人何建平、中国人民财产保险股份有限公司成都市分公司",
        "一、委托人的权利", "可以申请其回避", "可以撤销鉴定委托", "第二十条、第二十一条",  # 通则 Art 20–21
        "申请补充鉴定、重新鉴定（川司鉴协〔2022〕7号五（一）",  # Sichuan 五(一)
        "二、委托人的义务", "对鉴定材料的真实性、合法性负责（《司法鉴定程序通则》第十二条）",
        "不得就同一鉴定事项另行委托鉴定",  # Sichuan 二(一)
        "三、鉴定材料", "四、鉴定费用", "五、鉴定时限", "六、鉴定风险", "七、鉴定意见书",
        # example (a) agreed 20 working days (通则 Art 28: an agreed limit prevails)
        "自委托书生效之日起20个工作日内完成鉴定（委托人与本机构约定的时限）", "延长不超过三十个工作日",
        "并非所有的鉴定都能得出明确的鉴定意见",  # the second risk warning (通则 Art 16)
        "一式四份，三份交委托人，一份存档",  # 通则 Art 36–40
        "委托人已知悉上述告知事项",
    ):
        assert expected in flat, expected
    assert c["materials_supply"].replace(" ", "") in flat and c["fee_payment"].replace(" ", "") in flat
    with open(notice.pdf, "rb") as fh:  # sealed by the institution alone
        assert [name for name, *_ in enumerate_sig_fields(PdfFileReader(fh))] == [INSTITUTION_SEAL_FIELD]
    headings = [p.text for p in Document(str(notice.docx)).paragraphs if p.style.name.startswith("Heading")]
    assert headings == ["告知对象", "一、委托人的权利", "二、委托人的义务", "三、鉴定材料", "四、鉴定费用", "五、鉴定时限",
                        "六、鉴定风险", "七、鉴定意见书", "签署"]


def test_extension_shows_the_new_deadline_across_dragon_boat(single: dict[str, RenderedDocument]) -> None:
    # Agreed 20 working days from 2026-05-11 → 2026-06-08; +15 working days skipping 端午 (2026-06-19) →
    # 6/9–6/12 (4), 6/15–6/18 (8), 6/22–6/26 (13), 6/29–6/30 (15) → 2026-06-30.
    flat = squash(pdftotext(single["extension"].pdf))
    assert "原定完成日期2026年6月8日" in flat and "延长后完成日期2026年6月30日" in flat
    assert "批准人（机构负责人）罗永康" in flat and "被鉴定人需补充复查影像资料" in flat


def test_correction_names_the_original_and_keeps_the_opinion(single: dict[str, RenderedDocument]) -> None:
    flat = squash(pdftotext(single["correction-1"].pdf))
    assert "原鉴定文书编号蜀正司鉴〔2026〕临鉴字第0318号" in flat
    assert "营门口路88号" in flat and "营门口路86号" in flat
    assert "不改变原鉴定意见（《司法鉴定程序通则》第四十一条）" in flat


def test_review_selection_and_recusal(joint: dict[str, RenderedDocument]) -> None:
    review = squash(pdftotext(joint["review_opinion"].pdf))
    assert "复核人宋建华" in review and "同意鉴定意见" in review and "程序复核意见" in review
    selection = squash(pdftotext(joint["selection"].pdf))
    assert "选择方式协商选定" in selection and "法医临床类" in selection
    recusal = squash(pdftotext(joint["recusal"].pdf))
    assert "鉴定人唐志明" in recusal and "鉴定人邓晓梅" in recusal and "利害关系或应回避情形无" in recusal


def test_hostile_text_is_inert(tmp_path: Path, single: dict[str, RenderedDocument]) -> None:
    assert HOSTILE.replace(" ", "") in squash(pdftotext(single["commission"].pdf))  # shown as typed
    loaded = load_case(case_copy(tmp_path, make_single))
    doc = next(d for d in build_documents(loaded.case) if d.key == "commission")
    html = build_forensic_html(loaded, doc, None).html
    assert "<script>" not in html and "</td>" not in html.split("案情摘要")[1].split("</p>")[0]
    assert "&lt;script&gt;" in html and "&lt;/td&gt;" in html


# ───────────────────────────────── pages, attachments, PDF/A ───────────────────────────────────


def test_page_x_of_y_on_every_page(joint: dict[str, RenderedDocument], single: dict[str, RenderedDocument]) -> None:
    for docs in (joint, single):
        for d in docs.values():
            total = d.pages  # the opinion's bound scans are numbered too (an overlay in the bottom margin)
            for page in range(1, total + 1):
                assert f"第{page}页共{total}页" in squash(pdftotext(d.pdf, page)), (d.key, page)


def test_attachments_bound_after_the_opinion_with_their_page_ranges(joint: dict[str, RenderedDocument]) -> None:
    pdf = joint["opinion"].pdf
    reader = PdfReader(pdf)
    total = len(reader.pages)
    assert total == joint["opinion"].pages
    own = total - 3
    flat = squash(pdftotext(pdf))
    # 附件 1: attachments[0] (2 pages) right after the document; 附件 2: material C3's scan (1 page).
    assert f"四川省骨科医院出院记录（复印件）2第{own + 1}–{own + 2}页" in flat
    assert f"（扫描件）1第{own + 3}页" in flat
    scan = PdfReader(JOINT / "scans" / "discharge-record.pdf")
    for i in range(2):
        bound = reader.pages[own + i].images[0].data
        assert bound == scan.pages[i].images[0].data
    accident = PdfReader(JOINT / "scans" / "accident-report.pdf")
    assert reader.pages[own + 2].images[0].data == accident.pages[0].images[0].data


def test_bound_opinion_keeps_pdfa_case_file_and_signature_fields(joint: dict[str, RenderedDocument]) -> None:
    with joint["opinion"].pdf.open("rb") as fh:
        r = PdfFileReader(fh)
        names = [n for n, _, _ in enumerate_sig_fields(r)]
        assert sorted(names) == ["appraiser-1", "appraiser-2", "institution-seal"]
        xmp = r.root["/Metadata"].get_object().data.decode("utf-8")
        assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="A"' in xmp and "蜀正司鉴〔2026〕临鉴字第0318号" in xmp
        assert "/OutputIntents" in r.root and len(r.root["/AF"]) == 1
        embedded = r.root["/Names"]["/EmbeddedFiles"]["/Names"]
        assert embedded[0] == "case.json"
        data = embedded[1].get_object()["/EF"]["/F"].get_object().data
        assert data == (JOINT / "case.json").read_bytes()
    for key in ("commission", "selection", "recusal", "attendance", "review_opinion"):
        with joint[key].pdf.open("rb") as fh:
            assert [n for n, _, _ in enumerate_sig_fields(PdfFileReader(fh))] == ["institution-seal"], key


def test_correction_fields_follow_its_signers(single: dict[str, RenderedDocument]) -> None:
    with single["correction-1"].pdf.open("rb") as fh:
        names = sorted(n for n, _, _ in enumerate_sig_fields(PdfFileReader(fh)))
    assert names == ["appraiser-1", "appraiser-2", "institution-seal"]
    flat = squash(pdftotext(single["correction-1"].pdf))
    assert flat.index("邓晓梅（副主任法医师）") < flat.index("唐志明（主任法医师）")  # signed_by order


def test_docx_has_the_same_sections(joint: dict[str, RenderedDocument]) -> None:
    doc = Document(str(joint["opinion"].docx))
    texts = [p.text for p in doc.paragraphs]
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings == ["声明", "一、基本情况", "二、基本案情", "三、资料摘要", "四、鉴定过程", "五、分析说明", "六、鉴定意见",
                        "七、附件", "鉴定人签名及鉴定机构印章"]
    assert any("构成十级伤残" in t for t in texts)
    footer = doc.sections[0].footer.paragraphs[0]._p.xml  # noqa: SLF001
    assert "PAGE" in footer and "NUMPAGES" in footer and not doc.sections[0].different_first_page_header_footer
    commission = Document(str(joint["commission"].docx))
    assert [p.text for p in commission.paragraphs if p.style.name.startswith("Heading")][:3] == [
        "一、委托人", "二、鉴定机构", "三、委托鉴定事项"]


def test_render_report_gives_the_primary_document(tmp_path: Path) -> None:
    result = render_report(load_case(JOINT / "case.json"), tmp_path, formats=("docx",))
    assert result.docx == tmp_path / f"{STEM}.docx" and result.pdf is None
    assert (tmp_path / f"{STEM}-commission.docx").is_file()


# ─────────────────────────────────────────── refusals ──────────────────────────────────────────


@pytest.mark.parametrize(("file", "message"), [
    ("scans/missing.pdf", "不存在"),
    ("case.json", "不是 PDF 文件"),
    ("../../etc/passwd", "案件文件夹"),
])
def test_bad_attachment_is_refused_before_any_output(tmp_path: Path, file: str, message: str) -> None:
    def edit(d: dict[str, Any]) -> None:
        d["attachments"][0]["file"] = file

    case = case_copy(tmp_path, edit)
    with pytest.raises(RenderError, match=message) as err:
        render_case_documents(load_case(case), tmp_path / "out", formats=("docx",))
    assert "$.attachments[0].file" in str(err.value)
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_cli_renders_every_document_and_refuses_a_missing_scan_with_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "out"
    ok = runner.invoke(app, ["render", str(JOINT / "case.json"), "-o", str(out), "--format", "docx"])
    assert ok.exit_code == 0, ok.output
    assert "7 份文书" in ok.output and "司法鉴定委托书" in ok.output and "到场见证记录" in ok.output
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{STEM}.docx"] + [f"{STEM}-{k}.docx" for k in ("commission", "appraisal_notice", "selection", "recusal", "attendance",
                                                         "review_opinion")])

    def edit(d: dict[str, Any]) -> None:
        d["materials"][2]["file"] = "scans/gone.pdf"

    bad = runner.invoke(app, ["render", str(case_copy(tmp_path / "b", edit)), "-o", str(tmp_path / "o2")])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    assert "鉴定材料 C3 的扫描件" in bad.output and "scans/gone.pdf" in bad.output


def test_survey_report_lists_bound_attachment_pages(tmp_path: Path) -> None:
    folder = tmp_path / "slope"
    shutil.copytree(ROOT / "examples" / "slope-collapse", folder)
    shutil.copy(JOINT / "scans" / "discharge-record.pdf", folder / "minutes.pdf")
    data = json.loads((folder / "case.json").read_text("utf-8"))
    data["attachments"][4]["file"] = "minutes.pdf"  # 四方会议纪要, a 2-page scan
    (folder / "case.json").write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    result = render_report(load_case(folder / "case.json"), tmp_path / "out", formats=("pdf",))
    total = result.pages
    assert len(PdfReader(io.BytesIO(result.pdf.read_bytes())).pages) == total
    flat = squash(pdftotext(result.pdf))
    assert f"5四方会议纪要2第{total - 1}–{total}页" in flat
    assert f"第2页共{total}页" in squash(pdftotext(result.pdf, 2))  # the footer counts the bound pages


# ───────────────────────── the 意见书's layout: headings, sign-off, seal and date ─────────────────────────

EXAMPLES = ("forensic-joint-grade10", "forensic-single-no-disability", "forensic-extension-correction",
            "forensic-reappraisal")
SIGN_OFF = "鉴定人签名及鉴定机构印章"


@pytest.fixture(scope="module")
def opinions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Any]]:
    """Every example's 意见书 as rendered (PDF) and as content (ForensicDocument)."""
    from generator.render import render_forensic_document

    out = tmp_path_factory.mktemp("opinions")
    found: dict[str, tuple[Path, Any]] = {}
    for name in EXAMPLES:
        loaded = load_case(ROOT / "examples" / name / "case.json")
        rendered = render_forensic_document(loaded, "opinion", out / name, formats=("pdf",))
        assert rendered is not None and rendered.pdf is not None
        doc = next(d for d in build_documents(loaded.case, loaded.source.parent) if d.key == "opinion")  # type: ignore[arg-type]
        found[name] = (rendered.pdf, doc)
    return found


def _lines(pdf: Path, page: int) -> list[str]:
    """The page's text lines as laid out (a key-value row is one line), without blanks, the running header
    and the 「第 X 页 共 Y 页」 footer."""
    args = ["pdftotext", "-enc", "UTF-8", "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"]
    text = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return [line for line in lines[1:] if not re.fullmatch(r"第\s*\d+\s*页\s*共\s*\d+\s*页", line)]


def _headings(doc: Any) -> set[str]:
    """What reads as a heading in the 意见书: section headings, the （一）… sub-headings, the sign-off's
    titles, the 附件 caption, and a key-value label standing alone (its value overleaf)."""
    from generator.report_content import KeyValues, Paragraph

    found = {s.heading for s in doc.sections} | {"司法鉴定人签名", "鉴定机构（司法鉴定专用章）", "附件（装订于本文书之后）"}
    for s in doc.sections:
        for b in s.blocks:
            if isinstance(b, Paragraph) and b.style == "emphasis" and b.text.startswith("（"):
                found.add(b.text)
            if isinstance(b, KeyValues):
                found |= {label for label, _v in b.pairs}
    return {squash(h) for h in found}


def test_no_page_of_an_opinion_ends_with_a_heading(opinions: dict[str, tuple[Path, Any]]) -> None:
    """Every page of each example's 意见书, up to its sign-off, ends with text, not with a heading or a label
    whose value went overleaf (such as 「四、鉴定过程」 over a lone 「检验方法」)."""
    for name, (pdf, doc) in opinions.items():
        headings = _headings(doc)
        page = 1
        while True:
            lines = _lines(pdf, page)
            assert lines, f"{name} page {page} is empty"
            if any(SIGN_OFF in line for line in lines):
                break  # the sign-off page ends with the seal's date
            assert squash(lines[-1]) not in headings, f"{name} page {page} ends with the heading {lines[-1]!r}"
            page += 1


def test_the_sign_off_shares_its_page_with_the_last_lines_of_the_opinion(opinions: dict[str, tuple[Path, Any]]) -> None:
    """落款应当与正文同页 (司法鉴定文书规范 2007): the page with the appraisers' signatures and the seal also carries
    the last paragraph of 鉴定意见, so the signatures never stand alone on a page."""
    from generator.report_content import Paragraph

    for name, (pdf, doc) in opinions.items():
        pages = PdfReader(str(pdf)).pages
        sign_off = next(n for n in range(1, len(pages) + 1) if SIGN_OFF in pdftotext(pdf, n))
        opinion = next(s for s in doc.sections if s.anchor == "op-opinion")
        last = [b for b in opinion.blocks if isinstance(b, Paragraph)][-1].text
        page_text = squash(pdftotext(pdf, sign_off))
        assert squash(last) in page_text, f"{name}: the sign-off on page {sign_off} without the opinion's end"
        assert page_text.index(squash(last)) < page_text.index(SIGN_OFF)
    # Example (a) by hand: its opinion ends with the fourth matter, 营养期 90 日, and the sign-off is on page 5
    # (cover, 声明, then three pages of text; the three attachment pages follow).
    joint_pdf = opinions["forensic-joint-grade10"][0]
    assert "4.营养期：90日。" in squash(pdftotext(joint_pdf, 5)) and SIGN_OFF in pdftotext(joint_pdf, 5)


def _words(pdf: Path, page: int) -> list[tuple[str, float, float, float, float]]:
    """(text, x0, top, x1, bottom) of every word on the page, in points from the top-left (pdftotext -bbox)."""
    args = ["pdftotext", "-enc", "UTF-8", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"]
    html_text = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return [(w, float(a), float(b), float(c), float(d)) for a, b, c, d, w in re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', html_text)]


def _seal_field_box(pdf: Path) -> tuple[int, tuple[float, float, float, float]]:
    """(1-based page, (x0, top, x1, bottom) from the top-left) of the seal field's widget."""
    from signing.signers import FIRM_FIELD_ALIASES

    for n, page in enumerate(PdfReader(str(pdf)).pages, start=1):
        for annot in page.get("/Annots") or []:
            widget = annot.get_object()
            if widget.get("/T") in FIRM_FIELD_ALIASES:
                x0, y0, x1, y1 = (float(v) for v in widget["/Rect"])
                height = float(page.mediabox.top)
                return n, (x0, height - y1, x1, height - y0)
    raise AssertionError("no seal field")


def test_the_date_stands_beside_the_seal_never_under_it(opinions: dict[str, tuple[Path, Any]],
                                                      joint: dict[str, RenderedDocument]) -> None:
    """The seal's box (where the 司法鉴定专用章 is stamped) and the date do not overlap: the date ends at least
    4 mm (≈ 11.3 pt) left of the seal (a 120 mm area: the text's right margin 48 mm, the seal 42 mm wide)."""
    documents = {name: pdf for name, (pdf, _doc) in opinions.items()}
    documents["commission"] = joint["commission"].pdf  # a document the institution seals alone: the same block
    for name, pdf in documents.items():
        assert pdf is not None
        page, (sx0, stop, _sx1, sbottom) = _seal_field_box(pdf)
        # The seal block's date (日期：, 签订日期：…), level with the seal: the one "…日期：" word in its height.
        dates = [w for w in _words(pdf, page) if "日期：" in w[0] and stop <= w[2] and w[4] <= sbottom]
        assert len(dates) == 1, (name, dates)
        _text, _dx0, _dtop, dx1, _dbottom = dates[0]
        assert dx1 <= sx0 - 11, f"{name}: the date reaches under the seal ({dx1:.1f} > {sx0:.1f} − 11)"


def test_the_cover_reserves_the_seal_place_clear_of_its_text(opinions: dict[str, tuple[Path, Any]]) -> None:
    """The renderer marks the cover's seal place (named destination cover-seal, 40 mm square) and draws nothing
    there; no word of the cover lies under it, so the 出具日期 stays legible once the seal is stamped."""
    from signing.seal_marks import COVER_SEAL_MM, cover_seal_place

    size = COVER_SEAL_MM * 72 / 25.4  # 113.4 pt
    for name, (pdf, _doc) in opinions.items():
        place = cover_seal_place(pdf.read_bytes())
        assert place is not None and place[0] == 0, name  # on page 1, the cover
        _page, left, top_pt = place
        top = 841.889764 - top_pt  # from the top of the A4 page
        words = _words(pdf, 1)
        assert any(w[0] == "出具日期" for w in words)
        under = [w[0] for w in words if w[1] < left + size and w[3] > left and w[2] < top + size and w[4] > top]
        assert under == [], f"{name}: the cover seal would cover {under}"


def test_every_sign_off_section_shares_its_page_with_text_before_it(joint: dict[str, RenderedDocument],
                                                                    single: dict[str, RenderedDocument]) -> None:
    """The 补正书's sign-off too (and any document with a 鉴定人签名及鉴定机构印章 section): on its page, body text
    comes before it — the running header is the page's first line, so at least one more line precedes it."""
    documents = {f"joint {k}": d for k, d in joint.items()} | {f"single {k}": d for k, d in single.items()}
    checked = []
    for name, d in documents.items():
        assert d.pdf is not None
        for n in range(1, d.pages + 1):
            lines = _lines(d.pdf, n)
            at = next((i for i, line in enumerate(lines) if SIGN_OFF in line), None)
            if at is not None:
                assert at >= 1, f"{name}: the sign-off opens page {n}"
                checked.append(name)
    assert {"joint opinion", "single opinion", "single correction-1"} <= set(checked)


def test_same_case_gives_byte_identical_bound_opinion(joint: dict[str, RenderedDocument], tmp_path: Path) -> None:
    # issue 3 §7: binding with pypdf keeps the render deterministic (the /ID and Info are the render's).
    again = {d.key: d for d in render_case_documents(load_case(JOINT / "case.json"), tmp_path, formats=("pdf",))}
    assert again["opinion"].pdf.read_bytes() == joint["opinion"].pdf.read_bytes()


def test_a_deadline_counted_through_a_year_without_a_calendar_file_is_printed_as_an_estimate() -> None:
    from generator.forensic.documents import build_commission
    from generator.loading import validate_data

    data = json.loads((ROOT / "examples" / "forensic-joint-grade10" / "case.json").read_text(encoding="utf-8"))
    data["timeline"].update(received_at="2026-12-14T10:00:00", accepted_at="2026-12-14T15:00:00",
                            effective_on="2026-12-14", completed_on=None)
    data["commission"].pop("agreed_working_days")
    # Mon 14 Dec 2026 + 30 working days, Fri 1 Jan 2027 off by the estimate → Tue 26 Jan 2027
    # (tests/test_holiday_calendar.py counts it day by day).
    text = repr(build_commission(validate_data(data, "<test>")))
    assert "（2027年1月26日（估算）前）" in text
    exact = repr(build_commission(validate_data(json.loads(
        (ROOT / "examples" / "forensic-joint-grade10" / "case.json").read_text(encoding="utf-8")), "<test>")))
    assert "（2026年6月8日前）" in exact and "估算" not in exact
