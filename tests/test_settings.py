"""gongu.toml is a typed model (issue 11): unknown keys and wrong types are errors that name the key, in
Chinese and English, exit code 2 from any command, never a traceback; a valid full file loads into
typed attributes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from generator.persons import person_key, same_person
from gongu.cli.app import app
from gongu.pipeline.archiving import archive_config
from gongu.settings import SettingsError, load_settings, parse_config

runner = CliRunner()

FULL = """
[paths]
index = "search-index"

[render]
templates = "firm-templates"

[index]
backend = "Tantivy"

[archive]
root = "/srv/gongu/packages"
catalog = "db/catalog.sqlite"
checkpoint_dir = "cp"
checkpoint_every = 7

[archive.retention.ordinary]
years = 20
title = "一般业务（本所延长）"

[signing]
firm_p12 = "keys/firm.p12"
tsa_url = "https://tsa.example.cn/tsa"
trust_roots = ["keys/trust/root.pem"]
crls = ["keys/trust/root.crl"]
fetch_revocation = false
ltv = true
seal_image = "seal.png"
location = "成都"

[signing.handlers]
"王志强" = "keys/handlers/wang.p12"

[signing.firms]
"贵州黔衡保险公估有限公司" = "/keys/firm-2.p12"

[people]
names = ["王志强", "赵丽", "Alice"]
"""


def _home(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "gongu.toml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("GONGU_HOME", str(home))
    return home


def test_a_valid_full_config_loads_into_typed_attributes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = _home(tmp_path, FULL, monkeypatch)
    s = load_settings()
    assert s.home == home.resolve()
    assert s.resolve(s.paths.index) == home.resolve() / "search-index"
    assert s.render.templates == "firm-templates"
    assert s.index.backend == "tantivy"  # engine names are not case-sensitive
    config = archive_config(s)
    assert config.root == Path("/srv/gongu/packages")  # absolute stays absolute
    assert config.catalog_path == home.resolve() / "db" / "catalog.sqlite"
    assert config.checkpoint_every == 7
    assert config.retention["ordinary"].years == 20 and config.retention["statutory"].years == 30
    signing = s.signing_config()
    assert signing is not None
    assert signing.firm_p12 == home.resolve() / "keys" / "firm.p12"
    assert signing.handlers == {"王志强": home.resolve() / "keys" / "handlers" / "wang.p12"}
    assert signing.firms == {"贵州黔衡保险公估有限公司": Path("/keys/firm-2.p12")}
    assert (signing.ltv, signing.fetch_revocation, signing.location) == (True, False, "成都")
    assert signing.trust_roots == (home.resolve() / "keys" / "trust" / "root.pem",)
    assert s.people.find("alice") == "Alice"


def test_no_file_means_defaults(tmp_path: Path) -> None:
    s = load_settings(tmp_path)
    assert s.signing is None and s.people.names == [] and s.index.backend is None
    assert archive_config(s).catalog_path == tmp_path.resolve() / "archive" / "catalog.sqlite"


@pytest.mark.parametrize("command", [["archive", "list"], ["index", "rebuild"], ["search", "边坡"],
                                     ["archive", "dispose"]])
def test_a_misspelt_key_is_exit_2_naming_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 command: list[str]) -> None:
    _home(tmp_path, '[signing]\nfirm_p12 = "firm.p12"\ntsa_ur = "http://127.0.0.1:1/tsa"\n', monkeypatch)
    result = runner.invoke(app, command)
    assert result.exit_code == 2, result.output
    out = " ".join(result.output.split())
    assert "signing.tsa_ur" in out and "未知的设置项" in out and "unknown key" in out
    assert "signing.tsa_url" in out  # the suggestion
    assert "Traceback" not in out


@pytest.mark.parametrize(("text", "key"), [
    ("[archive]\ncheckpoint_every = \"50\"\n", "archive.checkpoint_every"),
    ("[signing]\nfirm_p12 = \"f.p12\"\nltv = \"yes\"\n", "signing.ltv"),
    ("[signing]\nfirm_p12 = \"f.p12\"\ntrust_roots = \"root.pem\"\n", "signing.trust_roots"),
    ("[people]\nnames = \"赵丽\"\n", "people.names"),
    ("[index]\nbackend = \"lucene\"\n", "index.backend"),
    ("[archive]\ncheckpoint_every = 0\n", "archive.checkpoint_every"),
    ("[signing]\ntsa_url = \"x\"\n", "signing.firm_p12"),  # required when [signing] is there
    ("[archive.retention.ordinary]\nyears = 10\n", "archive.retention"),  # below the law (10.4)
    ("[archive.retention.forever]\nyears = 99\n", "archive.retention"),  # no such class
    ("[archive.retention.statutory]\nyears = 40\nlegal_minimum_years = 1\n",
     "archive.retention.statutory.legal_minimum_years"),  # the legal minimum is not a setting
    ("[paht]\nindex = \"i\"\n", "paht"),
])
def test_a_wrong_value_is_exit_2_naming_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                text: str, key: str) -> None:
    _home(tmp_path, text, monkeypatch)
    result = runner.invoke(app, ["archive", "list"])
    assert result.exit_code == 2, result.output
    out = " ".join(result.output.split())
    assert f"{key}：" in out and "设置有误" in out and "invalid settings" in out
    assert "Traceback" not in out


def test_wrong_type_names_the_value() -> None:
    with pytest.raises(SettingsError) as refused:
        parse_config('[archive]\ncheckpoint_every = "50"\n')
    assert "类型错误" in str(refused.value) and "wrong type" in str(refused.value) and "'50'" in str(refused.value)


def test_invalid_toml_is_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _home(tmp_path, "[signing\nfirm_p12 = 1\n", monkeypatch)
    result = runner.invoke(app, ["archive", "list"])
    assert result.exit_code == 2 and "不是有效的 TOML" in result.output and "Traceback" not in result.output


def test_the_installed_command_says_the_same_without_a_traceback(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "gongu.toml").write_text('[render]\ntemplate = "firm"\n', encoding="utf-8")
    gongu = Path(sys.executable).parent / "gongu"
    done = subprocess.run([str(gongu), "render", "examples/slope-collapse/case.json"], capture_output=True,
                          text=True, env={**os.environ, "GONGU_HOME": str(home), "COLUMNS": "200"},
                          cwd=Path(__file__).resolve().parent.parent, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "render.template：未知的设置项" in done.stderr and "render.templates" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


# ───────────────────────────── people (issue 12 item 2) ─────────────────────────────

def test_person_names_compare_normalised() -> None:
    assert same_person("Alice", "alice")
    assert same_person("b\u200bob", "bob")  # zero-width space (category Cf)
    assert same_person("Ａｌｉｃｅ", "alice")  # full-width letters (NFKC)
    assert same_person("赵\u200d丽", "赵丽") and same_person("\u202e赵丽", "赵丽")  # joiner, bidi override
    assert not same_person("赵丽", "赵莉")
    assert person_key("\u200b") == ""


def test_the_register_refuses_two_spellings_of_one_person() -> None:
    with pytest.raises(SettingsError, match="people.names") as refused:
        parse_config('[people]\nnames = ["Bob", "b\u200bob"]\n')
    assert "同一人" in str(refused.value)
    people = parse_config('[people]\nnames = ["Bob", "赵丽"]\n').people
    assert people.find("BOB") == "Bob" and people.find("b\u200bob") == "Bob" and people.find("Mallory") is None
    assert people.find("\u200b") is None


def test_a_hostile_value_is_quoted_verbatim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _home(tmp_path, '[render]\ntemplates = "firm"\ntheme = "[/x] [bold]y"\n', monkeypatch)
    result = runner.invoke(app, ["search", "边坡"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "render.theme" in result.output and "[/x] [bold]y" in result.output


# ───────────────────────────── the cross-page seal (骑缝章) ─────────────────────────────

def test_cross_page_seal_is_off_unless_set_and_reaches_the_signing_config(tmp_path: Path) -> None:
    base = '[signing]\nfirm_p12 = "f.p12"\n'
    off = parse_config(base).signing
    assert off is not None and off.to_config(tmp_path).cross_page_seal is False  # default: no strips
    on = parse_config(base + "cross_page_seal = true\n").signing
    assert on is not None and on.to_config(tmp_path).cross_page_seal is True


def test_cross_page_seal_must_be_a_boolean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _home(tmp_path, '[signing]\nfirm_p12 = "f.p12"\ncross_page_seal = "yes"\n', monkeypatch)
    result = runner.invoke(app, ["archive", "list"])
    assert result.exit_code == 2, result.output
    out = " ".join(result.output.split())
    assert "signing.cross_page_seal：" in out and "设置有误" in out and "Traceback" not in out
