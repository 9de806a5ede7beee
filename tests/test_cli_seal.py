"""`gongu seal`, `gongu verify` and the seal step of `gongu issue`, as a user runs them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sealkit import World, sample_report
from typer.testing import CliRunner

from gongu.cli import app

runner = CliRunner()
GOOD_ENV = {"GONGU_FIRM_KEY_PASSPHRASE": "gongu-demo", "GONGU_HANDLER_KEY_PASSPHRASE": "gongu-demo"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("cli-seal"))
    home = w.root / "home"
    home.mkdir()
    (home / "gongu.toml").write_text(w.toml(), encoding="utf-8")
    yield w
    w.close()


def _env(world: World, **extra: str) -> dict[str, str]:
    return {"GONGU_HOME": str(world.root / "home"), **GOOD_ENV, **extra}


@pytest.fixture(scope="module")
def sealed(world: World) -> Path:
    out = world.root / "cli-sealed.pdf"
    result = runner.invoke(app, ["seal", str(world.report), "-o", str(out)], env=_env(world))
    assert result.exit_code == 0, result.output
    return out


def test_seal_writes_a_new_file_and_keeps_the_original(world: World, sealed: Path) -> None:
    original = world.report.read_bytes()
    sealed_bytes = sealed.read_bytes()
    # Incremental: the sealed file starts with the rendered report, byte for byte.
    assert sealed_bytes[: len(original)] == original and len(sealed_bytes) > len(original)
    assert not list(sealed.parent.glob(".*.tmp"))  # the atomic write left no temp file


def test_verify_passes_with_exit_0_and_json(world: World, sealed: Path) -> None:
    result = runner.invoke(app, ["verify", str(sealed), "--json"], env=_env(world))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is True
    assert [s["field"] for s in data["signatures"]] == ["firm-seal", "handler-1", "handler-2"]
    assert all(s["timestamp"] and s["timestamp"]["trusted"] for s in data["signatures"])


def test_verify_table_names_signers(world: World, sealed: Path) -> None:
    result = runner.invoke(app, ["verify", str(sealed)], env=_env(world))
    assert result.exit_code == 0
    assert "王志强" in result.output and "陈晓梅" in result.output and "DocMDP P=2" in result.output


def test_verify_with_a_foreign_root_exits_1_with_reasons(world: World, sealed: Path, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    from signing.keys import make_root

    other = tmp_path / "other.pem"
    other.write_bytes(make_root("Other Root").cert.public_bytes(serialization.Encoding.PEM))
    result = runner.invoke(app, ["verify", str(sealed), "--trust", str(other)], env=_env(world))
    assert result.exit_code == 1
    assert "不受信任" in result.output and "not trusted" in result.output


def test_verify_a_tampered_copy_exits_1(world: World, sealed: Path, tmp_path: Path) -> None:
    data = bytearray(sealed.read_bytes())
    pos = data.index(b"WeasyPrint") + 2
    data[pos] ^= 0x20
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(bytes(data))
    result = runner.invoke(app, ["verify", str(bad), "--json"], env=_env(world))
    assert result.exit_code == 1
    assert any("篡改" in p for p in json.loads(result.stdout)["all_problems"])


def test_wrong_passphrase_exit_2_no_traceback(world: World) -> None:
    """Run as a user does (the installed entry point): message, exit 2, no traceback, no file."""
    out = world.root / "wrong-pass.pdf"
    gongu = Path(sys.executable).with_name("gongu")
    env = {**os.environ, **_env(world, GONGU_FIRM_KEY_PASSPHRASE="wrong")}
    proc = subprocess.run([str(gongu), "seal", str(world.report), "-o", str(out)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert "口令错误" in proc.stderr and "wrong passphrase" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "wrong" not in proc.stderr.replace("wrong passphrase", "")  # the passphrase is never echoed
    assert not out.exists()


def test_no_passphrase_and_no_terminal_is_a_clear_error(world: World) -> None:
    # No variable set and stdin is not a terminal (CliRunner): no prompt can be shown.
    env = {"GONGU_HOME": str(world.root / "home"), "GONGU_FIRM_KEY_PASSPHRASE": None,
           "GONGU_HANDLER_KEY_PASSPHRASE": None}
    result = runner.invoke(app, ["seal", str(world.report), "-o", str(world.root / "np.pdf")], env=env)
    assert result.exit_code == 2
    assert "GONGU_FIRM_KEY_PASSPHRASE" in result.output


def test_report_without_fields_exit_2_names_them(world: World, tmp_path: Path) -> None:
    plain = tmp_path / "plain.pdf"
    plain.write_bytes(sample_report(world.case, fields=False))
    result = runner.invoke(app, ["seal", str(plain), "--case", str(world.case_path)], env=_env(world))
    assert result.exit_code == 2
    assert "handler-1" in result.output and "firm-seal" in result.output


def test_seal_never_overwrites_its_input(world: World, tmp_path: Path) -> None:
    copy = tmp_path / "r.pdf"
    shutil.copyfile(world.report, copy)
    result = runner.invoke(app, ["seal", str(copy), "-o", str(copy)], env=_env(world))
    assert result.exit_code == 2
    assert copy.read_bytes() == world.report.read_bytes()


def test_no_passphrase_option_exists() -> None:
    """Secrets come from the environment or a hidden prompt only, never argv (visible in `ps`)."""
    result = runner.invoke(app, ["seal", "--help"])
    assert result.exit_code == 0 and "passphrase" not in result.output.replace("KEY_PASSPHRASE", "")


def test_issue_step_seals_before_publishing(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """`gongu issue` runs render → seal → publish; the seal step replaces the PDF with the sealed one."""
    from generator.loading import load_case
    from gongu.cli_seal import _issue_seal_step
    from gongu.issuing import POST_RENDER_STEPS, IssueJob
    from gongu.sealing import issue_seal_step
    from signing.verify import verify_pdf

    assert _issue_seal_step in POST_RENDER_STEPS  # the lazy wrapper around issue_seal_step
    for key, value in _env(world).items():
        monkeypatch.setenv(key, value)
    work = world.root / "issue-work"
    work.mkdir()
    loaded = load_case(world.case_path)
    job = IssueJob(loaded=loaded, data=json.loads(loaded.raw), out_dir=world.root, work_dir=work,
                   files={"pdf": world.report})
    issue_seal_step(job)
    assert job.files["pdf"] != world.report
    report = verify_pdf(job.files["pdf"], [world.pki.root_pem])
    assert report.ok, report.all_problems()


def test_verify_long_term_fails_without_ltv(world: World, sealed: Path) -> None:
    """The CLI's gongu.toml here has no `ltv = true`: the report cannot outlive its certificates."""
    result = runner.invoke(app, ["verify", str(sealed), "--long-term", "2040-01-01", "--json"], env=_env(world))
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is True  # fine today …
    assert data["long_term"]["signatures"] == {"firm-seal": False, "handler-1": False, "handler-2": False}


