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
from sealkit import PASSPHRASE, World, sample_report
from typer.testing import CliRunner

from gongu.cli.app import app

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


def test_issue_case_from_plain_python_with_a_signer(world: World, tmp_path: Path) -> None:
    """The pipeline is explicit: issue_case seals with the signer it is given, whatever was imported."""
    import hashlib

    import gongu.cli  # noqa: F401 — every CLI module imported: must change nothing below
    import gongu.pipeline.issuing
    from gongu.pipeline.issuing import issue_case
    from gongu.pipeline.sealing import ConfiguredSigner
    from gongu.settings import load_settings
    from signing.verify import verify_pdf

    assert not [name for name, value in vars(gongu.pipeline.issuing).items() if isinstance(value, list)]  # no hook list
    shutil.copytree(world.case_path.parent, tmp_path / "case")
    case_file = tmp_path / "case" / "case.json"
    signer = ConfiguredSigner(world.config(), passphrase=lambda role, name, path: PASSPHRASE)
    # the world's home: its gongu.toml registers the reviewers whose approvals the issue counts (9.3)
    result = issue_case(case_file, signer=signer, out_dir=tmp_path / "issued", settings=load_settings(world.root / "home"))
    assert result.sealed
    report = verify_pdf(result.files["pdf"], [world.pki.root_pem])
    assert report.ok, report.all_problems()
    assert report.certified and [s.field for s in report.signatures] == ["firm-seal", "handler-1", "handler-2"]
    entry = json.loads(case_file.read_text(encoding="utf-8"))["issuances"][-1]
    assert entry["sealed"] is True
    assert entry["pdf_sha256"] == hashlib.sha256(result.files["pdf"].read_bytes()).hexdigest()


def test_verify_long_term_fails_without_ltv(world: World, sealed: Path) -> None:
    """The CLI's gongu.toml here has no `ltv = true`: the report cannot outlive its certificates."""
    result = runner.invoke(app, ["verify", str(sealed), "--long-term", "2040-01-01", "--json"], env=_env(world))
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is True  # fine today …
    assert data["long_term"]["signatures"] == {"firm-seal": False, "handler-1": False, "handler-2": False}


def test_gongu_issue_publishes_the_sealed_report_with_the_firm_templates(world: World, tmp_path: Path) -> None:
    """render (the firm's templates, from gongu.toml [render]) → seal → publish → record: the file recorded
    in the case file is the sealed one, and it is the report the firm previews with `gongu render`."""
    import hashlib

    from forms import __file__ as forms_init
    from signing.verify import verify_pdf

    home = tmp_path / "home"
    firm = home / "firm-templates"
    firm.mkdir(parents=True)
    cover = (Path(forms_init).parent / "templates" / "cover.html").read_text(encoding="utf-8")
    (firm / "cover.html").write_text('<p class="firm-marker">本所模板 FIRM-TEMPLATE-7Q</p>\n' + cover, encoding="utf-8")
    (home / "gongu.toml").write_text(world.toml() + '[render]\ntemplates = "firm-templates"\n', encoding="utf-8")
    shutil.copytree(world.case_path.parent, tmp_path / "case")
    case_file = tmp_path / "case" / "case.json"
    result = runner.invoke(app, ["issue", str(case_file), "-o", str(tmp_path / "issued")],
                           env={**_env(world), "GONGU_HOME": str(home)})
    assert result.exit_code == 0, result.output
    issued = json.loads(case_file.read_text(encoding="utf-8"))["issuances"][-1]
    assert issued["sealed"] is True
    pdf = tmp_path / "issued" / issued["pdf_file"]
    assert hashlib.sha256(pdf.read_bytes()).hexdigest() == issued["pdf_sha256"]
    report = verify_pdf(pdf, [world.pki.root_pem])
    assert report.ok and [s.field for s in report.signatures] == ["firm-seal", "handler-1", "handler-2"]
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "FIRM-TEMPLATE-7Q" in text and "未签章副本" not in text


# ── sealing odds and ends (issue 12 item 14) ──

