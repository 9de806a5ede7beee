"""Checkpoints are checked against the firm certificate pinned with the archive, never against the
certificate a checkpoint carries, and without the firm key's passphrase (issue 12 item 5). Run against
both catalogs: the SQLite file and a PostgreSQL server, where the pin lives in the shared package tree
(tests/storekit.py)."""

from __future__ import annotations

import base64
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from typer.testing import CliRunner

from archive.catalog import Event, canonical
from archive.eventlog import CheckpointSigner, checkpoint_body, export_checkpoint
from archive.firmcert import pinned_certificates
from archive.ingest import ingest
from archive.merkle import leaf_hash, root_hash
from generator.loading import load_case
from gongu.cli.app import app
from gongu.pipeline.archiving import build_archive
from gongu.settings import load_settings
from signing.keys import DEMO_PASSPHRASE, _name, issue, make_root, write_p12
from tests import storekit
from tests.archivekit import Kit, write_case, write_home
from tests.sealkit import example_case

runner = CliRunner()


@pytest.fixture()
def home(kit: Kit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest,
         store_kind: str) -> Path:
    """An archive holding the example case and a checkpoint signed by the firm; afterwards the shell has
    no passphrase, as for an auditor or a night job."""
    h = write_home(tmp_path / "home", kit, store_url=storekit.store_url(request, store_kind))
    monkeypatch.setenv("GONGU_FIRM_KEY_PASSPHRASE", DEMO_PASSPHRASE)
    with build_archive(load_settings(h)) as archive:
        ingest(archive, load_case(write_case(tmp_path / "case", example_case())), kit.sealed, by="档案员甲")
        archive.checkpoint()
    monkeypatch.delenv("GONGU_FIRM_KEY_PASSPHRASE")
    monkeypatch.setenv("GONGU_HOME", str(h))
    return h


def _log_verify() -> tuple[int, str]:
    result = runner.invoke(app, ["archive", "log", "verify"])
    return result.exit_code, result.output


def _stranger(tmp_path: Path) -> CheckpointSigner:
    """Someone else's key and self-made certificate, named like the firm."""
    root = make_root("Stranger Root")
    firm = example_case()["firm"]["name"]
    p12 = write_p12(tmp_path / "stranger.p12", issue(root, _name(f"DEMO {firm} 公估专用章", firm)), [root.cert],
                    "x", "stranger")
    return CheckpointSigner.from_pkcs12(p12, b"x")


def _forge(home: Path, signer: CheckpointSigner) -> None:
    """Rewrite event 0 consistently, drop every checkpoint, sign a fresh one over the forged log."""
    entry = storekit.execute(home, "SELECT entry FROM events WHERE seq = 0")[0][0]
    ev = Event.from_entry(entry)
    forged = Event(ev.seq, ev.kind, ev.at, "冒名者", ev.case_id, ev.report_number, ev.details).entry()
    storekit.execute(home, "UPDATE events SET entry = :e, actor = :a, leaf_hash = :h WHERE seq = 0",
                     e=forged, a="冒名者", h=leaf_hash(forged.encode()).hex())
    leaves = [bytes.fromhex(r[0]) for r in storekit.execute(home, "SELECT leaf_hash FROM events ORDER BY seq")]
    body = checkpoint_body(len(leaves), root_hash(leaves), datetime.fromisoformat(ev.at))
    algorithm, signature = signer.sign(canonical(body).encode())
    document = {**body, "algorithm": algorithm, "signature": base64.b64encode(signature).decode(),
                "certificate": signer.certificate.public_bytes(serialization.Encoding.PEM).decode()}
    storekit.execute(home, "DELETE FROM checkpoints")
    storekit.execute(home, "INSERT INTO checkpoints (tree_size, root_hash, at, document) VALUES (:n, :r, :t, :d)",
                     n=len(leaves), r=body["root_hash"], t=body["time"], d=canonical(document))
    shutil.rmtree(home / "archive" / "checkpoints")
    export_checkpoint(document, home / "archive" / "checkpoints")


def test_the_firms_own_log_verifies_without_the_passphrase(home: Path, kit: Kit) -> None:
    # the pinned certificate is the firm key's own, written when the firm key first opened the archive
    _key, cert, _chain = pkcs12.load_key_and_certificates(kit.firm_p12.read_bytes(), DEMO_PASSPHRASE.encode())
    pinned = pinned_certificates(storekit.pin_file(home))
    assert [c.fingerprint(hashes.SHA256()) for c in pinned] == [cert.fingerprint(hashes.SHA256())]
    code, out = _log_verify()
    assert code == 0, out
    assert "一致" in out


def test_a_checkpoint_re_signed_by_a_stranger_is_refused_without_the_passphrase(home: Path, tmp_path: Path) -> None:
    _forge(home, _stranger(tmp_path))
    code, out = _log_verify()
    assert code == 1, out
    assert "不是本机构证书" in out
    result = runner.invoke(app, ["archive", "audit", "--json", str(tmp_path / "audit.json"), "--by", "审计员"])
    assert result.exit_code == 1, result.output
    assert "不是本机构证书" in (tmp_path / "audit.json").read_text(encoding="utf-8")


def test_a_removed_pin_accepts_no_checkpoint(home: Path) -> None:
    storekit.pin_file(home).unlink()
    code, out = _log_verify()
    assert code == 1 and "没有可信的机构证书" in out


def test_another_firm_key_cannot_sign_this_archives_log(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stranger = _stranger(tmp_path)
    p12 = tmp_path / "other.p12"
    shutil.copy(tmp_path / "stranger.p12", p12)
    config = home / "gongu.toml"
    text = config.read_text(encoding="utf-8")
    start = text.index("firm_p12 = ")
    end = text.index("\n", start)
    config.write_text(text[:start] + f'firm_p12 = "{p12}"' + text[end:], encoding="utf-8")
    monkeypatch.setenv("GONGU_FIRM_KEY_PASSPHRASE", "x")
    result = runner.invoke(app, ["archive", "log", "checkpoint"])
    assert result.exit_code == 2, result.output
    assert "不是本档案固定的机构证书" in result.output
    assert stranger.certificate not in pinned_certificates(storekit.pin_file(home))
