"""Keys and GONGU_HOME: `gongu keys demo` writes its gongu.toml snippet with paths relative to GONGU_HOME
(gongu.toml resolves against it), so a copied home uses its own keys; a missing firm passphrase is
named as missing, not as a wrong one."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gongu.cli.app import app
from gongu.settings import load_settings
from tests.archivekit import Kit, write_home

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "pile-collapse"


def _examples(tmp_path: Path) -> Path:
    folder = tmp_path / "examples" / "a"
    folder.mkdir(parents=True)
    shutil.copy(EXAMPLE / "case.json", folder / "case.json")
    return folder.parent


def test_keys_demo_paths_are_relative_to_the_home_and_a_copied_home_uses_its_own_keys(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "office" / "home"
    home.mkdir(parents=True)
    monkeypatch.setenv("GONGU_HOME", str(home))
    monkeypatch.chdir(tmp_path)  # run from elsewhere, naming the folder relative to the current directory
    result = runner.invoke(app, ["keys", "demo", "office/home/keys", "--examples", str(_examples(tmp_path))])
    assert result.exit_code == 0, result.output
    snippet = (home / "keys" / "gongu.toml.snippet").read_text(encoding="utf-8")
    signing = tomllib.loads(snippet)["signing"]
    assert signing["firm_p12"] == "keys/firm.p12" and signing["trust_roots"] == ["keys/trust/root.pem"]
    assert all(not Path(p).is_absolute() and p.startswith("keys/") for p in signing["handlers"].values())
    (home / "gongu.toml").write_text(snippet, encoding="utf-8")

    copy = tmp_path / "copy"
    shutil.copytree(home, copy)
    shutil.rmtree(home)  # the old home is gone: the copy must not need it
    cfg = load_settings(copy).signing_config()
    assert cfg is not None and cfg.firm_p12 == copy / "keys" / "firm.p12" and cfg.firm_p12.is_file()
    assert cfg.trust_roots == (copy / "keys" / "trust" / "root.pem",)


def test_keys_outside_the_home_are_written_as_absolute_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GONGU_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["keys", "demo", "elsewhere", "--examples", str(_examples(tmp_path))])
    assert result.exit_code == 0, result.output
    signing = tomllib.loads((tmp_path / "elsewhere" / "gongu.toml.snippet").read_text(encoding="utf-8"))["signing"]
    assert signing["firm_p12"] == str(tmp_path / "elsewhere" / "firm.p12")


def test_a_missing_firm_passphrase_is_reported_as_missing(kit: Kit, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    home = write_home(tmp_path / "home", kit)
    monkeypatch.setenv("GONGU_HOME", str(home))
    monkeypatch.delenv("GONGU_FIRM_KEY_PASSPHRASE", raising=False)
    result = runner.invoke(app, ["archive", "log", "checkpoint"])
    out = result.output.replace("\n", "")
    assert result.exit_code == 2 and "未设置环境变量 GONGU_FIRM_KEY_PASSPHRASE" in out, result.output
    assert "口令错误" not in out
    monkeypatch.setenv("GONGU_FIRM_KEY_PASSPHRASE", "not-the-passphrase")
    result = runner.invoke(app, ["archive", "log", "checkpoint"])
    assert result.exit_code == 2 and "口令错误" in result.output.replace("\n", ""), result.output
