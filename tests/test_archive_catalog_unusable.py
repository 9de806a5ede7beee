"""A catalog file that cannot be used (one header byte makes SQLite open it read-only; a folder where the
file should be) is a plain message naming the file and what SQLite says, exit 2, for audit, hold, ingest
and checkpoint; a failed ingest leaves no package on disk that the catalog does not list, and fsck names
any package on disk the catalog does not list."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archive import package
from gongu.cli.app import app
from tests.archivekit import Kit, add_archivists, copied_home, ingested_home, person_password, write_case
from tests.sealkit import example_case

runner = CliRunner()
CASE = "SAGC-2025-0712"


@pytest.fixture(scope="module")
def prepared(kit: Kit, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ingested_home(tmp_path_factory.mktemp("unusable"), kit)


def _bags(home: Path) -> list[str]:
    root = home / "archive" / "packages"
    return sorted(str(b.relative_to(root)) for b in package.iter_bags(root))


def _read_only(catalog: Path) -> None:
    """SQLite's file-format write version (header byte 18) above 2: the library opens the file read-only."""
    data = bytearray(catalog.read_bytes())
    data[18] = 3
    catalog.write_bytes(bytes(data))


def test_read_only_catalog_is_a_message_not_a_traceback(prepared: Path, kit: Kit, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    home = copied_home(prepared, tmp_path, monkeypatch)
    add_archivists(home, ["法务"])  # the hold is 法务's own decision (their password), refused only by the catalog
    monkeypatch.setenv("GONGU_PASSWORD", person_password("法务"))
    catalog = home / "archive" / "catalog.sqlite"
    _read_only(catalog)
    data = example_case()
    data["case_id"] = "RO-1"
    case = write_case(tmp_path / "c", data)
    before = _bags(home)
    for args in (["audit"],
                 ["hold", CASE, "--kind", "dispute", "--reason", "委托人有异议", "--reference", "函-1", "--by", "法务"],
                 ["ingest", str(case), "--report", str(kit.sealed_for(data)), "--by", "档案员甲"],
                 ["log", "checkpoint"]):
        result = runner.invoke(app, ["archive", *args])
        assert result.exit_code == 2, (args, result.output, result.exception)
        out = " ".join(result.output.split()).replace(" ", "")
        assert "档案目录数据库无法使用" in out and "attemptto" in out and "readonly" in out, (args, result.output)
        assert "catalog.sqlite" in out and "Traceback" not in result.output
    # the refused ingest took its package back: the shelf holds what the catalog lists, nothing more
    assert _bags(home) == before == [f"2025/{CASE}/SA-GC-20250905-017"]
    assert not (home / "archive" / "packages" / "2025" / "RO-1").exists()


def test_a_catalog_that_cannot_be_opened_names_the_path(prepared: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    home = copied_home(prepared, tmp_path, monkeypatch)
    catalog = home / "archive" / "catalog.sqlite"
    catalog.unlink()
    for extra in ("-wal", "-shm"):
        (home / "archive" / f"catalog.sqlite{extra}").unlink(missing_ok=True)
    catalog.mkdir()  # a folder where the file should be
    for args in (["audit"], ["fsck"], ["log", "checkpoint"]):
        result = runner.invoke(app, ["archive", *args])
        assert result.exit_code == 2, (args, result.output, result.exception)
        out = " ".join(result.output.split()).replace(" ", "")
        assert "unabletoopendatabasefile" in out and "无法打开" in out and "catalog.sqlite" in out, result.output


def test_fsck_names_a_package_on_disk_the_catalog_does_not_list(prepared: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    home = copied_home(prepared, tmp_path, monkeypatch)
    root = home / "archive" / "packages"
    stray = root / "2025" / "STRAY-1" / "SA-GC-20250905-017"
    shutil.copytree(root / "2025" / CASE / "SA-GC-20250905-017", stray)
    result = runner.invoke(app, ["archive", "fsck"])
    assert result.exit_code == 1, result.output
    assert "完整但未登记的档案包：2025/STRAY-1/SA-GC-20250905-017" in result.output


def test_a_catalog_whose_folder_cannot_be_made_names_the_path(prepared: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    home = copied_home(prepared, tmp_path, monkeypatch)
    (home / "blocker").write_text("a file where the catalog's folder should be", encoding="utf-8")
    toml = home / "gongu.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("[archive]\n", '[archive]\ncatalog = "blocker/catalog.sqlite"\n'),
                    encoding="utf-8")
    result = runner.invoke(app, ["archive", "audit"])
    assert result.exit_code == 2, (result.output, result.exception)
    out = " ".join(result.output.split()).replace(" ", "")
    # the first file read there (the pinned firm certificate, then the catalog) names the path
    assert "home/blocker/" in out and ("Notadirectory" in out or "Fileexists" in out)  # what the OS says
    assert "Traceback" not in result.output