def test_gongu_issue_publishes_the_sealed_report(world: World, tmp_path: Path) -> None:
    """render → seal → publish → record: the file recorded in the case file is the sealed one."""
    import hashlib

    from signing.verify import verify_pdf

    shutil.copytree(world.case_path.parent, tmp_path / "case")
    case_file = tmp_path / "case" / "case.json"
    result = runner.invoke(app, ["issue", str(case_file), "-o", str(tmp_path / "issued")], env=_env(world))
    assert result.exit_code == 0, result.output
    issued = json.loads(case_file.read_text(encoding="utf-8"))["issuances"][-1]
    pdf = tmp_path / "issued" / issued["pdf_file"]
    assert hashlib.sha256(pdf.read_bytes()).hexdigest() == issued["pdf_sha256"]
    report = verify_pdf(pdf, [world.pki.root_pem])
    assert report.ok and [s.field for s in report.signatures] == ["firm-seal", "handler-1", "handler-2"]


def test_seal_without_signing_config_says_so(world: World, tmp_path: Path) -> None:
    result = runner.invoke(app, ["seal", str(world.report), "-o", str(tmp_path / "o.pdf")],
                           env={**GOOD_ENV, "GONGU_HOME": str(tmp_path)})
    assert result.exit_code == 2
    assert "[signing]" in result.output  # printed literally, not eaten as rich markup
    assert not (tmp_path / "o.pdf").exists()
