"""A second office set up as docs/deployment.md §4–5 says: the shared catalog and package tree, a copy of
the firm's one key, trust roots holding every office's sealing roots. Its reports (sealed by its own
CA's people) are ingested and audited from both offices; checkpoints from either office verify against
the one pinned certificate; another firm key is refused before any work."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gongu.cli.app import app
from signing.keys import DEMO_PASSPHRASE, make_demo_pki
from signing.seal import SigningConfig
from tests.archivekit import Kit, _seal, write_case, write_home
from tests.sealkit import example_case

runner = CliRunner()


def _cli(monkeypatch: pytest.MonkeyPatch, home: Path, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("GONGU_HOME", str(home))
    monkeypatch.setenv("GONGU_FIRM_KEY_PASSPHRASE", DEMO_PASSPHRASE)
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def _set(home: Path, key: str, value: str) -> None:
    """Replace one `key = …` line of the home's gongu.toml (first occurrence)."""
    config = home / "gongu.toml"
    lines = config.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(f"{key} ="))
    lines[at] = f"{key} = {value}"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _office(base: Path, kit: Kit, url: str, mount: Path) -> Path:
    home = write_home(base, kit, store_url=url, init=False)
    text = (home / "gongu.toml").read_text(encoding="utf-8").replace("[archive]\n", f'[archive]\nroot = "{mount}"\n')
    (home / "gongu.toml").write_text(text, encoding="utf-8")
    return home


def test_a_second_office_follows_the_deployment_guide(kit: Kit, pg_url: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    share = tmp_path / "nas" / "packages"
    # office A (成都): the firm key, its CA; starts the archive once
    office_a = _office(tmp_path / "chengdu", kit, pg_url, share)
    code, out = _cli(monkeypatch, office_a, "archive", "init")
    assert code == 0 and "已初始化档案" in out and "机构证书已固定" in out, out
    pinned = (share / "firm-certificate.pem").read_bytes()

    # office B (贵阳): its people's certificates come from its own CA
    case = example_case()
    pki_b = make_demo_pki(tmp_path / "pki-guiyang", case["firm"]["name"],
                          [(h["name"], h.get("licence_no")) for h in case["handlers"]], crl_url=None)
    both_roots = f'["{kit.root_pem}", "{pki_b.root_pem}"]'
    both_crls = f'["{kit.crl}", "{pki_b.crl}"]'
    office_b = _office(tmp_path / "guiyang", kit, pg_url, tmp_path / "guiyang-mount")
    # the mount not there yet: init refuses and creates nothing
    code, out = _cli(monkeypatch, office_b, "archive", "init")
    assert code == 2 and "未挂载" in out.replace("\n", ""), out
    assert not (tmp_path / "guiyang-mount").exists()
    # mounted (its own mount point of the same share); its copy of the firm's one key; every office's roots
    (tmp_path / "guiyang-mount").symlink_to(share, target_is_directory=True)
    (office_b / "keys").mkdir()
    shutil.copy(kit.firm_p12, office_b / "keys" / "firm.p12")
    _set(office_b, "firm_p12", '"keys/firm.p12"')  # relative to GONGU_HOME
    _set(office_b, "trust_roots", both_roots)
    _set(office_b, "crls", both_crls)
    code, out = _cli(monkeypatch, office_b, "archive", "init")
    assert code == 0 and "已初始化过（标识一致，未改动）" in out, out

    # a report sealed in 贵阳: the firm's seal, the handlers' signatures from 贵阳's CA
    data = example_case()
    data["case_id"] = "GY-2026-001"
    data["report"]["number"] = data["report"]["number"] + "-GY"
    config_b = SigningConfig(firm_p12=kit.firm_p12, handlers=dict(pki_b.handler_p12),
                             trust_roots=(kit.root_pem, pki_b.root_pem), crls=(kit.crl, pki_b.crl))
    sealed, _plain = _seal(tmp_path, config_b, data, "guiyang-report")
    code, out = _cli(monkeypatch, office_b, "archive", "ingest", str(write_case(tmp_path / "gy", data)),
                     "--report", str(sealed), "--by", "档案员丙")
    assert code == 0, out
    code, out = _cli(monkeypatch, office_b, "archive", "log", "checkpoint")
    assert code == 0, out
    assert (share / "firm-certificate.pem").read_bytes() == pinned  # the one pin, unchanged

    # office A without 贵阳's root: its audit cannot verify 贵阳's report — the guide's reason for one list
    code, out = _cli(monkeypatch, office_a, "archive", "audit")
    assert code == 1 and "GY-2026-001" in out, out
    _set(office_a, "trust_roots", both_roots)
    _set(office_a, "crls", both_crls)
    code, out = _cli(monkeypatch, office_a, "archive", "audit")
    assert code == 0, out
    for office in (office_a, office_b):
        code, out = _cli(monkeypatch, office, "archive", "log", "verify")
        assert code == 0 and "一致" in out, out

    # another firm key in an office: refused before any work, nothing pinned or written
    _set(office_b, "firm_p12", f'"{pki_b.firm_p12}"')
    code, out = _cli(monkeypatch, office_b, "archive", "log", "checkpoint")
    assert code == 2 and "不是本档案固定的机构证书" in out.replace("\n", ""), out
    assert (share / "firm-certificate.pem").read_bytes() == pinned
