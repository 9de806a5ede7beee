"""Ingest and packages (clause 10.1–10.3): BagIt bags with SHA-256/SHA-512 manifests, metadata and a
Chinese README as tag files, refusals, idempotence, reissues beside the original, hostile names,
crash safety and concurrent ingest."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import bagit
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from archive.eventlog import verify_log
from archive.fsck import fsck
from archive.ingest import IngestRefused, ingest
from archive.names import UnsafePathError, inside, relative_inside, safe_component
from archive.package import iter_bags, validate
from generator.adjust import adjust, adjustment_to_dict
from generator.loading import load_case
from generator.types import beijing_date
from gongu.cli.app import app
from gongu.pipeline.archiving import build_archive
from gongu.pipeline.indexing import open_index
from gongu.settings import load_settings
from index.maintenance import index_drift
from tests import storekit
from tests.archivekit import Kit, reissue_of, write_case, write_home
from tests.sealkit import example_case

REPO = Path(__file__).resolve().parent.parent
runner = CliRunner()


@pytest.fixture()
def home(tmp_path: Path, kit: Kit, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Path:
    """SQLite, or the store a test asks for with BOTH_STORES (tests/storekit.py)."""
    h = write_home(tmp_path / "home", kit, store_url=storekit.store_url(request, getattr(request, "param", "sqlite")))
    monkeypatch.setenv("GONGU_HOME", str(h))
    monkeypatch.setenv("GONGU_FIRM_KEY_PASSPHRASE", "gongu-demo")
    return h


# The ingest rules that read and write the catalog run against both catalogs; the crash and concurrency
# tests here are SQLite's (their PostgreSQL counterparts: tests/test_store_postgres.py).
BOTH_STORES = pytest.mark.parametrize("home", storekit.STORES, indirect=True)


@pytest.fixture()
def case_path(tmp_path: Path) -> Path:
    return write_case(tmp_path / "case", example_case())


def _open(home: Path):  # noqa: ANN202
    return build_archive(load_settings(home))


def _ingest(home: Path, case: Path, report: Path, **kw):  # noqa: ANN003, ANN202
    with _open(home) as archive:
        return ingest(archive, load_case(case), report, by=kw.pop("by", "档案员甲"), **kw)


def test_10_2_package_is_a_valid_bag_with_both_manifests(home: Path, kit: Kit, case_path: Path, tmp_path: Path) -> None:
    audio = tmp_path / "询问录音 1.m4a"
    audio.write_bytes(b"\x00\x00\x00\x18ftypM4A fake audio for the test")
    with _open(home) as archive:
        result = ingest(archive, load_case(case_path), kit.sealed, extras=[("audio", audio)], by="档案员甲")
    bag_dir = result.path
    assert bag_dir == home / "archive" / "packages" / "2025" / "SAGC-2025-0712" / "SA-GC-20250905-017"
    bag = bagit.Bag(str(bag_dir))
    assert bag.is_valid()  # the bagit library checks every file under both algorithms
    assert set(bag.algorithms) == {"sha256", "sha512"}
    tag_lines = (bag_dir / "tagmanifest-sha256.txt").read_text(encoding="utf-8")
    assert "metadata.json" in tag_lines and "README.txt" in tag_lines  # tag files covered by tag manifests

    meta = json.loads((bag_dir / "metadata.json").read_text(encoding="utf-8"))
    roles = {f["path"]: f["role"] for f in meta["files"]}
    assert roles["data/report/SA-GC-20250905-017.pdf"] == "report"
    assert roles["data/case/case.json"] == "case_file"
    assert roles["data/working-papers/calculation.json"] == "calculation"
    assert roles["data/working-papers/survey-records.json"] == "survey_records"
    assert roles["data/working-papers/inquiry-records.json"] == "inquiry_records"
    assert roles["data/review/reviews.json"] == "review_record"
    assert [r for r in roles.values() if r == "photo"] == ["photo"] * len(example_case()["survey"]["photos"])
    assert roles["data/media/询问录音_1.m4a".replace("询问录音_1", safe_component("询问录音 1.m4a")[:-4])] == "audio"
    # the case file is archived as its exact bytes, the report too
    assert (bag_dir / "data/case/case.json").read_bytes() == case_path.read_bytes()
    assert (bag_dir / "data/report/SA-GC-20250905-017.pdf").read_bytes() == kit.sealed.read_bytes()
    # each file entry: size and SHA-256 of what is on disk
    for f in meta["files"]:
        data = (bag_dir / f["path"]).read_bytes()
        assert f["size"] == len(data) and f["sha256"] == hashlib.sha256(data).hexdigest()
    assert meta["totals"] == {"files": len(meta["files"]), "bytes": sum(f["size"] for f in meta["files"])}
    # the calculation working paper is the engine's own result
    calc = json.loads((bag_dir / "data/working-papers/calculation.json").read_text(encoding="utf-8"))
    loaded = load_case(case_path)
    assert calc == json.loads(json.dumps(adjustment_to_dict(loaded.case, adjust(loaded.case)), ensure_ascii=False))
    assert meta["amounts"]["total_payable"] == calc["totals"]["total_payable"]
    csv_text = (bag_dir / "data/working-papers/calculation.csv").read_text(encoding="utf-8-sig")
    assert csv_text.splitlines()[0] == "clause,label,formula,inputs,result,kind"
    assert len(csv_text.splitlines()) == len(calc["steps"]) + 1
    readme = (bag_dir / "README.txt").read_text(encoding="utf-8")
    assert "公估档案包说明" in readme and "sha256sum" in readme and "SAGC-2025-0712" in readme


def test_10_4_metadata_parties_dates_and_retention(home: Path, kit: Kit, tmp_path: Path) -> None:
    data = example_case()
    result = _ingest(home, write_case(tmp_path / "c", data), kit.sealed)
    meta = json.loads((result.path / "metadata.json").read_text(encoding="utf-8"))
    assert meta["schema"] == "gongu-archive-package/1"
    assert meta["parties"]["insurer"] == data["policy"]["insurer"]
    assert meta["parties"]["insured"] == data["policy"]["insured"]
    assert meta["parties"]["policyholder"] == data["policy"]["policyholder"]
    assert meta["dates"]["closure"].startswith(data["delivery"]["closed_at"])
    # ordinary work: 15 years (10.4) from the latest of closure (2025-10-16), issuance and ingest (today)
    ingested = beijing_date(datetime.fromisoformat(meta["ingest"]["at"]))
    assert meta["retention"] == {**meta["retention"], "class": "ordinary", "years": 15, "counted_from": "ingest",
                                 "start": ingested.isoformat(),
                                 "facts": {"closure": "2025-10-16", "issuance": None, "ingest": ingested.isoformat()},
                                 "until": ingested.replace(year=ingested.year + 15).isoformat()}

    statutory = copy.deepcopy(data)
    statutory["case_id"] = "SAGC-2025-0999"
    statutory["statutory"] = True
    for i, h in enumerate(statutory["handlers"]):  # statutory work: licensed appraisers sign (资产评估法 Art. 28)
        h["licensed_appraiser"], h["licence_no"] = True, h.get("licence_no") or f"LIC-{i}"
    with _open(home) as archive:
        res = ingest(archive, load_case(write_case(tmp_path / "s", statutory)), kit.sealed_for(statutory), by="档案员甲")
        row = archive.catalog.packages("SAGC-2025-0999")[0]
    assert row["retention_class"] == "statutory"
    assert row["retention_until"] == ingested.replace(year=ingested.year + 30).isoformat()  # 30 years (10.4)
    assert res.created


@BOTH_STORES
def test_reingest_same_content_is_idempotent(home: Path, kit: Kit, case_path: Path) -> None:
    first = _ingest(home, case_path, kit.sealed)
    before = (first.path / "metadata.json").read_bytes()
    second = _ingest(home, case_path, kit.sealed, by="另一人")
    assert first.created and not second.created and second.path == first.path
    assert (first.path / "metadata.json").read_bytes() == before  # untouched
    with _open(home) as archive:
        assert len(archive.catalog.packages()) == 1
        assert [e.kind for e in archive.catalog.events()] == ["ingest"]
    assert len(list(iter_bags(home / "archive" / "packages"))) == 1
    assert not list((home / "archive" / "packages" / ".tmp").iterdir())  # no temp left behind


@BOTH_STORES
def test_same_report_number_with_other_content_is_refused(home: Path, kit: Kit, case_path: Path, tmp_path: Path) -> None:
    first = _ingest(home, case_path, kit.sealed)
    before = {p: p.read_bytes() for p in first.path.rglob("*") if p.is_file()}
    changed = example_case()
    changed["case_name"] += "（改）"
    with pytest.raises(IngestRefused, match="R 后缀"):
        _ingest(home, write_case(tmp_path / "changed", changed), kit.sealed)
    assert {p: p.read_bytes() for p in first.path.rglob("*") if p.is_file()} == before


@BOTH_STORES
def test_reissue_is_added_beside_the_original(home: Path, kit: Kit, case_path: Path, tmp_path: Path) -> None:
    original = _ingest(home, case_path, kit.sealed)
    original_hash = (original.path / "tagmanifest-sha256.txt").read_bytes()
    reissue = _ingest(home, write_case(tmp_path / "r1", reissue_of(example_case())), kit.sealed_reissue)
    assert reissue.path.parent == original.path.parent
    assert reissue.path.name == "SA-GC-20250905-017R1"
    assert (original.path / "tagmanifest-sha256.txt").read_bytes() == original_hash
    assert not validate(original.path) and not validate(reissue.path)
    meta = json.loads((reissue.path / "metadata.json").read_text(encoding="utf-8"))
    assert meta["report"]["supersedes"] == "SA-GC-20250905-017"


@pytest.mark.parametrize(("field", "reason"), [("delivered_at", "报告交付时间"), ("fee_received_at", "公估费到账时间"),
                                              ("closed_at", "结案时间")])
def test_10_1_refused_without_delivery_or_fee(home: Path, kit: Kit, tmp_path: Path, field: str, reason: str) -> None:
    data = example_case()
    data["delivery"][field] = None
    path = write_case(tmp_path / "c", data)
    with pytest.raises(IngestRefused) as info:
        _ingest(home, path, kit.sealed)
    assert any(reason in r and ("10.1" in r or "10.4" in r) for r in info.value.reasons)
    result = runner.invoke(app, ["archive", "ingest", str(path), "--report", str(kit.sealed), "--by", "甲"])
    assert result.exit_code == 2 and reason in result.output
    assert "[10.1]" in result.output or "[10.4]" in result.output  # clause kept, not eaten as markup
    assert not list(iter_bags(home / "archive" / "packages"))


def test_refused_when_report_does_not_verify(home: Path, kit: Kit, case_path: Path, tmp_path: Path) -> None:
    with pytest.raises(IngestRefused, match="签章核验未通过"):
        _ingest(home, case_path, kit.unsealed)
    tampered = tmp_path / "tampered.pdf"
    data = bytearray(kit.sealed.read_bytes())
    i = data.index(b"stream", 2000) + 20  # inside a signed content stream
    data[i] ^= 0x01
    tampered.write_bytes(bytes(data))
    result = runner.invoke(app, ["archive", "ingest", str(case_path), "--report", str(tampered), "--by", "甲"])
    assert result.exit_code == 2 and "签章核验未通过" in result.output
    assert not list(iter_bags(home / "archive" / "packages"))


def test_refused_when_the_sealed_report_belongs_to_another_case(home: Path, kit: Kit, tmp_path: Path) -> None:
    data = example_case()
    data["case_id"] = "OTHER-1"
    with pytest.raises(IngestRefused, match="不是本案件 OTHER-1"):
        _ingest(home, write_case(tmp_path / "o", data), kit.sealed)
    reissue = reissue_of(example_case())
    with pytest.raises(IngestRefused, match="报告 SA-GC-20250905-017，不是本案件"):
        _ingest(home, write_case(tmp_path / "r", reissue), kit.sealed)
    assert not list(iter_bags(home / "archive" / "packages"))


HOSTILE = ["../../x", "/etc/passwd", "a\x00b", "..", ".", "x" * 400, "報告/../../逃逸", "C:\\Windows\\x", "-rf", " ", "a/b"]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_stay_inside(tmp_path: Path, name: str) -> None:
    cleaned = safe_component(name)
    assert "/" not in cleaned and "\\" not in cleaned and "\x00" not in cleaned
    assert cleaned not in ("", ".", "..") and not cleaned.startswith(".")
    assert len(cleaned.encode()) <= 120
    assert inside(tmp_path, cleaned).parent == tmp_path
    assert safe_component(name) != safe_component(name + "1")  # no collisions through cleaning


@given(st.text(min_size=1, max_size=300))
def test_safe_component_property(name: str) -> None:
    cleaned = safe_component(name)
    assert "/" not in cleaned and "\x00" not in cleaned and not cleaned.startswith(".")
    assert 0 < len(cleaned.encode("utf-8")) <= 120


def test_hostile_photo_paths_are_refused(tmp_path: Path) -> None:
    base = tmp_path / "case"
    base.mkdir()
    for bad in ("../../etc/passwd", "/etc/hostname", "photos/\x00.jpg", "..\\..\\x", "C:/x.jpg"):
        with pytest.raises(UnsafePathError):
            relative_inside(base, bad)
    outside = tmp_path / "secret.jpg"
    outside.write_bytes(b"secret")
    (base / "link.jpg").symlink_to(outside)
    with pytest.raises(UnsafePathError):  # a symlink leading out of the case folder
        relative_inside(base, "link.jpg")


def test_hostile_report_number_and_photo_name_in_a_real_ingest(home: Path, kit: Kit, tmp_path: Path) -> None:
    data = example_case()
    data["report"]["number"] = "../../../../tmp/逃逸\x00" + "长" * 30  # within the 50 characters a number may have
    original_photo = data["survey"]["photos"][0]["file"]
    data["survey"]["photos"][0]["file"] = "../outside.jpg"
    (tmp_path / "outside.jpg").write_bytes(b"\xff\xd8\xff")
    path = write_case(tmp_path / "c", data, photos=False)
    (tmp_path / "c" / "photos").mkdir()
    for p in data["survey"]["photos"][1:]:
        (tmp_path / "c" / p["file"]).write_bytes(b"\xff\xd8\xff\xe0")
    with pytest.raises(IngestRefused, match="案件文件夹"):
        _ingest(home, path, kit.sealed_for(data))
    data["survey"]["photos"][0]["file"] = original_photo
    path = write_case(tmp_path / "c2", data, photos=True)
    result = _ingest(home, path, kit.sealed_for(data))
    root = (home / "archive" / "packages").resolve()
    assert root in result.path.resolve().parents
    assert result.path.parent.parent.parent == home / "archive" / "packages"  # <root>/<year>/<case>/<report>
    assert len(result.path.name.encode()) <= 120
    assert not list(tmp_path.glob("**/逃逸*"))


def test_missing_photo_is_refused(home: Path, kit: Kit, tmp_path: Path) -> None:
    path = write_case(tmp_path / "c", example_case(), photos=False)
    with pytest.raises(IngestRefused, match="照片 P01 的文件不存在"):
        _ingest(home, path, kit.sealed)


# ─────────────────────────────── crash safety and concurrency (6) ───────────────────────────────

def _worker(home: Path, case: Path, report: Path, by: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    full = {**os.environ, "GONGU_HOME": str(home), "GONGU_FIRM_KEY_PASSPHRASE": "gongu-demo", **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "tests.archive_worker", "ingest", str(home), str(case), str(report), by],
                            cwd=REPO, env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _assert_invariant(home: Path) -> None:
    """Every bag on disk is complete and valid; every catalog row has its bag; the log verifies."""
    root = home / "archive" / "packages"
    for bag in iter_bags(root):
        assert not validate(bag), bag
    with _open(home) as archive:
        report = fsck(archive)
        assert not report.missing_packages and not report.invalid_packages
        assert verify_log(archive.catalog).ok
        fsck(archive, repair=True)
        assert fsck(archive).clean
        rows = archive.catalog.packages()
        assert len(rows) == len(list(iter_bags(root)))
        assert len([e for e in archive.catalog.events() if e.kind.startswith("ingest")]) == len(rows)
        # … and the index agrees with the catalog: opening the archive applied any index work a killed
        # ingest left queued (issue 12.6), fsck's registrations were indexed as they were committed
        drift = index_drift(open_index(load_settings(home)), archive.catalog)
        assert drift.clean, drift.lines()


@pytest.mark.parametrize("point", ["after_payload", "after_bag", "before_rename", "after_rename", "before_index",
                                   "after_commit"])
def test_crash_at_each_step_leaves_nothing_or_a_complete_package(home: Path, kit: Kit, case_path: Path, point: str) -> None:
    proc = _worker(home, case_path, kit.sealed, "甲", {"GONGU_ARCHIVE_CRASH_AT": point})
    proc.communicate(timeout=120)
    assert proc.returncode == 137
    bags = list(iter_bags(home / "archive" / "packages"))
    assert len(bags) == (1 if point in ("after_rename", "before_index", "after_commit") else 0)
    _assert_invariant(home)
    again = _ingest(home, case_path, kit.sealed)  # re-running the ingest completes or joins
    assert again.path.is_dir()
    _assert_invariant(home)


def test_sigkill_at_random_moments(home: Path, kit: Kit, tmp_path: Path) -> None:
    rng = random.Random(6)
    for i in range(3):
        data = example_case()
        data["case_id"] = f"KILL-{i}"
        path = write_case(tmp_path / f"k{i}", data)
        proc = _worker(home, path, kit.sealed_for(data), "甲")
        time.sleep(rng.uniform(0.5, 4.0))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=120)
        _assert_invariant(home)


def test_concurrent_ingest_of_different_and_same_cases(home: Path, kit: Kit, tmp_path: Path) -> None:
    jobs = []
    for i in range(3):
        data = example_case()
        data["case_id"] = f"PAR-{i}"
        jobs.append((write_case(tmp_path / f"p{i}", data), kit.sealed_for(data)))
    jobs.append(jobs[0])  # the same case twice at once
    procs = [_worker(home, p, report, f"员{i}") for i, (p, report) in enumerate(jobs)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    assert sorted(o[0].split()[0] for o in outputs) == ["CREATED", "CREATED", "CREATED", "EXISTING"]
    with _open(home) as archive:
        assert sorted(r["case_id"] for r in archive.catalog.packages()) == ["PAR-0", "PAR-1", "PAR-2"]
        assert [e.seq for e in archive.catalog.events()] == [0, 1, 2]
    _assert_invariant(home)


@BOTH_STORES
def test_cli_ingest_with_audio_video_and_attachment(home: Path, kit: Kit, case_path: Path, tmp_path: Path) -> None:
    audio, video, note = tmp_path / "询问.mp3", tmp_path / "现场.mp4", tmp_path / "会议纪要.pdf"
    audio.write_bytes(b"ID3\x03fake mp3")
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42fake")
    note.write_bytes(kit.unsealed.read_bytes())
    result = runner.invoke(app, ["archive", "ingest", str(case_path), "--report", str(kit.sealed), "--by", "档案员乙",
                                 "--add", str(audio), "--add", f"video={video}", "--add", f"attachment={note}"])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["archive", "list", "--json"])
    rows = json.loads(listed.output)
    today = beijing_date(datetime.now(UTC))  # ingested now: kept 15 years from today (10.4)
    assert [(r["case_id"], r["state"], r["retention_until"]) for r in rows] == [
        ("SAGC-2025-0712", "active", today.replace(year=today.year + 15).isoformat())]
    bag = home / "archive" / "packages" / rows[0]["path"]
    meta = json.loads((bag / "metadata.json").read_text(encoding="utf-8"))
    roles = {f["role"]: f for f in meta["files"] if f["role"] in ("audio", "video", "attachment")}
    assert roles["audio"]["media_type"] == "audio/mpeg" and roles["audio"]["path"].startswith("data/media/")
    assert roles["video"]["media_type"] == "video/mp4"
    assert roles["attachment"]["path"].startswith("data/attachments/")
    bad = runner.invoke(app, ["archive", "ingest", str(case_path), "--report", str(kit.sealed), "--add", "x=/nope"])
    assert bad.exit_code == 2 and "附加文件不存在" in bad.output


@BOTH_STORES
def test_ingest_refuses_when_the_catalogued_package_is_missing_from_disk(home: Path, kit: Kit, case_path: Path) -> None:
    import shutil

    first = _ingest(home, case_path, kit.sealed)
    shutil.rmtree(first.path)
    with pytest.raises(IngestRefused, match="不在磁盘上"):
        _ingest(home, case_path, kit.sealed)


def test_10_2_attachment_files_named_by_the_case_are_archived(home: Path, kit: Kit, tmp_path: Path) -> None:
    data = example_case()
    data["attachments"][0]["file"] = "docs/委托书.pdf"
    folder = tmp_path / "c"
    (folder / "docs").mkdir(parents=True)
    (folder / "docs" / "委托书.pdf").write_bytes(kit.unsealed.read_bytes())
    result = _ingest(home, write_case(folder, data), kit.sealed)
    meta = json.loads((result.path / "metadata.json").read_text(encoding="utf-8"))
    attached = [f for f in meta["files"] if f["role"] == "attachment"]
    assert len(attached) == 1 and attached[0]["sha256"] == hashlib.sha256(kit.unsealed.read_bytes()).hexdigest()
    data["case_id"] = "ATT-2"
    data["attachments"][0]["file"] = "../../../etc/passwd"
    with pytest.raises(IngestRefused, match="案件文件夹"):
        _ingest(home, write_case(tmp_path / "d", data), kit.sealed_for(data))


def test_a_failed_bag_validation_is_returned_not_logged_to_stderr(tmp_path: Path) -> None:
    """Found by the issue-12 probe: `gongu archive audit` printed bagit's raw "sha256 validation failed:
    expected=… found=…" lines on stderr beside its own report (item 14's class: alarming, unreadable)."""
    bag_dir = tmp_path / "bag"
    bag_dir.mkdir()
    (bag_dir / "file.txt").write_text("original", encoding="utf-8")
    bagit.make_bag(str(bag_dir), checksums=["sha256"])
    (bag_dir / "data" / "file.txt").write_text("changed!", encoding="utf-8")  # same length, other bytes
    script = f"from archive.package import validate; print(len(validate(__import__('pathlib').Path({str(bag_dir)!r}))))"
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) == 1  # the failure is returned to the caller …
    assert proc.stderr == ""  # … and not also logged raw


