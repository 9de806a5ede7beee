"""Issuance (9.3): refused for every missing condition, allowed when all hold; reissue numbering R1, R2 …

Most tests replace the WeasyPrint step by a small writer (rendering is tested in the render area); the
module-scoped end-to-end fixture renders for real once for the first issue and once for a reissue.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from case_edits import SLOPE, case_from, copy_photos, slope
from typer.testing import CliRunner

from generator.check_code import DocumentCodes
from generator.clock import FixedClock
from generator.issuance import IssueRefused, check_issuable, reissue_number
from generator.loading import CaseFileError, LoadedCase, load_case, parse_json
from generator.types import SHANGHAI
from gongu.cli.app import app
from gongu.pipeline.issuing import IssueFileExists, issue_case
from tests.peoplekit import STAFF_PASSWORD, people_home

runner = CliRunner()
MARK = "未签章副本 — 非正式报告"  # issue 12 item 10: what an unsealed copy says on every page
FIRST = datetime(2025, 9, 5, 15, 0, tzinfo=SHANGHAI)
LATER = datetime(2025, 9, 20, 10, 0, tzinfo=SHANGHAI)
LATEST = datetime(2025, 10, 8, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _registered_staff(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`gongu review` accepts only reviewers registered in gongu.toml [people]."""
    people_home(tmp_path / "gongu-home", monkeypatch, accounts=True)


def fake_render(loaded: LoadedCase, work_dir: Path, templates: Path | None, mark: str | None,
                codes: DocumentCodes | None = None) -> dict[str, Path]:
    """Stands in for WeasyPrint: a file per format carrying the number and the embedded case bytes."""
    work_dir.mkdir()
    files = {}
    for kind in ("pdf", "docx"):
        path = work_dir / f"x.{kind}"
        path.write_bytes(f"{kind}:{loaded.case.report.number}:".encode() + loaded.raw)
        files[kind] = path
    return files