def _run_gongu(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """As a user runs it: the installed entry point, real stderr (pyHanko's logging would land there)."""
    gongu = Path(sys.executable).with_name("gongu")
    return subprocess.run([str(gongu), *args], env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=timeout)


def test_seal_on_a_non_pdf_exit_2_no_traceback(world: World, tmp_path: Path) -> None:
    not_pdf = tmp_path / "notes.pdf"
    not_pdf.write_text("这不是 PDF，只是文字。\n", encoding="utf-8")
    for extra in ([], ["--case", str(world.case_path)]):
        proc = _run_gongu("seal", str(not_pdf), "-o", str(tmp_path / "o.pdf"), *extra, env=_env(world))
        assert proc.returncode == 2, proc.stderr
        assert "不是 PDF" in proc.stderr and "not a PDF" in proc.stderr
        assert "Traceback" not in proc.stderr + proc.stdout
        assert not (tmp_path / "o.pdf").exists()


def test_numbered_handler_passphrases_work_without_case(world: World, tmp_path: Path) -> None:
    """docs/sealing.md: GONGU_HANDLER_<n>_KEY_PASSPHRASE, n = position in the case file — embedded in the PDF."""
    out = tmp_path / "numbered.pdf"
    env = {"GONGU_HOME": str(world.root / "home"), "GONGU_FIRM_KEY_PASSPHRASE": "gongu-demo",
           "GONGU_HANDLER_KEY_PASSPHRASE": None, "GONGU_HANDLER_1_KEY_PASSPHRASE": "gongu-demo",
           "GONGU_HANDLER_2_KEY_PASSPHRASE": "gongu-demo"}
    result = runner.invoke(app, ["seal", str(world.report), "-o", str(out)], env=env)
    assert result.exit_code == 0, result.output
    # And a wrong one for handler 2 only is blamed on handler 2's key file.
    env["GONGU_HANDLER_2_KEY_PASSPHRASE"] = "not-it"
    bad = runner.invoke(app, ["seal", str(world.report), "-o", str(tmp_path / "bad.pdf")], env=env)
    handler_2_file = world.pki.handler_p12[world.case["handlers"][1]["name"]].name
    assert bad.exit_code == 2 and handler_2_file in "".join(bad.output.split())  # the console wraps long paths


def test_tsa_serve_with_a_corrupt_key_refuses_to_start(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "tsa.p12").write_bytes(b"\x30\x82 not a PKCS#12 file")
    proc = _run_gongu("tsa", "serve", "--keys", str(keys), "--port", "0", env={}, timeout=60)
    assert proc.returncode == 2
    assert "未启动" in proc.stderr and "Traceback" not in proc.stderr
    assert "时间戳服务：" not in proc.stdout  # it never said it was listening


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_tsa_serve_with_a_port_out_of_range_is_bad_input(tmp_path: Path, port: str) -> None:
    # found by the issue-12 probe: --port 99999 ended in OverflowError from bind() with a traceback
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "tsa.p12").write_bytes(b"\x30\x82 not a PKCS#12 file")  # never read: the option is checked first
    result = runner.invoke(app, ["tsa", "serve", "--keys", str(keys), "--port", port])
    assert result.exit_code == 2
    assert "Invalid value for '--port'" in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_verify_of_a_tampered_or_untrusted_report_prints_no_pyhanko_traceback(
        world: World, sealed: Path, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    from signing.keys import make_root

    data = bytearray(sealed.read_bytes())
    data[data.index(b"WeasyPrint") + 2] ^= 0x20
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(bytes(data))
    other = tmp_path / "other.pem"
    other.write_bytes(make_root("Other Root").cert.public_bytes(serialization.Encoding.PEM))
    for args in ([str(bad)], [str(sealed), "--trust", str(other)]):
        proc = _run_gongu("verify", *args, env=_env(world))
        assert proc.returncode == 1, proc.stderr
        assert "✗" in proc.stderr  # the verdict stays
        assert "Traceback" not in proc.stderr and "SuspiciousModification" not in proc.stderr.replace(
            "suspicious", "")
    # The same for every other caller (archive audit, ingest): verify_pdf itself keeps pyHanko quiet.
    code = ("import sys; from signing.verify import verify_pdf; "
            f"r = verify_pdf({str(sealed)!r}, [{str(other)!r}]); sys.exit(0 if not r.ok else 3)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr and "PathValidationError" not in proc.stderr


def test_verify_names_the_embedded_case(world: World, sealed: Path) -> None:
    result = runner.invoke(app, ["verify", str(sealed), "--json"], env=_env(world))
    data = json.loads(result.stdout)
    assert data["embedded_case"] == {"case_id": world.case["case_id"], "report_number": world.case["report"]["number"]}
    pdfinfo = subprocess.run(["pdfinfo", str(sealed)], capture_output=True, text=True, check=True).stdout
    assert data["pages"] == int(next(line.split()[-1] for line in pdfinfo.splitlines() if line.startswith("Pages:")))


def test_seal_without_signing_config_says_so(world: World, tmp_path: Path) -> None:
    result = runner.invoke(app, ["seal", str(world.report), "-o", str(tmp_path / "o.pdf")],
                           env={**GOOD_ENV, "GONGU_HOME": str(tmp_path)})
    assert result.exit_code == 2
    assert "[signing]" in result.output  # printed literally, not eaten as rich markup
    assert not (tmp_path / "o.pdf").exists()



def _home_with(world: World, tmp_path: Path, **keys: str) -> dict[str, str]:
    """A home whose [signing] points at `keys` (firm_p12, a handler's name → key path) instead of the right ones."""
    home = tmp_path / "home"
    home.mkdir()
    text = world.toml()
    for name, path in keys.items():
        old = str(world.pki.firm_p12) if name == "firm_p12" else str(world.pki.handler_p12[name])
        text = text.replace(f'"{old}"', f'"{path}"')
    (home / "gongu.toml").write_text(text, encoding="utf-8")
    return {"GONGU_HOME": str(home), **GOOD_ENV}


def test_seal_refuses_a_handler_pointed_at_a_colleagues_key_before_writing(world: World, tmp_path: Path) -> None:
    """电子签名法 Art 13: [signing.handlers] giving 王志强 陈晓梅's key signs nothing (verify would reject it later)."""
    first, second = (h["name"] for h in world.case["handlers"])
    env = _home_with(world, tmp_path, **{first: str(world.pki.handler_p12[second])})
    out = tmp_path / "forged.pdf"
    result = runner.invoke(app, ["seal", str(world.report), "-o", str(out)], env=env)
    assert result.exit_code == 2, result.output
    assert f"「{first}」的密钥证书属于「{second} (DEMO)」" in result.output
    assert "Traceback" not in result.output and not out.exists()


def test_seal_refuses_another_firms_seal_key_before_writing(world: World, tmp_path: Path) -> None:
    other = world.other_firm_p12("别家保险公估有限公司")
    env = _home_with(world, tmp_path, firm_p12=str(other))
    out = tmp_path / "other-firm.pdf"
    result = runner.invoke(app, ["seal", str(world.report), "-o", str(out)], env=env)
    assert result.exit_code == 2, result.output
    assert "印章密钥的证书属于「别家保险公估有限公司」" in result.output
    assert world.case["firm"]["name"] in result.output.replace("\n", "") and not out.exists()


def test_gongu_issue_of_another_firms_case_is_refused_with_nothing_published(world: World, tmp_path: Path) -> None:
    """The firm seal goes only on the firm's own cases: a case naming another firm is refused at the seal
    step, before anything is published or recorded (the configured seal certificate names this firm)."""
    shutil.copytree(world.case_path.parent, tmp_path / "case")
    case_file = tmp_path / "case" / "case.json"
    data = json.loads(case_file.read_text(encoding="utf-8"))
    data["firm"]["name"] = "别家保险公估有限公司"
    case_file.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    result = runner.invoke(app, ["issue", str(case_file), "-o", str(tmp_path / "issued")], env=_env(world))
    assert result.exit_code == 2, result.output
    flat = result.output.replace("\n", "")
    assert f"印章密钥的证书属于「{world.case['firm']['name']}」，不是本案公估机构「别家保险公估有限公司」" in flat
    assert "issuances" not in json.loads(case_file.read_text(encoding="utf-8"))
    issued = tmp_path / "issued"
    assert not issued.exists() or not [p for p in issued.rglob("*") if p.is_file()]
