"""Holds and persons in the signed log: a hold is lifted only by a second archivist with the lifting
decision's reference and a real reason; a hold released or deleted by SQL still blocks disposal (the log
shows it standing) and the audit reports the difference; on the command line `--by` must be proved with
the person's own account password or signing key, and the log records which.

Run against both catalogs: the SQLite file and a PostgreSQL server (tests/storekit.py)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from typer.testing import CliRunner

from archive.audit import audit
from archive.disposal import DisposalRefused, propose
from archive.holds import RELEASE_REASON_MIN, place_hold, release_hold
from archive.store import ArchiveError
from generator.clock import FixedClock
from gongu.cli.app import app
from signing.keys import DEMO_PASSPHRASE
from tests import storekit
from tests.archivekit import (
    PEOPLE,
    Kit,
    add_archivists,
    by_env,
    copied_home,
    ingested_home,
    open_archive,
    person_password,
)
from tests.webkit import make_account

runner = CliRunner()
CASE = "SAGC-2025-0712"
AFTER_END = "2040-10-16T09:00:00+08:00"  # retention until 2040-10-16
HOLD_CHECK = "冻结记录与日志一致（冻结、解除均有日志事件）"
GOOD_REASON = "原告已撤诉，法院裁定准许"


@pytest.fixture(scope="module")
def prepared(kit: Kit, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest,
             store_kind: str) -> Path:
    return add_archivists(ingested_home(tmp_path_factory.mktemp("prepared"), kit,
                                        store_url=storekit.store_url(request, store_kind)))


@pytest.fixture()
def home(prepared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("GONGU_PASSWORD", raising=False)
    monkeypatch.delenv("GONGU_HANDLER_KEY_PASSPHRASE", raising=False)
    return copied_home(prepared, tmp_path, monkeypatch)


def _cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["archive", *args], obj=FixedClock.parse(AFTER_END),
                           env=by_env(args) if env is None else env)
    return result.exit_code, "".join(result.output.split())  # the console may wrap long lines


def _hold(home: Path, by: str = "档案员甲") -> None:
    with open_archive(home, AFTER_END) as archive:
        place_hold(archive, CASE, kind="litigation", reason="被保险人起诉", reference="(2040)川01民初7号", by=by)


def _events(home: Path, kind: str) -> list:  # noqa: ANN401 — archive.catalog.Event
    with open_archive(home) as archive:
        return [e for e in archive.catalog.events(CASE) if e.kind == kind]


def _audit_failures(home: Path) -> dict[str, str]:
    with open_archive(home, AFTER_END) as archive:
        result = audit(archive, log_events=False)
    return {c.name: c.detail for c in result.checks if not c.ok and c.level == "error"}


# ── item 5: a second archivist lifts a hold, with the decision's reference and a reason ──

def test_the_placer_the_disposals_proposer_and_a_one_word_reason_cannot_lift_a_hold(home: Path) -> None:
    # 甲 proposes, then a hold arrives and blocks the approval
    assert _cli("dispose", "propose", CASE, "--by", "甲")[0] == 0
    _hold(home, by="档案员甲")
    release = ["release", CASE, "--reason", GOOD_REASON, "--decision-reference", "(2040)川01民初7号之一"]
    code, out = _cli(*release, "--by", "档案员甲")
    assert code == 2 and "冻结人以外" in out and "冻结人：档案员甲" in out
    code, out = _cli(*release, "--by", "甲")  # the proposer of the disposal the hold is blocking
    assert code == 2 and "甲是被此冻结阻止的销毁的提议人" in out
    code, out = _cli("release", CASE, "--reason", "撤诉", "--decision-reference", "(2040)川01民初7号之一",
                     "--by", "档案员丙")
    assert code == 2 and f"至少{RELEASE_REASON_MIN}个字" in out and "'撤诉'" in out
    code, out = _cli("release", CASE, "--reason", GOOD_REASON, "--by", "档案员丙")
    assert code == 2 and "解除冻结决定的文号" in out
    assert _events(home, "release") == []
    # the same rules for any caller of the archive (the web pages call this function)
    with open_archive(home, AFTER_END) as archive, pytest.raises(ArchiveError, match="冻结人以外"):
        release_hold(archive, CASE, by="档案员甲", reason=GOOD_REASON, decision_reference="x")

    code, out = _cli(*release, "--by", "档案员丙")
    assert code == 0, out
    [event] = _events(home, "release")
    assert event.actor == "档案员丙"
    assert {k: event.details[k] for k in ("reference", "decision_reference", "reason", "placed_by", "credential")} == {
        "reference": "(2040)川01民初7号", "decision_reference": "(2040)川01民初7号之一", "reason": GOOD_REASON,
        "placed_by": "档案员甲", "credential": {"method": "password", "account": "档案员丙"}}


# ── item 18: the log, not the holds table, says whether a hold stands ──

@pytest.mark.parametrize("tamper", ["UPDATE holds SET released_at = '2040-10-16T08:00:00+08:00', "
                                    "released_by = '档案员丙', release_reason = '已撤诉'",
                                    "DELETE FROM holds"])
def test_a_hold_lifted_by_sql_still_blocks_disposal_and_audit_reports_it(home: Path, tamper: str) -> None:
    _hold(home)
    storekit.execute(home, tamper)
    with open_archive(home, AFTER_END) as archive:
        assert archive.catalog.active_holds(CASE) == []  # the table says: no hold
        with pytest.raises(DisposalRefused, match="签名日志显示案件处于冻结状态（冻结 #1，文号 \\(2040\\)川01民初7号）"):
            propose(archive, CASE, by="甲")
    code, out = _cli("dispose", "propose", CASE, "--by", "甲")
    assert code == 2 and "签名日志显示案件处于冻结状态" in out
    code, out = _cli("dispose")
    assert "没有可销毁的档案" in out
    detail = _audit_failures(home)[HOLD_CHECK]
    expected = "日志中却没有解除事件" if tamper.startswith("UPDATE") else "目录中却没有这条冻结记录（被删除）"
    assert "冻结 #1（案件 SAGC-2025-0712，文号 (2040)川01民初7号）" in detail and expected in detail


def test_a_hold_row_without_its_event_and_a_proper_release_in_the_audit(home: Path) -> None:
    assert HOLD_CHECK not in _audit_failures(home)
    storekit.execute(home, "INSERT INTO holds (case_id, kind, reason, reference, placed_by, placed_at) "
                     "VALUES (:c, 'dispute', '异议', '伪-1', '某人', '2040-01-01')", c=CASE)
    assert "冻结 #1（案件 SAGC-2025-0712，文号 伪-1）在目录中存在，日志中却没有冻结事件" in _audit_failures(home)[HOLD_CHECK]
    storekit.execute(home, "DELETE FROM holds")
    _hold(home)
    with open_archive(home, AFTER_END) as archive:
        release_hold(archive, CASE, by="档案员丙", reason=GOOD_REASON, decision_reference="撤诉裁定")
    assert HOLD_CHECK not in _audit_failures(home)
    with open_archive(home, AFTER_END) as archive:
        assert propose(archive, CASE, by="甲") == 1


# ── item 18: --by is proved by the person's own credential ──

def test_by_without_the_persons_password_decides_nothing(home: Path) -> None:
    code, out = _cli("dispose", "propose", CASE, "--by", "甲", env={})
    assert code == 2 and "须由甲本人确认" in out and "GONGU_PASSWORD" in out
    code, out = _cli("dispose", "propose", CASE, "--by", "甲", env={"GONGU_PASSWORD": person_password("乙")})
    assert code == 2 and "甲的账户密码不正确" in out
    code, out = _cli("hold", CASE, "--kind", "dispute", "--reason", "异议", "--reference", "函-1", "--by", "甲",
                     env={"GONGU_PASSWORD": "wrong-password-1"})
    assert code == 2 and "密码不正确" in out
    with open_archive(home) as archive:
        assert archive.catalog.disposals() == [] and archive.catalog.all_holds() == []
    # one shell user under three registered names: each step needs that person's own password
    code, out = _cli("dispose", "propose", CASE, "--by", "甲")
    assert code == 0, out
    [event] = _events(home, "disposal_proposed")
    assert (event.actor, event.details["credential"]) == ("甲", {"method": "password", "account": "甲"})


def test_a_person_without_an_archivist_account_cannot_decide(home: Path) -> None:
    make_account(home, "clerk-yi", {"handler"}, "乙", person_password("乙") + "x")
    storekit.execute(home, "UPDATE accounts SET disabled = 1 WHERE username = '乙'")
    code, out = _cli("dispose", "propose", CASE, "--by", "乙")
    assert code == 2 and "乙没有可用的、具有此决定所需角色（archivist）的账户" in out


def test_a_person_with_a_signing_key_signs_the_decision(home: Path, kit: Kit) -> None:
    name, p12 = next(iter(kit.handlers.items()))
    toml = home / "gongu.toml"
    text = toml.read_text(encoding="utf-8").replace(json.dumps(PEOPLE, ensure_ascii=False),
                                                    json.dumps([*PEOPLE, name], ensure_ascii=False))
    toml.write_text(text + f'[signing.handlers]\n"{name}" = "{p12}"\n', encoding="utf-8")
    make_account(home, "keyholder", {"archivist"}, name, "a-long-password-2026")
    code, out = _cli("dispose", "propose", CASE, "--by", name, env={})
    assert code == 2 and "GONGU_HANDLER_KEY_PASSPHRASE" in out
    code, out = _cli("dispose", "propose", CASE, "--by", name, env={"GONGU_HANDLER_KEY_PASSPHRASE": "wrong"})
    assert code == 2 and "口令错误" in out
    code, out = _cli("dispose", "propose", CASE, "--by", name, env={"GONGU_HANDLER_KEY_PASSPHRASE": DEMO_PASSPHRASE})
    assert code == 0, out
    [event] = _events(home, "disposal_proposed")
    cred = event.details["credential"]
    assert (cred["method"], cred["account"], cred["algorithm"]) == ("signing_key", "keyholder", "RSA-PKCS1v15-SHA256")
    signed = json.loads(cred["signed"])
    assert signed == {"action": "dispose_propose", "case_id": CASE, "person": name, "at": "2040-10-16T09:00:00+08:00"}
    cert = x509.load_der_x509_certificate(base64.b64decode(cred["certificate"]))
    cert.public_key().verify(base64.b64decode(cred["signature"]), cred["signed"].encode(),  # raises if forged
                             padding.PKCS1v15(), hashes.SHA256())
    # the key of someone else, configured for this person, is refused before anything is decided
    other = next(p for n, p in kit.handlers.items() if n != name)
    toml.write_text(text + f'[signing.handlers]\n"{name}" = "{other}"\n', encoding="utf-8")
    code, out = _cli("dispose", "approve", CASE, "--by", name, env={"GONGU_HANDLER_KEY_PASSPHRASE": DEMO_PASSPHRASE})
    assert code == 2 and f"不是{name}" in out
