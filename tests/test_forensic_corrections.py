"""通则 Art 41 end to end: a 补正书 is held against the opinion as issued — the case data inside the
really issued and sealed 意见书 (gongu issue, real WeasyPrint, pyHanko and the local TSA) — at
`gongu issue --additional` and in `gongu check`, never against the case file's own `changes_opinion`.

Example (a) (examples/forensic-joint-grade10) is issued once for the module, on 29 May 2026; each test
edits a copy of the issued case file, so the issued copy stays the example as it is: M1 十级伤残
(5.10.6.11), 误工期 180 days.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from generator.clock import FixedClock

ROOT = Path(__file__).resolve().parents[1]
JOINT = ROOT / "examples" / "forensic-joint-grade10"
CASE_ID = "SJ-2026-0318"
NUMBER = "蜀正司鉴〔2026〕临鉴字第0318号"
# The 补正书 below is dated 3 June: it is sealed that day (通则 Art 41: the document carries its sealing day).
CORRECTION_DAY = FixedClock(datetime(2026, 6, 3, 10, 0))
INSTITUTION = "四川蜀正司法鉴定中心"
APPRAISERS = [("唐志明", "510106012001"), ("邓晓梅", "510109013007")]
PASSPHRASE = "gongu-demo"
Edit = Any


@dataclass
class Issued:
    home: Path
    case_file: Path  # the case file as recorded by the first issue
    out: Path  # GONGU_HOME/issued/<case_id>/
    signer: Any
    pdf: Path  # the issued 意见书


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Issued]:
    from generator.clock import FixedClock
    from gongu.pipeline.issuing import issue_case
    from gongu.pipeline.sealing import ConfiguredSigner
    from gongu.settings import load_settings
    from signing.keys import make_demo_pki
    from signing.seal import SigningConfig
    from signing.tsa import LocalTsa
    from tests.sealkit import forensic_signing_home

    base = tmp_path_factory.mktemp("corrections")
    tsa = LocalTsa(base / "keys").start()
    try:
        pki = make_demo_pki(base / "keys", INSTITUTION, APPRAISERS, crl_url=tsa.crl_url,
                            seal_purposes={INSTITUTION: "司法鉴定专用章"})
        config = SigningConfig(firm_p12=pki.firm_p12, handlers=dict(pki.handler_p12), tsa_url=tsa.url,
                               trust_roots=(pki.root_pem,), crls=(pki.crl,))
        home = forensic_signing_home(base / "home", pki)
        folder = base / "case"
        shutil.copytree(JOINT, folder)
        signer = ConfiguredSigner(config, lambda *_: PASSPHRASE.encode())
        first = issue_case(folder / "case.json", signer=signer, settings=load_settings(home),
                           clock=FixedClock(datetime(2026, 5, 29, 10, 0)))  # to GONGU_HOME/issued/<case_id>/
        yield Issued(home, folder / "case.json", home / "issued" / CASE_ID, signer, first.files["pdf"])
    finally:
        tsa.stop()


def later(world: Issued, tmp: Path, *edits: Edit) -> Path:
    """A copy of the issued case file (with its recorded issuance), edited after the issue."""
    folder = tmp / "later"
    shutil.copytree(world.case_file.parent, folder)
    data = json.loads((folder / "case.json").read_text("utf-8"))
    for edit in edits:
        edit(data)
    (folder / "case.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), "utf-8")
    return folder / "case.json"


def correction(d: dict) -> None:
    """A 补正书 of 3 June correcting a date in 基本情况, declared not to touch the opinion."""
    d["corrections"] = [{"number": "蜀正司鉴补〔2026〕第1号", "issued_on": "2026-06-03",
                         "items": [{"location": "第2页 基本情况", "before": "受理日期：2026年5月12日",
                                    "after": "受理日期：2026年5月11日"}],
                         "reason": "受理日期笔误", "signed_by": ["唐志明"], "changes_opinion": False}]


def regrade(d: dict) -> None:
    """九级伤残 instead of the issued 十级伤残, the words edited to match."""
    d["results"][0].update(grade=9, clause="5.9.6.1", text=d["results"][0]["text"].replace("十级伤残", "九级伤残"))


def review_again(d: dict) -> None:
    """The 补正书 passes 校对, 复核 and 签发 after the issue (通则 Art 35): approvals older than it are stale."""
    d["reviews"] += [{"level": level, "reviewer": who, "at": at, "decision": "approve"} for level, who, at in (
        ("proofread", "王一帆", "2026-06-04T09:00:00"), ("recheck", "宋建华", "2026-06-04T11:00:00"),
        ("approve", "罗永康", "2026-06-04T16:00:00"))]


def text_of(pdf: Path) -> str:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True, text=True)
    return re.sub(r"\s+", "", out.stdout)


def test_the_issued_pdf_carries_the_reference(issued: Issued) -> None:
    from generator.loading import load_case
    from gongu.pipeline.issued_opinion import find_issued_opinion
    from gongu.settings import load_settings

    found = find_issued_opinion(load_case(issued.case_file).case, load_settings(issued.home))
    assert found.problems == [] and found.opinion is not None
    assert found.opinion.source == str(issued.pdf) and found.opinion.number == NUMBER
    # The case data as it was rendered: the example's M1 result, 十级伤残 under 5.10.6.11.
    m1 = found.opinion.data["results"][0]
    assert (m1["matter"], m1["grade"], m1["clause"]) == ("M1", 10, "5.10.6.11")


def test_additional_correction_that_regrades_is_refused_citing_art_41(issued: Issued, tmp_path: Path) -> None:
    from generator.issuance import IssueRefused
    from gongu.pipeline.issuing import issue_additional
    from gongu.settings import load_settings

    case_file = later(issued, tmp_path, regrade, correction, review_again)
    before, published = case_file.read_bytes(), sorted(issued.out.glob("*.pdf"))
    with pytest.raises(IssueRefused) as err:
        issue_additional(case_file, signer=issued.signer, settings=load_settings(issued.home), clock=CORRECTION_DAY)
    reasons = err.value.reasons
    # Only the Art 41 findings refuse it: grade, clause and words each differ from the issued copy.
    assert len(reasons) == 3 and all(r.startswith("[通则 Art 41]") for r in reasons), reasons
    assert [re.search(r"（(\$[^）]*)）$", r)[1] for r in reasons] == [  # type: ignore[index]
        "$.results[0].grade", "$.results[0].clause", "$.results[0].text"]
    assert "出具时为「10」，现为「9」" in reasons[0] and "却记载不涉及鉴定意见" in reasons[0]
    assert "须补充鉴定或重新鉴定" in reasons[0]
    # Nothing published, nothing recorded.
    assert case_file.read_bytes() == before and sorted(issued.out.glob("*.pdf")) == published


def test_check_holds_the_case_against_the_issued_pdf(issued: Issued, tmp_path: Path) -> None:
    from gongu.cli.app import app

    env = {"GONGU_HOME": str(issued.home)}
    runner = CliRunner()
    # The issued case as recorded: compared with its issued copy, nothing differs.
    same = runner.invoke(app, ["check", str(issued.case_file), "--stage", "review"], env=env)
    assert same.exit_code == 0, same.output
    assert "已与已出具的鉴定意见书核对" in same.output
    # 误工期 180 → 200 days with no 补正书 at all: a blocking finding on the period, exit 1.
    case_file = later(issued, tmp_path, lambda d: d["results"][1].update(days=200))
    changed = runner.invoke(app, ["check", str(case_file), "--json", "--stage", "review"], env=env)
    assert changed.exit_code == 1, changed.output
    payload = json.loads(changed.stdout)
    (f,) = payload["findings"]
    assert (f["rule"], f["clause"], f["severity"], f["path"], f["value"]) == (
        "forensic.correction.opinion_as_issued", "通则 Art 41", "blocking", "$.results[1].days", 200)
    assert payload["issued_opinion"] == str(issued.pdf)
    # Without the issued copy under GONGU_HOME the comparison cannot run: said so, not silently passed.
    empty = runner.invoke(app, ["check", str(case_file), "--stage", "review"],
                          env={"GONGU_HOME": str(tmp_path / "elsewhere")})
    assert empty.exit_code == 0 and "未找到已出具的鉴定意见书" in empty.output and "Traceback" not in empty.output


def test_a_copy_that_is_not_the_issued_file_is_not_the_reference(issued: Issued, tmp_path: Path) -> None:
    """A file of the issued name whose SHA-256 is not the recorded one is named and passed over; the
    copy in GONGU_HOME/issued/<case_id>/ is used."""
    from generator.loading import load_case
    from gongu.pipeline.issued_opinion import find_issued_opinion
    from gongu.settings import load_settings

    other = tmp_path / "other"
    other.mkdir()
    (other / issued.pdf.name).write_bytes(issued.pdf.read_bytes() + b"\n%")
    found = find_issued_opinion(load_case(issued.case_file).case, load_settings(issued.home), out_dir=other)
    (problem,) = found.problems
    assert str(other / issued.pdf.name) in problem and "SHA-256" in problem
    assert found.opinion is not None and found.opinion.source == str(issued.pdf)


def test_a_recorded_file_name_with_a_folder_is_not_followed(issued: Issued, tmp_path: Path) -> None:
    """`issuances[].pdf_file` names a file in the issue folder; a path (../…) typed into the case file is
    reported, never read."""
    from generator.loading import load_case
    from gongu.pipeline.issued_opinion import find_issued_opinion
    from gongu.settings import load_settings

    outside = lambda d: d["issuances"][0].update(pdf_file="../../" + issued.pdf.name)  # noqa: E731
    found = find_issued_opinion(load_case(later(issued, tmp_path, outside)).case, load_settings(issued.home))
    (problem,) = found.problems
    assert found.opinion is None and "../../" in problem and "$.issuances" in problem


def test_a_correction_is_not_issued_unchecked(issued: Issued, tmp_path: Path) -> None:
    """With no issued copy where it is looked for, --additional refuses a 补正书 and says where it looked."""
    from generator.issuance import IssueRefused
    from gongu.pipeline.issuing import issue_additional
    from gongu.settings import load_settings

    home = tmp_path / "home"
    shutil.copytree(issued.home, home, ignore=shutil.ignore_patterns("issued"))
    case_file = later(issued, tmp_path, correction, review_again)
    with pytest.raises(IssueRefused) as err:
        issue_additional(case_file, signer=issued.signer, settings=load_settings(home), clock=CORRECTION_DAY)
    (reason,) = err.value.reasons
    assert reason.startswith("[通则 Art 41] 未找到已出具的司法鉴定意见书") and str(home / "issued" / CASE_ID) in reason


def test_a_wording_correction_is_issued_and_keeps_the_opinion(issued: Issued, tmp_path: Path) -> None:
    from gongu.pipeline.issuing import issue_additional
    from gongu.settings import load_settings

    out = tmp_path / "out"
    shutil.copytree(issued.out, out)  # issued here: the module's folder stays as the first issue left it
    case_file = later(issued, tmp_path, correction, review_again)
    result = issue_additional(case_file, signer=issued.signer, settings=load_settings(issued.home), out_dir=out,
                              clock=CORRECTION_DAY)
    assert set(result.documents) == {"correction-1"}
    title, files = result.documents["correction-1"]
    flat = text_of(files["pdf"])
    assert title == "司法鉴定意见补正书" and "不改变原鉴定意见" in flat and "受理日期：2026年5月11日" in flat


def test_after_archiving_the_package_is_the_reference(issued: Issued, tmp_path: Path) -> None:
    """Once ingested, the 意见书 inside the archive package is the issued copy, even with the issue folder
    gone: a later change of the grade is still found by `gongu check`."""
    from archive.ingest import ingest
    from generator.loading import load_case
    from gongu.cli.app import app
    from gongu.pipeline.issued_opinion import find_issued_opinion
    from gongu.settings import load_settings
    from tests.archivekit import open_archive

    home = tmp_path / "home"
    shutil.copytree(issued.home, home, ignore=shutil.ignore_patterns("issued"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GONGU_FIRM_KEY_PASSPHRASE", PASSPHRASE)
        with open_archive(home) as archive:
            package = Path(ingest(archive, load_case(issued.case_file), issued.pdf, by="档案员甲").path)
    found = find_issued_opinion(load_case(issued.case_file).case, load_settings(home))
    assert found.opinion is not None and Path(found.opinion.source).is_relative_to(package)
    case_file = later(issued, tmp_path, regrade)
    result = CliRunner().invoke(app, ["check", str(case_file), "--json", "--stage", "review"],
                                env={"GONGU_HOME": str(home)})
    assert result.exit_code == 1, result.output
    paths = [f["path"] for f in json.loads(result.stdout)["findings"] if f["rule"] == "forensic.correction.opinion_as_issued"]
    assert paths == ["$.results[0].grade", "$.results[0].clause", "$.results[0].text"]


def test_the_workspace_findings_hold_the_case_against_the_issued_copy(issued: Issued, tmp_path: Path) -> None:
    """The web workspace's case page lists what `gongu check` lists (gongu.pipeline.forensic_workspace)."""
    from generator.loading import load_case
    from gongu.pipeline.forensic_workspace import findings_by_clause
    from gongu.settings import load_settings

    loaded = load_case(later(issued, tmp_path, lambda d: d["results"][2].update(days=60)))
    (group,) = findings_by_clause(loaded, settings=load_settings(issued.home))
    (f,) = group.findings
    assert (group.clause, f.rule, f.path, f.value) == ("通则 Art 41", "forensic.correction.opinion_as_issued",
                                                       "$.results[2].days", 60)
    assert findings_by_clause(loaded) == []  # without settings nothing is looked for


