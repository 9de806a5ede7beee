"""docs/package-format.md is enough to read a package: a real package, ingested through Gongu, is read
here with the standard library, `bagit` and that page's rules only (issue 11). The search record
stored in the package keeps old packages searchable when the case model changes (issue 12, item 12)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import bagit
import pytest
from typer.testing import CliRunner

from generator.loading import load_case
from gongu.cli.app import app
from tests.archivekit import Kit, copied_home, ingested_home
from tests.sealkit import example_case

runner = CliRunner()
DOC = Path(__file__).resolve().parent.parent / "docs" / "package-format.md"
REL = "2025/SAGC-2025-0712/SA-GC-20250905-017"


@pytest.fixture(scope="module")
def prepared(kit: Kit, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ingested_home(tmp_path_factory.mktemp("prepared"), kit)


@pytest.fixture()
def home(prepared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return copied_home(prepared, tmp_path, monkeypatch)


def _package(home: Path) -> Path:
    return home / "archive" / "packages" / REL


# ───────────── the reading part: standard library, bagit and docs/package-format.md only ─────────────

def _documented_roles() -> set[str]:
    """The roles table of section 4 of the format page."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## 4. Roles", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE))


def read_as_documented(folder: Path) -> dict[str, Any]:
    """Read and check a package by the rules of docs/package-format.md; returns metadata.json."""
    assert (folder / "bagit.txt").read_text(encoding="utf-8").splitlines() == [
        "BagIt-Version: 0.97", "Tag-File-Character-Encoding: UTF-8"]  # section 1
    bagit.Bag(str(folder)).validate()  # section 2: manifests, tag manifests, completeness
    for manifest in ("manifest-sha256.txt", "tagmanifest-sha256.txt"):  # section 2, with sha256sum
        done = subprocess.run(["sha256sum", "-c", manifest], cwd=folder, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    assert meta["schema"] == "gongu-archive-package/1"  # section 3: check the version first
    manifest = {}
    for line in (folder / "manifest-sha256.txt").read_text(encoding="utf-8").splitlines():
        digest, name = line.split(maxsplit=1)
        manifest[name] = digest
    roles = _documented_roles()
    on_disk = sorted(p.relative_to(folder).as_posix() for p in (folder / "data").rglob("*") if p.is_file())
    listed = [f["path"] for f in meta["files"]]
    assert sorted(listed) == on_disk and len(set(listed)) == len(listed)  # each file exactly once
    for f in meta["files"]:
        data = (folder / f["path"]).read_bytes()
        assert len(data) == f["size"], f["path"]
        assert hashlib.sha256(data).hexdigest() == f["sha256"] == manifest[f["path"]], f["path"]
        assert f["role"] in roles, f["role"]
    assert meta["totals"] == {"files": len(meta["files"]), "bytes": sum(f["size"] for f in meta["files"])}
    assert {"report", "case_file", "calculation", "review_record"} <= {f["role"] for f in meta["files"]}
    # retention.until = start + years, the start the latest of closure, issuance and ingest (section 3)
    facts = meta["retention"]["facts"]
    start = max(date.fromisoformat(d) for d in facts.values() if d)
    assert meta["retention"]["start"] == start.isoformat() and facts["closure"] == meta["dates"]["closure"][:10]
    assert meta["retention"]["counted_from"] in ("closure", "issuance", "ingest")
    assert date.fromisoformat(meta["retention"]["until"]) == start.replace(year=start.year + meta["retention"]["years"])
    # section 6: the search record, its own version
    record = json.loads((folder / "search-record.json").read_text(encoding="utf-8"))
    assert record["schema"] == "gongu-search-record/1"
    assert (record["case_id"], record["report_number"]) == (meta["case_id"], meta["report"]["number"])
    # section 7: the case file embedded in the report, with pdfdetach
    report = next(folder / f["path"] for f in meta["files"] if f["role"] == "report")
    listing = subprocess.run(["pdfdetach", "-list", str(report)], capture_output=True, text=True, check=True).stdout
    assert "case.json" in listing
    out = folder.parent / "issued-case.json"
    subprocess.run(["pdfdetach", "-save", "1", "-o", str(out), str(report)], check=True, capture_output=True)
    issued = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    assert (issued["case_id"], issued["report"]["number"]) == (meta["case_id"], meta["report"]["number"])
    return meta


# ──────────────────────────────────────────── tests ────────────────────────────────────────────

@pytest.mark.skipif(shutil.which("pdfdetach") is None or shutil.which("sha256sum") is None,
                    reason="poppler-utils / coreutils not installed")
def test_a_real_package_reads_with_standard_tools_and_the_format_page(home: Path, tmp_path: Path) -> None:
    copy = tmp_path / "2056" / "package"
    shutil.copytree(_package(home), copy)  # what an archivist finds on a disk decades later
    meta = read_as_documented(copy)
    # worked out from examples/slope-collapse/case.json: closed 2025-10-16, ordinary work, 15 years
    assert meta["case_id"] == "SAGC-2025-0712" and meta["report"]["number"] == "SA-GC-20250905-017"
    assert meta["retention"]["class"] == "ordinary" and meta["retention"]["until"] == "2040-10-16"
    roles = {f["path"]: f["role"] for f in meta["files"]}
    assert roles["data/case/case.json"] == "case_file"
    assert roles["data/report/SA-GC-20250905-017.pdf"] == "report"
    assert json.loads((copy / "data" / "case" / "case.json").read_bytes()) == example_case()


def test_one_changed_byte_fails_the_documented_reading(home: Path, tmp_path: Path) -> None:
    copy = tmp_path / "package"
    shutil.copytree(_package(home), copy)
    target = copy / "data" / "working-papers" / "calculation.csv"
    data = bytearray(target.read_bytes())
    data[-2] ^= 0x01
    target.write_bytes(bytes(data))
    with pytest.raises(bagit.BagValidationError):
        read_as_documented(copy)


def test_the_search_record_is_written_at_ingest(home: Path) -> None:
    record = json.loads((_package(home) / "search-record.json").read_text(encoding="utf-8"))
    # from the example case file: two handlers, three approving reviewers, claimed 1,168,000 yuan
    assert record["handlers"] == ["王志强", "陈晓梅"]
    assert record["reviewers"] == ["赵丽", "孙立军", "刘建国"]
    assert record["claimed_fen"] == 116_800_000
    assert record["loss_date"] == "2025-07-11"
    assert record["cause"].startswith("连续强降雨致坡体饱水失稳")
    assert "search-record.json" in (_package(home) / "tagmanifest-sha256.txt").read_text(encoding="utf-8")


def _rewrite_case_file(package: Path, data: dict[str, Any]) -> None:
    """Change a package's case file and bring metadata.json and every manifest along, as the format
    page says they must agree (an old package as a later model would find it)."""
    raw = (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    (package / "data" / "case" / "case.json").write_bytes(raw)
    meta = json.loads((package / "metadata.json").read_text(encoding="utf-8"))
    for f in meta["files"]:
        if f["path"] == "data/case/case.json":
            f["size"], f["sha256"] = len(raw), hashlib.sha256(raw).hexdigest()
    meta["totals"]["bytes"] = sum(f["size"] for f in meta["files"])
    (package / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    bagit.Bag(str(package)).save(manifests=True)
    bagit.Bag(str(package)).validate()


def _search(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["search", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_a_case_file_todays_model_rejects_is_still_indexed_from_its_record(home: Path) -> None:
    package = _package(home)
    old = json.loads((package / "data" / "case" / "case.json").read_text(encoding="utf-8"))
    old["field_of_an_older_model"] = "旧版本字段"  # today's model forbids unknown keys
    del old["policy"]  # …and requires the policy
    _rewrite_case_file(package, old)
    with pytest.raises(Exception):  # noqa: B017 — any validation error: the point is that it fails today
        load_case(package / "data" / "case" / "case.json")
    shutil.rmtree(home / "index")
    result = runner.invoke(app, ["index", "rebuild"])
    assert result.exit_code == 0, result.output
    hits = _search("承办人:陈晓梅")["hits"]
    assert [h["doc_id"] for h in hits] == [REL]
    assert hits[0]["policy_number"] == example_case()["policy"]["number"]  # from metadata.json / the record


def test_a_package_without_a_record_falls_back_to_the_case_file_and_is_reported_when_it_fails(home: Path) -> None:
    package = _package(home)
    (package / "search-record.json").unlink()
    bagit.Bag(str(package)).save(manifests=False)
    shutil.rmtree(home / "index")
    result = runner.invoke(app, ["index", "rebuild"])
    assert result.exit_code == 0, result.output  # the case file still validates: read with today's model
    assert [h["doc_id"] for h in _search("承办人:陈晓梅")["hits"]] == [REL]
    old = json.loads((package / "data" / "case" / "case.json").read_text(encoding="utf-8"))
    del old["policy"]
    _rewrite_case_file(package, old)
    result = runner.invoke(app, ["index", "rebuild"])
    assert result.exit_code == 2
    assert REL in result.output and "1 个档案包未能读取" in result.output


def test_rebuild_reports_every_package_it_cannot_read(home: Path) -> None:
    (_package(home) / "metadata.json").write_text("{ not json", encoding="utf-8")
    result = runner.invoke(app, ["index", "rebuild"])
    assert result.exit_code == 2
    assert REL in result.output and "metadata.json" in result.output and "1 个档案包未能读取" in result.output