class AppendingSigner:
    """Stands in for the PAdES signer (the real one: test_cli_seal.py): appends a marker, records the call."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def seal(self, pdf: Path, output: Path, case_raw: dict[str, Any]) -> Path:
        output.write_bytes(pdf.read_bytes() + b"%sealed")
        self.seen.append(case_raw["report"]["number"])
        return output


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_case(folder: Path, data: dict[str, Any]) -> Path:
    import simplejson

    folder.mkdir(parents=True, exist_ok=True)
    copy_photos(folder)
    path = folder / "case.json"
    path.write_text(simplejson.dumps(data, use_decimal=True, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def add_round(case_file: Path, day: str, env: dict[str, str] | None = None) -> None:
    """A fresh three-level approval on `day` (after the last issuance), as the reviewers would record it."""
    for level, who, hour in (("proofread", "赵丽", "09"), ("recheck", "孙立军", "10"), ("approve", "刘建国", "11")):
        result = runner.invoke(app, ["review", str(case_file), "--level", level, "--reviewer", who,
                                     "--decision", "approve", "--at", f"{day}T{hour}:00:00+08:00"], env=env)
        assert result.exit_code == 0, result.output


# ── may it be issued ──

def test_9_3_complete_example_is_issuable() -> None:
    assert check_issuable(case_from(slope())) == []


def _drop_level(level: str):  # noqa: ANN202
    return lambda d: d.update(reviews=[r for r in d["reviews"] if r["level"] != level])


@pytest.mark.parametrize(("edit", "expect"), [
    (lambda d: d["report"].update(firm_seal=False), "印章"),                                   # blocking finding (9.2)
    (lambda d: d["survey"].pop("rescue_notice"), "施救告知书"),                               # blocking finding (5.2.6)
    (lambda d: d.update(reviews=[]), "校对"),                                                 # no review at all
    (_drop_level("proofread"), "校对"),                                                       # a level missing
    (_drop_level("recheck"), "复核"),
    (_drop_level("approve"), "审核"),
    (lambda d: d["reviews"].append({"level": "recheck", "reviewer": "孙立军", "at": "2025-09-04T18:00:00",
                                    "decision": "return", "comment": "损失数量待核"}), "退回"),  # returned review
    (lambda d: d["reviews"][1].update(reviewer="王志强"), "承办人员"),                      # handler as reviewer
])
def test_9_3_issuance_refused_for_each_missing_condition(edit: Any, expect: str) -> None:
    data = slope()
    edit(data)
    reasons = check_issuable(case_from(data))
    assert reasons and any(expect in r for r in reasons), reasons


def test_warnings_do_not_refuse_issuance() -> None:
    data = slope()
    data["contact"]["contacted_at"] = "2025-07-12T11:00:00"  # 80 minutes: a 4.4 warning only
    data["delivery"] = {}  # 10.1 matters at archiving, not issuance
    assert check_issuable(case_from(data)) == []


# ── reissue numbering ──

@pytest.mark.parametrize(("number", "supersedes", "expect"), [
    ("SA-GC-20250905-017", None, "SA-GC-20250905-017R1"),
    ("SA-GC-20250905-017R1", "SA-GC-20250905-017", "SA-GC-20250905-017R2"),
    ("SA-GC-20250905-017R9", "SA-GC-20250905-017R8", "SA-GC-20250905-017R10"),
    ("GZR2024", None, "GZR2024R1"),  # a firm number ending in R+digits is not a reissue unless it supersedes one
])
def test_reissue_number(number: str, supersedes: str | None, expect: str) -> None:
    data = slope()
    data["report"]["number"] = number
    if supersedes:
        data["report"]["supersedes"] = supersedes
    assert reissue_number(case_from(data)) == expect


# ── the pipeline (render replaced) ──

def test_issue_then_reissue_twice_keeps_every_report(tmp_path: Path) -> None:
    case_file = write_case(tmp_path / "case", slope())
    out = tmp_path / "issued"
    signer = AppendingSigner()

    first = issue_case(case_file, out_dir=out, clock=FixedClock(FIRST), render=fake_render, signer=signer)
    assert first.number == "SA-GC-20250905-017" and first.supersedes is None
    pdf0 = out / "SA-GC-20250905-017.pdf"
    assert pdf0.read_bytes().endswith(b"%sealed") and (out / "SA-GC-20250905-017.docx").is_file()
    assert first.qc_sheet == out / "internal" / "SA-GC-20250905-017-qc-sheet.html"
    assert "品质审核表" in first.qc_sheet.read_text(encoding="utf-8")
    case = load_case(case_file).case
    (entry,) = case.issuances
    assert (entry.number, entry.issued_at, entry.pdf_file, entry.pdf_sha256) == (
        "SA-GC-20250905-017", FIRST, "SA-GC-20250905-017.pdf", sha(pdf0))
    hash0 = sha(pdf0)

    # Issuing again is refused: a correction is a reissue.
    with pytest.raises(IssueRefused, match="重新出具"):
        issue_case(case_file, out_dir=out, clock=FixedClock(LATER), render=fake_render, signer=AppendingSigner())
    # A reissue needs a reason and a fresh review round after the first issuance.
    with pytest.raises(IssueRefused) as refused:
        issue_case(case_file, out_dir=out, reissue_reason="更正L4单价", clock=FixedClock(LATER), render=fake_render, signer=AppendingSigner())
    assert sum("重新经三级审核" in r for r in refused.value.reasons) == 3

    add_round(case_file, "2025-09-19")
    r1 = issue_case(case_file, out_dir=out, reissue_reason="更正L4单价", clock=FixedClock(LATER), render=fake_render, signer=signer)
    assert (r1.number, r1.supersedes) == ("SA-GC-20250905-017R1", "SA-GC-20250905-017")
    pdf1 = out / "SA-GC-20250905-017R1.pdf"
    assert sha(pdf0) == hash0  # the earlier report is untouched
    # The reissued report embeds the case as reissued: new number, the link and the reason, no issuance yet.
    embedded = parse_json(pdf1.read_bytes().split(b":", 2)[2].removesuffix(b"%sealed").decode())
    assert embedded["report"]["number"] == "SA-GC-20250905-017R1"
    assert embedded["report"]["supersedes"] == "SA-GC-20250905-017"
    assert embedded["report"]["reissue_reason"] == "更正L4单价"
    assert embedded["report"]["issued_on"] == "2025-09-20"
    assert len(embedded["issuances"]) == 1

    add_round(case_file, "2025-10-07")
    r2 = issue_case(case_file, out_dir=out, reissue_reason="补充第三者说明", clock=FixedClock(LATEST), render=fake_render, signer=signer)
    assert (r2.number, r2.supersedes) == ("SA-GC-20250905-017R2", "SA-GC-20250905-017R1")
    case = load_case(case_file).case
    assert [(i.number, i.supersedes, i.reason) for i in case.issuances] == [
        ("SA-GC-20250905-017", None, None),
        ("SA-GC-20250905-017R1", "SA-GC-20250905-017", "更正L4单价"),
        ("SA-GC-20250905-017R2", "SA-GC-20250905-017R1", "补充第三者说明"),
    ]
    assert case.report.number == "SA-GC-20250905-017R2"
    for i in case.issuances:
        assert sha(out / i.pdf_file) == i.pdf_sha256 and sha(out / i.docx_file) == i.docx_sha256
    assert signer.seen == ["SA-GC-20250905-017", "SA-GC-20250905-017R1", "SA-GC-20250905-017R2"]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no scratch left


def test_refused_issue_writes_nothing(tmp_path: Path) -> None:
    data = slope()
    data["reviews"] = data["reviews"][:2]
    case_file = write_case(tmp_path / "case", data)
    before = case_file.read_bytes()
    with pytest.raises(IssueRefused):
        issue_case(case_file, out_dir=tmp_path / "issued", clock=FixedClock(FIRST), render=fake_render, signer=AppendingSigner())
    assert case_file.read_bytes() == before and not (tmp_path / "issued").exists()


def test_failing_step_publishes_nothing(tmp_path: Path) -> None:
    case_file = write_case(tmp_path / "case", slope())
    before = case_file.read_bytes()

    class BrokenSigner:
        def seal(self, pdf: Path, output: Path, case_raw: dict[str, Any]) -> Path:
            raise RuntimeError("seal key unavailable")

    with pytest.raises(RuntimeError):
        issue_case(case_file, out_dir=tmp_path / "issued", clock=FixedClock(FIRST), render=fake_render, signer=BrokenSigner())
    assert case_file.read_bytes() == before
    assert list((tmp_path / "issued").iterdir()) == []


def test_existing_report_file_is_never_overwritten(tmp_path: Path) -> None:
    case_file = write_case(tmp_path / "case", slope())
    out = tmp_path / "issued"
    out.mkdir()
    (out / "SA-GC-20250905-017.pdf").write_bytes(b"issued by hand earlier")
    with pytest.raises(IssueFileExists):
        issue_case(case_file, out_dir=out, clock=FixedClock(FIRST), render=fake_render, signer=AppendingSigner())
    assert (out / "SA-GC-20250905-017.pdf").read_bytes() == b"issued by hand earlier"


def test_reissue_of_a_never_issued_case_is_refused(tmp_path: Path) -> None:
    case_file = write_case(tmp_path / "case", slope())
    with pytest.raises(IssueRefused, match="尚未出具"):
        issue_case(case_file, out_dir=tmp_path / "o", reissue_reason="x", clock=FixedClock(FIRST), render=fake_render, signer=AppendingSigner())


def test_no_signer_is_refused_before_anything_is_rendered(tmp_path: Path) -> None:
    """Issue 12 item 10: a final report without the signatures must not go out by default."""
    case_file = write_case(tmp_path / "case", slope())
    before = case_file.read_bytes()
    rendered: list[str | None] = []

    def render(loaded: LoadedCase, work_dir: Path, templates: Path | None, mark: str | None,
               codes: DocumentCodes | None) -> dict[str, Path]:
        rendered.append(mark)
        return fake_render(loaded, work_dir, templates, mark, codes)

    with pytest.raises(IssueRefused) as refused:
        issue_case(case_file, out_dir=tmp_path / "issued", clock=FixedClock(FIRST), render=render, signer=None)
    assert any("--unsealed" in r and "签章" in r for r in refused.value.reasons)
    assert rendered == [] and case_file.read_bytes() == before and not (tmp_path / "issued").exists()

    # Asked for explicitly: rendered with the mark, not sealed, and recorded as unsealed.
    result = issue_case(case_file, out_dir=tmp_path / "issued", clock=FixedClock(FIRST), render=render, signer=None, unsealed=True)
    assert rendered == ["未签章副本 — 非正式报告"] and result.sealed is False
    assert load_case(case_file).case.issuances[-1].sealed is False


def test_9_3_approvals_typed_into_the_case_file_must_be_by_registered_persons(tmp_path: Path) -> None:
    """Issue 12 item 2, found by the probe: `gongu review` refuses unregistered names, but reviews written
    into case.json by hand went straight to a sealed issue. Each approval counted must be a registered
    person; a spelling that normalises to one (zero-width space) is that person."""
    data = slope()
    data["reviews"][0]["reviewer"] = "Mallory"
    data["reviews"][2]["reviewer"] = "\uff4d\uff41\uff4c"  # ｍａｌ: NFKC "mal", not a registered person
    case_file = write_case(tmp_path / "case", data)
    before = case_file.read_bytes()
    signer = AppendingSigner()
    with pytest.raises(IssueRefused) as refused:
        issue_case(case_file, out_dir=tmp_path / "issued", clock=FixedClock(FIRST), render=fake_render, signer=signer)
    unregistered = [r for r in refused.value.reasons if "not a registered person" in r]
    assert len(unregistered) == 2
    assert "「Mallory」" in unregistered[0] and "$.reviews[0]" in unregistered[0]
    assert "$.reviews[2]" in unregistered[1]
    assert signer.seen == [] and case_file.read_bytes() == before and not (tmp_path / "issued").exists()

    data["reviews"][0]["reviewer"] = "赵\u200b丽"  # a zero-width space: refused at validation (types.Name)
    data["reviews"][2]["reviewer"] = "刘建国"
    with pytest.raises(CaseFileError, match="1 problem"):
        issue_case(write_case(tmp_path / "case3", data), out_dir=tmp_path / "issued", clock=FixedClock(FIRST),
                   render=fake_render, signer=signer)
    data["reviews"][0]["reviewer"] = "赵丽"
    case_file = write_case(tmp_path / "case2", data)
    assert issue_case(case_file, out_dir=tmp_path / "issued", clock=FixedClock(FIRST), render=fake_render,
                      signer=signer).sealed


def test_gongu_issue_prints_reasons_as_text_not_markup(tmp_path: Path) -> None:
    """The refusal names gongu.toml's [signing] section; rich used to swallow "[signing]" as a tag."""
    case_file = write_case(tmp_path / "case", slope())
    result = runner.invoke(app, ["issue", str(case_file), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "[signing]" in "".join(result.output.split())


def test_signed_issue_is_recorded_as_sealed(tmp_path: Path) -> None:
    case_file = write_case(tmp_path / "case", slope())
    signer = AppendingSigner()
    result = issue_case(case_file, out_dir=tmp_path / "issued", clock=FixedClock(FIRST), render=fake_render, signer=signer)
    assert result.sealed is True and load_case(case_file).case.issuances[-1].sealed is True
    with pytest.raises(ValueError):  # a signer and "unsealed" contradict each other
        issue_case(case_file, out_dir=tmp_path / "o2", clock=FixedClock(FIRST), render=fake_render, signer=signer, unsealed=True)


# ── the command ──

def test_gongu_issue_refused_lists_every_reason_exit_1(tmp_path: Path) -> None:
    data = slope()
    data["reviews"] = data["reviews"][:1]
    data["report"]["firm_seal"] = False
    case_file = write_case(tmp_path / "case", data)
    result = runner.invoke(app, ["issue", str(case_file), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    for expect in ("不予出具", "复核", "审核", "印章"):
        assert expect in result.output


def test_gongu_issue_usage_errors_exit_2(tmp_path: Path) -> None:
    case_file = write_case(tmp_path / "case", slope())
    assert runner.invoke(app, ["issue", str(case_file), "--reissue"]).exit_code == 2
    assert runner.invoke(app, ["issue", str(case_file), "--reason", "x"]).exit_code == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    assert runner.invoke(app, ["issue", str(bad)]).exit_code == 2


# ── end to end, real rendering ──

@pytest.fixture(scope="module")
def issued_for_real(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("issue-e2e")
    shutil.copytree(SLOPE.parent, root / "case")
    case_file = root / "case" / "case.json"
    home = root / "home"
    with pytest.MonkeyPatch.context() as mp:
        people_home(home, mp, accounts=True)  # the reviewers are registered persons with accounts
    env = {"GONGU_HOME": str(home), "GONGU_PASSWORD": STAFF_PASSWORD}
    refused = runner.invoke(app, ["issue", str(case_file)], env=env)  # no [signing] in this home
    first = runner.invoke(app, ["issue", str(case_file), "--unsealed"], env=env)
    add_round(case_file, "2099-01-01", env)  # after "now": the reissue's fresh review round
    again = runner.invoke(app, ["issue", str(case_file), "--unsealed", "--reissue", "--reason", "更正附件清单"], env=env)
    return {"refused": refused, "first": first, "again": again, "dir": home / "issued" / "SAGC-2025-0712",
            "case_file": case_file}


def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def test_e2e_issue_renders_into_gongu_home(issued_for_real: dict[str, Any]) -> None:
    assert issued_for_real["first"].exit_code == 0, issued_for_real["first"].output
    out = issued_for_real["dir"]
    pdf = out / "SA-GC-20250905-017.pdf"
    assert pdf.read_bytes().startswith(b"%PDF") and (out / "SA-GC-20250905-017.docx").is_file()
    text = "".join(_pdf_text(pdf).split())
    assert "SA-GC-20250905-017" in text


def test_e2e_without_signing_gongu_issue_refuses_exit_1(issued_for_real: dict[str, Any]) -> None:
    refused = issued_for_real["refused"]
    assert refused.exit_code == 1, refused.output
    assert "不予出具" in refused.output and "--unsealed" in refused.output


def test_e2e_unsealed_copy_is_marked_on_every_page_and_recorded(issued_for_real: dict[str, Any]) -> None:
    from docx import Document

    out = issued_for_real["dir"]
    pdf = out / "SA-GC-20250905-017.pdf"
    pages = _pdf_text(pdf).split("\f")[:-1]  # pdftotext ends every page with a form feed
    assert len(pages) > 3
    for page in pages:
        assert MARK.replace(" ", "") in "".join(page.split())
    doc = Document(str(out / "SA-GC-20250905-017.docx"))
    assert doc.paragraphs[0].text == MARK
    assert all(MARK in (s.header.paragraphs[0].text + s.first_page_header.paragraphs[0].text)
               for s in doc.sections)
    case = load_case(issued_for_real["case_file"]).case
    assert [i.sealed for i in case.issuances] == [False, False]
    assert "未签章副本" in issued_for_real["first"].output


def test_e2e_client_pdf_has_no_qc_content(issued_for_real: dict[str, Any]) -> None:
    out = issued_for_real["dir"]
    qc = (out / "internal" / "SA-GC-20250905-017-qc-sheet.html").read_text(encoding="utf-8")
    assert "品质审核表" in qc and "review.three_levels" in qc
    for name in ("SA-GC-20250905-017.pdf", "SA-GC-20250905-017R1.pdf"):
        text = "".join(_pdf_text(out / name).split())
        for marker in ("品质审核表", "review.three_levels", "阻止出具", "数字与附表一致", "损失核定依据充分"):
            assert marker not in text, (name, marker)


def test_e2e_reissue_keeps_both_and_names_the_superseded(issued_for_real: dict[str, Any]) -> None:
    assert issued_for_real["again"].exit_code == 0, issued_for_real["again"].output
    out = issued_for_real["dir"]
    case = load_case(issued_for_real["case_file"]).case
    assert [i.number for i in case.issuances] == ["SA-GC-20250905-017", "SA-GC-20250905-017R1"]
    for i in case.issuances:
        assert sha(out / i.pdf_file) == i.pdf_sha256
    text = "".join(_pdf_text(out / "SA-GC-20250905-017R1.pdf").split())
    assert "SA-GC-20250905-017R1" in text
    data = json.loads(issued_for_real["case_file"].read_text(encoding="utf-8"))
    assert data["report"]["supersedes"] == "SA-GC-20250905-017"


def test_failed_record_takes_back_published_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gongu.pipeline.issuing

    case_file = write_case(tmp_path / "case", slope())
    before = case_file.read_bytes()

    def disk_full(path: Path, data: dict) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(gongu.pipeline.issuing, "write_case_data", disk_full)
    with pytest.raises(OSError):
        issue_case(case_file, out_dir=tmp_path / "issued", clock=FixedClock(FIRST), render=fake_render, signer=AppendingSigner())
    assert case_file.read_bytes() == before
    assert [p for p in (tmp_path / "issued").rglob("*") if p.is_file()] == []


def test_check_stage_issue_on_an_issued_report_shows_what_a_reissue_refuses(tmp_path: Path) -> None:
    """Once issued, `gongu check --stage issue` judges the next issuance, a reissue, as `gongu issue --reissue`
    does (one function, gongu.pipeline.issuing.issue_findings): the three approvals of 2–4 September are older than
    the issue of 5 September 15:00, so all three levels must be reviewed again."""
    case_file = write_case(tmp_path / "case", slope())
    issue_case(case_file, out_dir=tmp_path / "issued", clock=FixedClock(FIRST), render=fake_render, signer=AppendingSigner())
    with pytest.raises(IssueRefused) as refused:
        issue_case(case_file, out_dir=tmp_path / "issued", reissue_reason="更正L4单价", clock=FixedClock(LATER),
                   render=fake_render, signer=AppendingSigner())
    result = runner.invoke(app, ["check", str(case_file), "--json", "--today", "2025-09-20"])
    assert result.exit_code == 1, result.output
    payload = json.loads(result.output)
    assert (payload["issuance"], payload["sealing_day"]) == ("reissue", "2025-09-20")
    shown = [f"[{f['clause']}] {f['message']}（{f['path']}）" for f in payload["findings"] if f["severity"] == "blocking"]
    assert shown == refused.value.reasons
    assert [r.split("的通过")[0] for r in shown] == ["[9.3] 校对", "[9.3] 复核", "[9.3] 审核"]
    # A new round after the issue: the reissue is ready, and check says so (exit 0).
    add_round(case_file, "2025-09-19")
    assert runner.invoke(app, ["check", str(case_file), "--today", "2025-09-20"]).exit_code == 0