def test_a_reissue_that_regrades_is_refused_citing_art_41(issued: Issued, tmp_path: Path) -> None:
    """`gongu issue --reissue` of a forensic opinion is held against the issued opinion it supersedes:
    a changed grade needs 补充鉴定 or 重新鉴定, and nothing is rendered or recorded."""
    from generator.clock import FixedClock
    from generator.issuance import IssueRefused
    from gongu.pipeline.issuing import issue_case
    from gongu.settings import load_settings

    case_file = later(issued, tmp_path, regrade, review_again)
    before, published = case_file.read_bytes(), sorted(issued.out.glob("*.pdf"))
    with pytest.raises(IssueRefused) as err:
        issue_case(case_file, signer=issued.signer, settings=load_settings(issued.home), reissue_reason="更正伤残等级",
                   clock=FixedClock(datetime(2026, 6, 5, 10, 0)))
    reasons = err.value.reasons
    assert len(reasons) == 3 and all(r.startswith("[通则 Art 41]") for r in reasons), reasons
    assert f"重新出具（{NUMBER}R1 替代 {NUMBER}）不得改变鉴定意见" in reasons[0] and "$.results[0].grade" in reasons[0]
    assert case_file.read_bytes() == before and sorted(issued.out.glob("*.pdf")) == published


