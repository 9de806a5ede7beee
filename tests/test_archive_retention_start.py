"""10.4 counted from facts the system saw: the retention start is the latest of the closure recorded in
the case file, the issuance the system recorded (the issuing step's `issuances[].issued_at`, a trusted
RFC 3161 time on the sealed report) and the ingest. A case whose `closed_at` was typed twenty years back,
issued and archived today, is kept 15 years from today — it used to be listed 可销毁, proposed, approved
and destroyed three minutes after its ingest. A closure dated before the report's own date is a blocking
finding at the archive stage (10.1: closure follows the delivered report)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from archive.disposal import DisposalRefused, eligibility, propose
from archive.ingest import IngestRefused, ingest
from generator.loading import load_case
from generator.rules import blocking_reasons
from tests.archivekit import Kit, open_archive, reissue_of, write_case, write_home
from tests.sealkit import example_case

CASE = "SAGC-2025-0712"
INGEST = "2026-12-07T19:50:00+08:00"
THREE_MINUTES_LATER = "2026-12-07T19:53:00+08:00"


def _twenty_years_back(data: dict) -> dict:  # type: ignore[type-arg]
    """The example with its report, delivery and closure dated in 2006 (a consistent, old case file)."""
    data["report"]["issued_on"] = "2006-03-01"
    data["delivery"].update(delivered_at="2006-03-02T10:00:00", fee_received_at="2006-03-03T10:00:00",
                            closed_at="2006-03-04T09:00:00")
    return data


@pytest.fixture()
def home(kit: Kit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from signing.keys import DEMO_PASSPHRASE

    monkeypatch.setenv("GONGU_FIRM_KEY_PASSPHRASE", DEMO_PASSPHRASE)
    return write_home(tmp_path / "home", kit)


def test_10_4_a_closure_typed_twenty_years_back_does_not_make_todays_package_disposable(
        home: Path, kit: Kit, tmp_path: Path) -> None:
    data = _twenty_years_back(example_case())
    with open_archive(home, INGEST) as archive:
        result = ingest(archive, load_case(write_case(tmp_path / "c", data)), kit.sealed, by="档案员甲")
    meta = json.loads((result.path / "metadata.json").read_text(encoding="utf-8"))
    # closure 2006-03-04 + 15 = 2021-03-04 would have passed; counted from the ingest: 2026-12-07 + 15
    assert {k: meta["retention"][k] for k in ("counted_from", "start", "until", "facts")} == {
        "counted_from": "ingest", "start": "2026-12-07", "until": "2041-12-07",
        "facts": {"closure": "2006-03-04", "issuance": None, "ingest": "2026-12-07"}}
    with open_archive(home, THREE_MINUTES_LATER) as archive:
        (row,) = archive.catalog.packages(CASE)
        assert row["retention_until"] == "2041-12-07"
        (elig,) = eligibility(archive)
        assert not elig.eligible and any("保管期限至 2041-12-07，尚未届满（10.4）" in r for r in elig.reasons)
        with pytest.raises(DisposalRefused, match="2041-12-07，尚未届满"):
            propose(archive, CASE, by="档案员甲")
    with open_archive(home, "2041-12-06T23:59:00+08:00") as archive:
        assert not eligibility(archive)[0].eligible
    with open_archive(home, "2041-12-07T09:00:00+08:00") as archive:  # 15 years after the ingest: due
        assert eligibility(archive)[0].eligible


def test_10_4_the_recorded_issuance_moves_the_start_when_it_is_the_latest(home: Path, kit: Kit, tmp_path: Path) -> None:
    data = example_case()  # closed 2025-10-16
    data["issuances"] = [{"number": data["report"]["number"], "issued_at": "2025-11-02T15:00:00+08:00",
                          "sealed": True}]
    with open_archive(home, "2025-10-20T10:00:00+08:00") as archive:  # a clock behind the issuance
        result = ingest(archive, load_case(write_case(tmp_path / "c", data)), kit.sealed, by="档案员甲")
    meta = json.loads((result.path / "metadata.json").read_text(encoding="utf-8"))
    assert (meta["retention"]["counted_from"], meta["retention"]["start"], meta["retention"]["until"]) == (
        "issuance", "2025-11-02", "2040-11-02")
    assert meta["retention"]["facts"] == {"closure": "2025-10-16", "issuance": "2025-11-02", "ingest": "2025-10-20"}


def test_10_1_a_closure_before_the_report_date_blocks_archiving(home: Path, kit: Kit, tmp_path: Path) -> None:
    data = example_case()  # report dated 2025-09-05
    data["delivery"]["closed_at"] = "2025-09-04T09:00:00"
    loaded = load_case(write_case(tmp_path / "c", data))
    expected = ("[10.1] 结案时间（$.delivery.closed_at）2025-09-04 早于报告出具日期（$.report.issued_on）2025-09-05："
                "报告出具、交付之后方可结案，保管期限不能从报告出具前起算（$.delivery.closed_at）")
    assert expected in blocking_reasons(loaded.case, stage="archive")
    assert expected not in blocking_reasons(loaded.case, stage="review")  # a warning before archiving
    # a reissue (…R1) may be dated after the closure of the case whose report it corrects
    reissue = reissue_of(example_case())
    reissue["report"]["issued_on"] = "2025-11-01"
    assert not [r for r in blocking_reasons(load_case(write_case(tmp_path / "r1", reissue)).case, stage="archive")
                if "结案时间" in r]
    with open_archive(home, "2025-10-16T17:00:00+08:00") as archive, pytest.raises(IngestRefused) as refused:
        ingest(archive, loaded, kit.sealed, by="档案员甲")
    assert expected in refused.value.reasons
    with open_archive(home) as archive:
        assert archive.catalog.packages() == []


def test_art_42_a_forensic_closure_before_the_opinion_blocks_archiving(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[1] / "examples" / "forensic-joint-grade10"
    data = json.loads((example / "case.json").read_text(encoding="utf-8"))  # opinion dated 2026-05-29
    data["delivery"]["closed_at"] = "2026-05-28T23:30:00+08:00"
    folder = tmp_path / "case"
    shutil.copytree(example, folder)
    (folder / "case.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    reasons = blocking_reasons(load_case(folder / "case.json").case, stage="archive")
    assert [r for r in reasons if "结案时间" in r] == [
        "[通则 Art 42] 结案时间（$.delivery.closed_at）2026-05-28 早于报告出具日期（$.report.issued_on）2026-05-29："
        "报告出具、交付之后方可结案，保管期限不能从报告出具前起算（$.delivery.closed_at）"]
