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

from generator.issuance import IssueRefused, check_issuable, reissue_number
from generator.loading import load_case, parse_json
from generator.types import SHANGHAI
from gongu.cli import app
from gongu.issuing import IssueFileExists, IssueJob, issue_case

runner = CliRunner()
FIRST = datetime(2025, 9, 5, 15, 0, tzinfo=SHANGHAI)
LATER = datetime(2025, 9, 20, 10, 0, tzinfo=SHANGHAI)
LATEST = datetime(2025, 10, 8, 10, 0, tzinfo=SHANGHAI)


def fake_render(job: IssueJob) -> None:
    """Stands in for WeasyPrint: a file per format carrying the number and the embedded case bytes."""
    out = job.work_dir / "render"
    out.mkdir()
    job.files = {}
    for kind in ("pdf", "docx"):
        path = out / f"x.{kind}"
        path.write_bytes(f"{kind}:{job.case.report.number}:".encode() + job.loaded.raw)
        job.files[kind] = path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_case(folder: Path, data: dict[str, Any]) -> Path:
    import simplejson

    folder.mkdir(parents=True, exist_ok=True)
    copy_photos(folder)
    path = folder / "case.json"
    path.write_text(simplejson.dumps(data, use_decimal=True, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def add_round(case_file: Path, day: str) -> None:
    """A fresh three-level approval on `day` (after the last issuance), as the reviewers would record it."""
    for level, who, hour in (("proofread", "赵丽", "09"), ("recheck", "孙立军", "10"), ("approve", "刘建国", "11")):
        result = runner.invoke(app, ["review", str(case_file), "--level", level, "--reviewer", who,
                                     "--decision", "approve", "--at", f"{day}T{hour}:00:00+08:00"])
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
    seen: list[str] = []

    def after_render(job: IssueJob) -> None:  # where the sealing step (issue 5) goes: it may replace the PDF
        sealed = job.work_dir / "sealed.pdf"
        sealed.write_bytes(job.files["pdf"].read_bytes() + b"%sealed")
        job.files["pdf"] = sealed
        seen.append(job.case.report.number)

    first = issue_case(case_file, out_dir=out, now=FIRST, render=fake_render, steps=[after_render])
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
        issue_case(case_file, out_dir=out, now=LATER, render=fake_render, steps=[])
    # A reissue needs a reason and a fresh review round after the first issuance.
    with pytest.raises(IssueRefused) as refused:
        issue_case(case_file, out_dir=out, reissue_reason="更正L4单价", now=LATER, render=fake_render, steps=[])
    assert sum("重新经三级审核" in r for r in refused.value.reasons) == 3

    add_round(case_file, "2025-09-19")
    r1 = issue_case(case_file, out_dir=out, reissue_reason="更正L4单价", now=LATER, render=fake_render,
                    steps=[after_render])
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
    r2 = issue_case(case_file, out_dir=out, reissue_reason="补充第三者说明", now=LATEST, render=fake_render,
                    steps=[after_render])
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
    assert seen == ["SA-GC-20250905-017", "SA-GC-20250905-017R1", "SA-GC-20250905-017R2"]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no scratch left


def test_refused_issue_writes_nothing(tmp_path: Path) -> None:
    data = slope()
    data["reviews"] = data["reviews"][:2]
    case_file = write_case(tmp_path / "case", data)
    before = case_file.read_bytes()
    with pytest.raises(IssueRefused):
        issue_case(case_file, out_dir=tmp_path / "issued", now=FIRST, render=fake_render, steps=[])
    assert case_file.read_bytes() == before and not (tmp_path / "issued").exists()


def test_failing_step_publishes_nothing(tmp_path: Path) -> None:
    case_file = write_case(tmp_path / "case", slope())
    before = case_file.read_bytes()

    def broken_seal(job: IssueJob) -> None:
        raise RuntimeError("seal key unavailable")

    with pytest.raises(RuntimeError):
        issue_case(case_file, out_dir=tmp_path / "issued", now=FIRST, render=fake_render, steps=[broken_seal])
    assert case_file.read_bytes() == before
    assert list((tmp_path / "issued").iterdir()) == []


def test_existing_report_file_is_never_overwritten(tmp_path: Path) -> None:
    case_file = write_case(tmp_path / "case", slope())
    out = tmp_path / "issued"
    out.mkdir()
    (out / "SA-GC-20250905-017.pdf").write_bytes(b"issued by hand earlier")
    with pytest.raises(IssueFileExists):
        issue_case(case_file, out_dir=out, now=FIRST, render=fake_render, steps=[])
    assert (out / "SA-GC-20250905-017.pdf").read_bytes() == b"issued by hand earlier"


def test_reissue_of_a_never_issued_case_is_refused(tmp_path: Path) -> None:
    case_file = write_case(tmp_path / "case", slope())
    with pytest.raises(IssueRefused, match="尚未出具"):
        issue_case(case_file, out_dir=tmp_path / "o", reissue_reason="x", now=FIRST, render=fake_render, steps=[])


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
    env = {"GONGU_HOME": str(home)}
    first = runner.invoke(app, ["issue", str(case_file)], env=env)
    add_round(case_file, "2099-01-01")  # after "now": the reissue's fresh review round
    again = runner.invoke(app, ["issue", str(case_file), "--reissue", "--reason", "更正附件清单"], env=env)
    return {"first": first, "again": again, "dir": home / "issued" / "SAGC-2025-0712", "case_file": case_file}


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
    import gongu.issuing

    case_file = write_case(tmp_path / "case", slope())
    before = case_file.read_bytes()

    def disk_full(path: Path, data: dict) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(gongu.issuing, "write_case_data", disk_full)
    with pytest.raises(OSError):
        issue_case(case_file, out_dir=tmp_path / "issued", now=FIRST, render=fake_render, steps=[])
    assert case_file.read_bytes() == before
    assert [p for p in (tmp_path / "issued").rglob("*") if p.is_file()] == []