def test_the_archive_refuses_a_case_file_whose_results_left_the_issued_opinion(issued: Issued, tmp_path: Path) -> None:
    """Ingest holds the case file against the 意见书 it archives: a package must not keep a 九级 case file
    beside a 十级 opinion (通则 Art 41)."""
    from archive.ingest import IngestRefused, ingest
    from generator.loading import load_case
    from tests.archivekit import open_archive

    home = tmp_path / "home"
    shutil.copytree(issued.home, home, ignore=shutil.ignore_patterns("issued"))
    case_file = later(issued, tmp_path, regrade)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GONGU_FIRM_KEY_PASSPHRASE", PASSPHRASE)
        with open_archive(home) as archive, pytest.raises(IngestRefused) as err:
            ingest(archive, load_case(case_file), issued.pdf, by="档案员甲")
    art_41 = [r for r in err.value.reasons if r.startswith("[通则 Art 41]")]
    assert [r.rsplit("（", 1)[1] for r in art_41] == ["$.results[0].grade）", "$.results[0].clause）",
                                                     "$.results[0].text）"]
    assert not list((home / "archive").rglob("bagit.txt"))


def test_cli_issue_additional_lists_the_art_41_reasons(issued: Issued, tmp_path: Path) -> None:
    from generator.clock import SYSTEM_CLOCK
    from generator.types import beijing_date
    from gongu.cli.app import app

    # The CLI seals today: the 补正书 is dated today, so only the Art 41 findings refuse it.
    today = beijing_date(SYSTEM_CLOCK.now()).isoformat()
    dated_today = lambda d: d["corrections"][0].update(issued_on=today)  # noqa: E731
    case_file = later(issued, tmp_path, regrade, correction, dated_today, review_again)
    env = {"GONGU_HOME": str(issued.home), "GONGU_FIRM_KEY_PASSPHRASE": PASSPHRASE}
    result = CliRunner().invoke(app, ["issue", str(case_file), "--additional"], env=env)
    assert result.exit_code == 1, result.output
    assert "不予出具" in result.output and "（3 项原因）" in result.output
    assert result.output.count("[通则 Art 41]") == 3 and "$.results[0].grade" in result.output
    assert "Traceback" not in result.output
