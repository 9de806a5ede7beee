"""Time for disposal from outside the machine (10.4): with a timestamp authority configured, each disposal
step carries an RFC 3161 token over the decision and retention is judged on the token's time; the audit
re-checks every token and flags a package destroyed before its retention end by that time.

The TSA is the real local one (signing/tsa.py); a test that needs it to tell another time gives it one."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archive.audit import audit
from archive.disposal import _remove_packages, outside_time
from generator.clock import FixedClock
from gongu.cli.app import app
from signing.tsa import LocalTsa
from tests.archivekit import Kit, add_archivists, by_env, copied_home, ingested_home, open_archive

runner = CliRunner()
CASE = "SAGC-2025-0712"
FAR = "2041-01-01T10:00:00+08:00"  # after the retention end 2040-10-16 (closed 2025-10-16 + 15 years)
EARLY_CHECK = "无提前销毁（按时间戳服务的时间核对保管期限，10.4）"
TOKEN_CHECK = "销毁各步的可信时间戳有效且属于该步"


@pytest.fixture(scope="module")
def prepared(kit: Kit, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return add_archivists(ingested_home(tmp_path_factory.mktemp("prepared"), kit))


@pytest.fixture()
def home(prepared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return copied_home(prepared, tmp_path, monkeypatch)


def _use_tsa(home: Path, url: str) -> None:
    toml = home / "gongu.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("[signing]\n", f'[signing]\ntsa_url = "{url}"\n', 1),
                    encoding="utf-8")


def _cli(now: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["archive", *args], obj=FixedClock.parse(now), env=by_env(args))
    return result.exit_code, "".join(result.output.split())


def _audit(home: Path, now: str) -> dict[str, tuple[bool, str]]:
    with open_archive(home, now) as archive:
        result = audit(archive, log_events=False)
    return {c.name: (c.ok, c.detail) for c in result.checks}


def test_a_clock_set_forward_does_not_dispose_when_the_tsa_tells_the_true_time(home: Path, kit: Kit) -> None:
    with LocalTsa(kit.pki_dir) as tsa:  # the TSA's time is the true time (2026), the archive's clock says 2041
        _use_tsa(home, tsa.url)
        code, out = _cli(FAR, "dispose", "propose", CASE, "--by", "甲")
        assert tsa.requests == 1
    assert code == 2, out
    today = datetime.now(UTC).astimezone().date().isoformat()[:4]
    assert f"按时间戳服务的时间（{today}" in out and "本机时钟2041-01-01" in out and "2040-10-16，尚未届满" in out
    with open_archive(home) as archive:
        assert archive.catalog.disposals() == []


def test_each_step_carries_a_token_and_the_audit_rechecks_it(home: Path, kit: Kit) -> None:
    tsa_time = datetime(2041, 1, 1, 2, 0, tzinfo=UTC)  # 2041-01-01 10:00 Beijing: after the retention end
    with LocalTsa(kit.pki_dir, at=tsa_time) as tsa:
        _use_tsa(home, tsa.url)
        for step, who in (("propose", "甲"), ("approve", "乙"), ("execute", "丙")):
            code, out = _cli(FAR, "dispose", step, CASE, "--by", who)
            assert code == 0, out
        assert tsa.requests == 3
        checks = _audit(home, FAR)
    with open_archive(home) as archive:
        steps = [e for e in archive.catalog.events(CASE) if e.kind.startswith("disposal_")]
    assert [e.kind for e in steps] == ["disposal_proposed", "disposal_approved", "disposal_executed"]
    for e in steps:
        stamp = e.details["timestamp"]
        assert stamp["time"] == "2041-01-01T02:00:00+00:00"
        assert json.loads(stamp["message"]) == {"step": e.kind, "case_id": CASE, "by": e.actor, "at": FAR}
    assert checks[TOKEN_CHECK] == (True, "") and checks[EARLY_CHECK] == (True, "")


def test_the_audit_flags_a_package_destroyed_early_by_the_tokens_time(home: Path, kit: Kit) -> None:
    """An execution that went around the token check (the removal called directly, a clock set forward)
    still carries the TSA's true time: the audit finds the package was destroyed before its end."""
    with LocalTsa(kit.pki_dir, at=datetime(2041, 1, 1, 2, 0, tzinfo=UTC)) as late:
        _use_tsa(home, late.url)
        assert _cli(FAR, "dispose", "propose", CASE, "--by", "甲")[0] == 0
        assert _cli(FAR, "dispose", "approve", CASE, "--by", "乙")[0] == 0
    with LocalTsa(kit.pki_dir) as true_time:
        with open_archive(home, FAR) as archive:
            from archive.timestamps import http_timestamper

            archive.timestamper = http_timestamper(true_time.url)
            stamp = outside_time(archive, "disposal_executed", CASE, "丙")
            with archive.catalog.write():
                _remove_packages(archive, CASE, archive.catalog.open_disposal(CASE), "丙", {"timestamp": stamp})
    ok, detail = _audit(home, FAR)[EARLY_CHECK]
    year = datetime.now(UTC).year
    assert not ok and f"{CASE}报告SA-GC-20250905-017于{year}" in "".join(detail.split())
    assert "保管期限至 2040-10-16（10.4）" in detail


def test_an_unreachable_tsa_decides_nothing(home: Path, kit: Kit) -> None:
    tsa = LocalTsa(kit.pki_dir)
    url = tsa.url
    tsa.stop()  # bound, then closed: nothing answers there
    _use_tsa(home, url)
    code, out = _cli(FAR, "dispose", "propose", CASE, "--by", "甲")
    assert code == 2 and "无法连接时间戳服务" in out or "无法从时间戳服务" in out, out
    assert "Traceback" not in out
    with open_archive(home) as archive:
        assert archive.catalog.disposals() == []
