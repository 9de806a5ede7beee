"""Nothing archived is destroyed before its time, even by someone who edits the clock (10.4). Root can
set the system clock forward, dispose and set it back; what that leaves behind is checked locally:
disposal is refused while the clock reads earlier than the latest event in the log, and the audit
reports event times that step back by more than CLOCK_TOLERANCE and events dated after the clock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archive.audit import AuditResult, audit
from archive.disposal import DisposalRefused, _remove_packages
from archive.eventlog import CLOCK_TOLERANCE
from archive.holds import place_hold, release_hold
from generator.clock import FixedClock
from gongu.cli.app import app
from tests.archivekit import Kit, add_archivists, by_env, copied_home, ingested_home, open_archive

runner = CliRunner()
CASE = "SAGC-2025-0712"  # closed 2025-10-16, ordinary: kept until 2040-10-16 (10.4)
T0 = "2025-11-03T10:00:00+08:00"  # the ingest: event 0
REVERSAL = "日志事件时间不倒退（容差 5 分钟，时钟未被调回）"
FUTURE = "日志中没有晚于档案时钟的事件（容差 5 分钟）"


@pytest.fixture(scope="module")
def prepared(kit: Kit, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return add_archivists(ingested_home(tmp_path_factory.mktemp("prepared"), kit, at=T0))


@pytest.fixture()
def home(prepared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return copied_home(prepared, tmp_path, monkeypatch)



def _cli_at(now: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["archive", *args], obj=FixedClock.parse(now), env=by_env(args))
    return result.exit_code, "".join(result.output.split())  # the console may wrap long lines


def _hold(home: Path, now: str, reference: str) -> None:
    with open_archive(home, now) as archive:
        place_hold(archive, CASE, kind="dispute", reason="委托人异议", reference=reference, by="法务")


def _release(home: Path, now: str) -> None:
    with open_archive(home, now) as archive:
        release_hold(archive, CASE, by="档案员丙", reason="双方已达成和解协议", decision_reference="和解协议-1")


def _package_files(home: Path) -> dict[str, bytes]:
    root = home / "archive" / "packages"
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _clock_checks(home: Path, now: str) -> dict[str, tuple[bool, str]]:
    with open_archive(home, now) as archive:
        result: AuditResult = audit(archive, log_events=False)
    return {c.name: (c.ok, c.detail) for c in result.checks if c.name in (REVERSAL, FUTURE)}


def test_tolerance_is_five_minutes() -> None:
    assert CLOCK_TOLERANCE.total_seconds() == 300


def test_disposal_refused_while_the_clock_reads_earlier_than_the_latest_event(home: Path) -> None:
    # all of these dates are after the retention end 2040-10-16: only the clock stands in the way
    assert _cli_at("2041-01-01T10:00:00+08:00", "dispose", "propose", CASE, "--by", "甲")[0] == 0  # event 1
    _hold(home, "2050-01-01T10:00:00+08:00", "争-1")  # clock set forward: event 2
    _release(home, "2050-01-01T10:00:00+08:00")  # event 3, then the clock is set back
    before = _package_files(home)

    code, out = _cli_at("2041-01-02T10:00:00+08:00", "dispose", "approve", CASE, "--by", "乙")
    assert code == 2
    assert "档案时钟2041-01-02T10:00:00+08:00早于日志中最晚的事件3（2050-01-01T10:00:00+08:00）" in out
    assert "theclockwassetback" in out
    code, out = _cli_at("2041-01-02T10:00:00+08:00", "dispose", "propose", CASE, "--by", "丙")
    assert code == 2 and "早于日志中最晚的事件3（2050-01-01T10:00:00+08:00）" in out

    assert _cli_at("2050-01-02T10:00:00+08:00", "dispose", "approve", CASE, "--by", "乙")[0] == 0  # event 4
    code, out = _cli_at("2041-01-03T10:00:00+08:00", "dispose", "execute", CASE, "--by", "丙")
    assert code == 2
    assert "档案时钟2041-01-03T10:00:00+08:00早于日志中最晚的事件4（2050-01-02T10:00:00+08:00）" in out
    # the removal itself refuses, inside its transaction, whoever calls it
    with open_archive(home, "2041-01-03T10:00:00+08:00") as archive:
        d = archive.catalog.open_disposal(CASE)
        with pytest.raises(DisposalRefused, match="早于日志中最晚的事件 4"), archive.catalog.write():
            _remove_packages(archive, CASE, d, "丙")
        assert archive.catalog.event_count() == 5  # events 0–4: nothing logged by the refusals
    assert _package_files(home) == before

    # a clock that reads the latest event's very time is not behind it
    code, out = _cli_at("2050-01-02T10:00:00+08:00", "dispose", "execute", CASE, "--by", "丙")
    assert code == 0, out
    assert not list((home / "archive" / "packages").rglob("data"))


def test_audit_flags_event_times_that_go_backwards(home: Path, tmp_path: Path) -> None:
    _hold(home, "2045-11-03T10:00:00+08:00", "争-1")  # clock 20 years ahead: event 1
    _release(home, "2025-11-04T10:00:00+08:00")  # set back: event 2
    _hold(home, "2025-11-05T10:00:00+08:00", "争-2")  # event 3: still behind event 1, same stretch
    checks = _clock_checks(home, "2025-11-05T10:00:00+08:00")
    # 2025-11-04 → 2045-11-04 is 20 × 365 days + 5 leap days (2028 … 2044) = 7305; one day less
    assert checks[REVERSAL] == (False, "事件 2（2025-11-04T10:00:00+08:00）比此前的事件 1（2045-11-03T10:00:00+08:00）"
                                       "早 7304 天 0 小时 0 分 0 秒：时钟曾被调快后又调回 / event 2 at "
                                       "2025-11-04T10:00:00+08:00 is earlier than event 1 at "
                                       "2045-11-03T10:00:00+08:00: the clock was set back")
    assert checks[FUTURE] == (False, "事件 1（2045-11-03T10:00:00+08:00）晚于档案时钟当前时间 2025-11-05T10:00:00+08:00 / "
                                     "event 1 at 2045-11-03T10:00:00+08:00 is later than the archive clock "
                                     "2025-11-05T10:00:00+08:00")
    # the CLI audit fails, in the 真实性 group
    target = tmp_path / "audit.json"
    code, _ = _cli_at("2025-11-05T10:00:00+08:00", "audit", "--json", str(target))
    report = json.loads(target.read_text(encoding="utf-8"))
    failed = [c["name"] for c in report["properties"]["authenticity"]["checks"] if not c["ok"]]
    assert code == 1 and report["properties"]["authenticity"]["title"] == "真实性"
    assert REVERSAL in failed and FUTURE in failed


def test_audit_passes_on_a_normal_log(home: Path) -> None:
    _hold(home, "2025-11-04T10:00:00+08:00", "争-1")
    _release(home, "2025-11-05T10:00:00+08:00")
    with open_archive(home, "2025-11-06T10:00:00+08:00") as archive:
        result = audit(archive, log_events=False)
    assert result.ok, [c for c in result.checks if not c.ok]
    assert {c.name: c.ok for c in result.checks if c.name in (REVERSAL, FUTURE)} == {REVERSAL: True, FUTURE: True}


def test_tolerance_edge_exactly_five_minutes_passes_one_second_more_fails(home: Path) -> None:
    _hold(home, "2025-11-03T10:10:00+08:00", "争-1")  # event 1: the latest time
    _release(home, "2025-11-03T10:05:00+08:00")  # event 2: exactly 5 minutes behind event 1
    assert _clock_checks(home, "2025-11-03T10:10:00+08:00") == {REVERSAL: (True, ""), FUTURE: (True, "")}
    # the clock 5 minutes behind event 1 passes; 5 minutes and 1 second behind it does not
    assert _clock_checks(home, "2025-11-03T10:05:00+08:00")[FUTURE] == (True, "")
    ok, detail = _clock_checks(home, "2025-11-03T10:04:59+08:00")[FUTURE]
    assert not ok and detail.startswith("事件 1（2025-11-03T10:10:00+08:00）晚于档案时钟当前时间 2025-11-03T10:04:59+08:00")

    _hold(home, "2025-11-03T10:04:59+08:00", "争-2")  # event 3: 5 minutes 1 second behind event 1
    ok, detail = _clock_checks(home, "2025-11-03T10:10:00+08:00")[REVERSAL]
    assert not ok
    assert detail.startswith("事件 3（2025-11-03T10:04:59+08:00）比此前的事件 1（2025-11-03T10:10:00+08:00）"
                             "早 0 小时 5 分 1 秒")
    assert "事件 2" not in detail
