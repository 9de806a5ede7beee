"""An office whose share is not mounted never writes a second archive (archive/identity.py).

Two offices (成都, 贵阳) share one PostgreSQL catalog and one package tree. 成都 runs `gongu archive
init` and ingests; then 贵阳's mount point is empty (the share is not mounted), missing, or holds
another archive: ingest, hold, disposal, checkpoint and the index commands refuse with exit 2, name the
path and say the share looks unmounted; nothing is created there (no package, no pin, no identity),
the shared catalog is unchanged; audit and fsck say "check the mount", not "restore from backup". With
the share back, the same commands pass."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from generator.clock import FixedClock
from gongu.cli.app import app
from signing.keys import DEMO_PASSPHRASE
from tests.archivekit import Kit, add_archivists, by_env, write_case, write_home
from tests.sealkit import example_case
from tests.storekit import execute

runner = CliRunner()
LATER = FixedClock.parse("2090-01-05T10:00:00+08:00")  # past every retention end of the example


def _office(base: Path, name: str, kit: Kit, url: str, shared: Path) -> Path:
    home = write_home(base / name, kit, store_url=url, init=False)
    config = home / "gongu.toml"
    text = config.read_text(encoding="utf-8").replace("[archive]\n", f'[archive]\nroot = "{shared / "packages"}"\n')
    config.write_text(text, encoding="utf-8")
    return home


def _cli(monkeypatch: pytest.MonkeyPatch, home: Path, *args: str, clock: FixedClock | None = None) -> tuple[int, str]:
    monkeypatch.setenv("GONGU_HOME", str(home))
    monkeypatch.setenv("GONGU_FIRM_KEY_PASSPHRASE", DEMO_PASSPHRASE)
    for name, value in by_env(args).items():  # the person named by --by types their own password
        monkeypatch.setenv(name, value)
    result = runner.invoke(app, list(args), obj=clock)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def _case(kit: Kit, folder: Path, case_id: str) -> tuple[Path, Path]:
    data = example_case()
    data["case_id"] = case_id
    return write_case(folder, data), kit.sealed_for(data)


def _catalog_counts(home: Path) -> tuple[int, int, int, int]:
    return tuple(execute(home, f"SELECT count(*) FROM {t}")[0][0]  # type: ignore[return-value]
                 for t in ("packages", "events", "holds", "disposals"))


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else ["<absent>"]


@pytest.fixture
def offices(kit: Kit, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    shared = tmp_path / "shared"
    homes = {name: _office(tmp_path, name, kit, pg_url, shared) for name in ("chengdu", "guiyang")}
    add_archivists(homes["chengdu"], ["档案员甲", "主任乙", "档案员丙"])  # accounts live in the shared catalog
    code, out = _cli(monkeypatch, homes["chengdu"], "archive", "init", "--by", "档案员甲")
    assert code == 0 and "已初始化档案" in out, out
    identity = json.loads((shared / "packages" / "gongu-archive.json").read_text(encoding="utf-8"))
    assert identity["archive_id"] in out
    case, report = _case(kit, tmp_path / "c1", "MNT-1")
    code, out = _cli(monkeypatch, homes["chengdu"], "archive", "ingest", str(case), "--report", str(report),
                     "--by", "档案员甲")
    assert code == 0, out
    # the second office needs no init of its own: the shared catalog and the shared tree agree
    code, out = _cli(monkeypatch, homes["guiyang"], "archive", "init")
    assert code == 0 and "已初始化过" in out, out
    return {**homes, "shared": shared}


def _refusals(monkeypatch: pytest.MonkeyPatch, home: Path, root: Path, kit: Kit, tmp_path: Path) -> list[str]:
    """Every writing command from `home`: each must exit 2 with the path and the mount message."""
    case, report = _case(kit, tmp_path / "c2", "MNT-2")
    commands = [
        ("archive", "ingest", str(case), "--report", str(report), "--by", "档案员丙"),
        ("archive", "hold", "MNT-1", "--reason", "诉讼", "--reference", "（2026）川01民初1号", "--kind", "litigation",
         "--by", "档案员丙"),
        ("archive", "release", "MNT-1", "--reason", "结案", "--by", "档案员丙"),
        ("archive", "dispose", "propose", "MNT-1", "--by", "档案员甲"),
        ("archive", "dispose", "approve", "MNT-1", "--by", "主任乙"),
        ("archive", "dispose", "execute", "MNT-1", "--by", "档案员甲"),
        ("archive", "log", "checkpoint"),
        ("archive", "fsck", "--repair"),
        ("index", "sync"),
        ("index", "rebuild"),
    ]
    outputs = []
    for args in commands:
        code, out = _cli(monkeypatch, home, *args, clock=LATER)
        flat = out.replace("\n", "")
        assert code == 2, (args, out)
        assert str(root) in flat and ("未挂载" in flat or "错误的共享目录" in flat), (args, out)
        assert "Traceback" not in out and "从备份恢复" not in flat, (args, out)
        outputs.append(flat)
    return outputs


def test_an_unmounted_share_refuses_every_write_and_creates_nothing(
        offices: dict[str, Path], kit: Kit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    guiyang, shared = offices["guiyang"], offices["shared"]
    root = shared / "packages"
    mounted = shared / "share-on-the-server"
    root.rename(mounted)
    root.mkdir()  # the office's empty mount point
    before = _catalog_counts(guiyang)

    outputs = _refusals(monkeypatch, guiyang, root, kit, tmp_path)
    assert all("未写入任何内容" in out or "archive root" in out for out in outputs)
    # the section name is printed as written, not eaten as markup (spaces dropped: rich wraps at any width)
    assert "[archive]root" in "".join(outputs[0].split())
    assert _tree(root) == []  # no packages/, no .tmp, no firm-certificate.pem, no identity
    assert _catalog_counts(guiyang) == before  # the shared catalog saw nothing

    # audit and fsck tell the unmounted share from lost packages
    code, out = _cli(monkeypatch, guiyang, "archive", "audit")
    flat = out.replace("\n", "")
    assert code == 1 and "未挂载" in flat and "check the mount" in flat and "从备份恢复" not in flat, out
    code, out = _cli(monkeypatch, guiyang, "archive", "fsck")
    flat = out.replace("\n", "")
    assert code == 1 and "未挂载" in flat and "从备份恢复" not in flat, out
    assert _tree(root) == []
    # a search hit whose package is not there: check the mount, not an incident
    code, out = _cli(monkeypatch, guiyang, "search", "MNT-1")
    flat = out.replace("\n", "")
    assert code == 0 and "档案包不在磁盘上" in flat and "未挂载" in flat and "从备份恢复" not in flat, out

    # a mount point that does not exist at all is not created either
    root.rmdir()
    _refusals(monkeypatch, guiyang, root, kit, tmp_path)
    assert not root.exists()
    assert _catalog_counts(guiyang) == before

    # the share back: everything passes, from either office
    mounted.rename(root)
    case, report = _case(kit, tmp_path / "c2", "MNT-2")
    for args, clock in [
        (("archive", "ingest", str(case), "--report", str(report), "--by", "档案员丙"), None),
        (("archive", "hold", "MNT-2", "--reason", "诉讼", "--reference", "（2026）川01民初1号", "--kind",
          "litigation", "--by", "档案员丙"), None),
        (("archive", "dispose", "propose", "MNT-1", "--by", "档案员甲"), LATER),
        (("archive", "dispose", "approve", "MNT-1", "--by", "主任乙"), LATER),
        (("archive", "dispose", "execute", "MNT-1", "--by", "档案员甲"), LATER),
        (("archive", "log", "checkpoint"), LATER),
        (("index", "sync"), LATER),
        (("archive", "fsck"), LATER),
    ]:
        code, out = _cli(monkeypatch, guiyang, *args, clock=clock)
        assert code == 0, (args, out)
    code, out = _cli(monkeypatch, offices["chengdu"], "archive", "audit", clock=LATER)
    assert code == 0, out
    packages, *_ = _catalog_counts(guiyang)
    assert packages == 2


def test_a_foreign_share_is_refused_and_init_does_not_start_a_second_archive(
        offices: dict[str, Path], kit: Kit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    guiyang, shared = offices["guiyang"], offices["shared"]
    root = shared / "packages"
    real = json.loads((root / "gongu-archive.json").read_text(encoding="utf-8"))
    away = shared / "away"
    root.rename(away)
    root.mkdir()
    # init on an empty mount point of an initialised archive: refused, nothing written
    code, out = _cli(monkeypatch, guiyang, "archive", "init")
    assert code == 2 and "未挂载" in out.replace("\n", "") and "不会在此另建档案" in out.replace("\n", ""), out
    assert _tree(root) == []
    # another archive's share mounted at the path
    (root / "gongu-archive.json").write_text(json.dumps({**real, "archive_id": "another-archive"}), encoding="utf-8")
    outputs = _refusals(monkeypatch, guiyang, root, kit, tmp_path)
    assert all("another-archive" in out for out in outputs[:1])
    code, out = _cli(monkeypatch, guiyang, "archive", "audit")
    assert code == 1 and "错误的共享目录" in out.replace("\n", ""), out
    shutil.rmtree(root)
    away.rename(root)
    code, out = _cli(monkeypatch, guiyang, "archive", "fsck")
    assert code == 0, out


def test_a_new_home_must_be_initialised_before_the_first_ingest(kit: Kit, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    home = write_home(tmp_path / "home", kit, init=False)
    case, report = _case(kit, tmp_path / "c", "NEW-1")
    code, out = _cli(monkeypatch, home, "archive", "ingest", str(case), "--report", str(report), "--by", "甲")
    assert code == 2 and "gongu archive init" in out.replace("\n", ""), out
    assert not (home / "archive" / "packages").exists()
    assert not (home / "archive" / "firm-certificate.pem").exists()
    code, out = _cli(monkeypatch, home, "archive", "init")
    assert code == 0 and "机构证书已固定" in out, out
    assert (home / "archive" / "packages" / "gongu-archive.json").is_file()
    code, out = _cli(monkeypatch, home, "archive", "ingest", str(case), "--report", str(report), "--by", "甲")
    assert code == 0, out
    # the package tree of an archive from before identities: init checks that the root holds the
    # catalog's packages before writing the identity
    os.remove(home / "archive" / "packages" / "gongu-archive.json")
    execute(home, "DELETE FROM archive_identity")
    moved = tmp_path / "moved"
    (home / "archive" / "packages").rename(moved)
    code, out = _cli(monkeypatch, home, "archive", "init")
    assert code == 2 and "未挂载" in out.replace("\n", ""), out
    assert not (home / "archive" / "packages").exists()
    moved.rename(home / "archive" / "packages")
    code, out = _cli(monkeypatch, home, "archive", "init")
    assert code == 0 and "已初始化档案" in out, out