def test_the_calculation_working_paper_keeps_case_text_out_of_formulas() -> None:
    """10.2 working papers: an insured item named like a formula is a text cell of calculation.csv (a leading
    apostrophe), while clause numbers and amounts are written as they are."""
    import csv
    import io

    from archive.ingest import working_papers
    from generator.loading import LoadedCase, validate_data
    from tests.car_case_factory import build_data, item, loss

    data = build_data(items=[item("I1", "1000000", "1000000", name="=HYPERLINK(1)")],
                      losses=[loss("L1", "I1", "1", "5000")])
    raw = json.dumps(data, ensure_ascii=False).encode("utf-8")
    loaded = LoadedCase(case=validate_data(data, "<test>"), source=Path("case.json"), raw=raw)
    paper = next(p for p in working_papers(loaded) if p.rel == "working-papers/calculation.csv")
    assert paper.content is not None
    rows = list(csv.reader(io.StringIO(paper.content.decode("utf-8-sig"))))
    labels = [r[1] for r in rows[1:]]
    assert "'=HYPERLINK(1) 投保比例" in labels and not any(label.startswith("=") for label in labels)
    # 1 × 5,000 with a full sum insured: the loss line's amount stays a plain number
    assert any(r[4] == "5000.00" for r in rows[1:])
