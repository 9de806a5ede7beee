"""Check codes in the archive (issue 30 items 1–2): the package's record (metadata.json `check_codes`,
README.txt), the catalog's rows and the status a code has — 有效, 已被 R1 取代, 已撤回, 已按保管期限销毁 —
withdrawal through the command line with the person's own credential, and the backfill by fsck."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archive.check_codes import check_codes_table, code_records, lookup, package_code_record, withdraw
from archive.fsck import fsck
from archive.package_format import open_package
from archive.store import ArchiveError
from generator.clock import FixedClock
from gongu.cli.app import app
from tests import storekit
from tests.archivekit import Kit, by_env, copied_home, open_archive
from tests.codekit import (
    AFTER_END,
    CASE,
    CODE_DESTROYED,
    CODE_ORIGINAL,
    CODE_R1,
    NUMBER,
    OTHER_NUMBER,
    coded_home,
    sha256,
)

runner = CliRunner()
NOW = "2026-03-02T10:00:00+08:00"


@pytest.fixture(scope="module")
def prepared(kit: Kit, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return coded_home(tmp_path_factory.mktemp("codes"), kit)


@pytest.fixture()
def home(prepared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return copied_home(prepared, tmp_path, monkeypatch)


def _pages(pdf: Path) -> int:
    """Page count as poppler's pdfinfo reads it (another reader than the archive's pypdf)."""
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    match = re.search(r"^Pages:\s+(\d+)$", out, re.M)
    assert match is not None
    return int(match[1])


def _package(home: Path, number: str) -> Path:
    return home / "archive" / "packages" / "2025" / CASE / number


def test_package_records_the_code_of_its_report(home: Path, kit: Kit) -> None:
    pkg = _package(home, NUMBER)
    meta = json.loads((pkg / "metadata.json").read_text(encoding="utf-8"))
    assert meta["check_codes"] == [{
        "code": CODE_ORIGINAL, "report_number": NUMBER, "supersedes": None, "kind": "公估报告",
        "title": "雅康高速C3合同段K42边坡坍塌损失公估报告",
        "issued_on": "2025-09-05",  # 2025-09-04 17:30 UTC is the 5th in Beijing
        "issuer": "四川蜀安保险公估有限公司", "pages": _pages(kit.sealed), "size": kit.sealed.stat().st_size,
        "sha256": sha256(kit.sealed), "path": f"data/report/{NUMBER}.pdf"}]
    readme = (pkg / "README.txt").read_text(encoding="utf-8")
    assert "五、校验码" in readme and "7K3M-9Q2X-R8TB-4VWZ-6N1P" in readme and sha256(kit.sealed) in readme
    # the package's own record, as `gongu verify --package` reads it; any typed form of the code
    assert package_code_record(pkg, "7k3m-9q2x-r8tb-4vwz-6n1p") == meta["check_codes"][0]
    assert package_code_record(pkg, CODE_R1) is None
    assert package_code_record(pkg, "not a code") is None
    r1 = json.loads((_package(home, NUMBER + "R1") / "metadata.json").read_text(encoding="utf-8"))
    # R1's case file lists the original's issuance too: recorded with its hash, as not in this package
    assert [(c["code"], c["report_number"], c["supersedes"], c["issued_on"], c["path"], c["size"], c["pages"])
            for c in r1["check_codes"]] == [
        (CODE_R1, NUMBER + "R1", NUMBER, "2025-09-20", f"data/report/{NUMBER}R1.pdf", kit.sealed_reissue.stat().st_size,
         _pages(kit.sealed_reissue)),
        (CODE_ORIGINAL, NUMBER, None, "2025-09-05", None, None, None)]
    assert r1["check_codes"][1]["sha256"] == sha256(kit.sealed)
    assert "不在本档案包中" in (_package(home, NUMBER + "R1") / "README.txt").read_text(encoding="utf-8")


def test_status_valid_superseded_destroyed(home: Path) -> None:
    with open_archive(home, NOW) as archive:
        original = lookup(archive.catalog, "7k3m 9q2x r8tb 4vwz 6n1p")
        r1 = lookup(archive.catalog, CODE_R1)
        destroyed = lookup(archive.catalog, CODE_DESTROYED)
        tomb = archive.catalog.tombstones()[0]
        assert lookup(archive.catalog, "7K3M9Q2XR8TB4VWZ6N1Q") is None  # one character off
        assert lookup(archive.catalog, "7K3M9Q2XR8TB4VWZ6N1") is None  # too short
        assert lookup(archive.catalog, "7K3M9Q2XR8TB4VWZ6NUP") is None  # U is not in the alphabet
    assert original is not None and original.status == "superseded" and original.status_text == f"已被 {NUMBER}R1 取代"
    assert r1 is not None and r1.status == "valid" and r1.status_text == "有效" and r1.report_number == NUMBER + "R1"
    assert destroyed is not None and destroyed.status == "destroyed" and destroyed.status_text == "已按保管期限销毁"
    # the row outlived the package: its number, hash and the tombstone's date remain
    assert destroyed.report_number == OTHER_NUMBER and destroyed.destroyed_at == tomb["disposed_at"]
    assert tomb["disposed_at"].startswith("2040-10-16")
    assert not (home / "archive" / "packages" / "2025" / "SAGC-2025-0713" / OTHER_NUMBER / "data").exists()


def test_an_original_reissued_before_archiving_is_still_found_as_superseded(kit: Kit, tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Only R1 is archived: the original's code comes from R1's case file (hash only), and the original's
    own package, archived later, completes the row with its file."""
    from archive.ingest import ingest
    from generator.loading import load_case
    from tests.archivekit import INGESTED_AT, reissue_of, write_case, write_home
    from tests.codekit import with_issuance
    from tests.sealkit import example_case

    home = write_home(tmp_path / "home", kit)
    monkeypatch.setenv("GONGU_FIRM_KEY_PASSPHRASE", "gongu-demo")
    original = with_issuance(example_case(), kit.sealed, CODE_ORIGINAL)
    r1 = with_issuance(reissue_of(original), kit.sealed_reissue, CODE_R1, at="2025-09-20T09:00:00+08:00")
    with open_archive(home, INGESTED_AT) as archive:
        ingest(archive, load_case(write_case(tmp_path / "r1", r1)), kit.sealed_reissue, by="档案员甲")
        known = lookup(archive.catalog, CODE_ORIGINAL)
        assert known is not None and known.status == "superseded" and known.successor == NUMBER + "R1"
        assert (known.sha256, known.path, known.size, known.kind) == (sha256(kit.sealed), None, None, "公估报告")
        ingest(archive, load_case(write_case(tmp_path / "case", original)), kit.sealed, by="档案员甲")
        held = lookup(archive.catalog, CODE_ORIGINAL)
        own = archive.catalog.package(CASE, NUMBER)
    assert held is not None and held.path == f"data/report/{NUMBER}.pdf" and held.size == kit.sealed.stat().st_size
    assert held.package_id == own["id"] and held.status == "superseded"


def test_withdrawal_is_logged_and_outranks_superseded(home: Path) -> None:
    with open_archive(home, NOW) as archive:
        with pytest.raises(ArchiveError, match="至少 8 个字"):
            withdraw(archive, CODE_ORIGINAL, reason="错了", by="档案员甲")
        with pytest.raises(ArchiveError, match="已按保管期限销毁"):
            withdraw(archive, CODE_DESTROYED, reason="委托人撤回委托，报告作废", by="档案员甲")
        with pytest.raises(ArchiveError, match="没有校验码"):
            withdraw(archive, "0000-0000-0000-0000-0000", reason="委托人撤回委托，报告作废", by="档案员甲")
        record = withdraw(archive, CODE_ORIGINAL, reason="委托人撤回委托，报告作废", by="档案员甲")
        assert record.status == "withdrawn" and record.withdrawn_reason == "委托人撤回委托，报告作废"
        assert record.withdrawn_at == "2026-03-02T10:00:00+08:00" and record.withdrawn_by == "档案员甲"
        with pytest.raises(ArchiveError, match="已于 2026-03-02"):
            withdraw(archive, CODE_ORIGINAL, reason="委托人撤回委托，报告作废", by="档案员甲")
        event = [e for e in archive.catalog.events(CASE) if e.kind == "withdrawal"]
    assert len(event) == 1 and event[0].details["code"] == CODE_ORIGINAL and event[0].report_number == NUMBER
    assert event[0].actor == "档案员甲" and event[0].details["reason"] == "委托人撤回委托，报告作废"


def test_withdraw_command_needs_the_persons_credential(home: Path) -> None:
    args = ("withdraw", "ab12-cd34-ef56-gh78-jk9m", "--reason", "报告数据有误，已另行出具更正报告", "--by", "档案员丙")
    clock = FixedClock.parse(NOW)
    refused = runner.invoke(app, ["archive", *args], obj=clock, env={"GONGU_PASSWORD": "wrong-password-1234"})
    assert refused.exit_code == 2, refused.output
    result = runner.invoke(app, ["archive", *args], obj=clock, env=by_env(args))
    assert result.exit_code == 0, result.output
    assert "已撤回" in result.output and "AB12-CD34-EF56-GH78-JK9M" in result.output
    with open_archive(home, NOW) as archive:
        record = lookup(archive.catalog, CODE_R1)
        event = next(e for e in archive.catalog.events(CASE) if e.kind == "withdrawal")
    assert record is not None and record.status == "withdrawn"
    assert event.actor == "档案员丙" and "credential" in event.details


def test_fsck_backfills_codes_of_packages_ingested_before_the_table(home: Path) -> None:
    # a catalog from before revision 0014 has no rows for the packages it holds
    storekit.execute(home, "DELETE FROM check_codes WHERE package_id IN (SELECT id FROM packages WHERE state = 'active')")
    with open_archive(home, NOW) as archive:
        assert lookup(archive.catalog, CODE_R1) is None
        report = fsck(archive)
        assert not report.clean and len(report.codes_missing) == 2
        repaired = fsck(archive, repair=True)
        assert any("校验码" in line for line in repaired.repaired)
        assert fsck(archive).codes_missing == []
        r1 = lookup(archive.catalog, CODE_R1)
        original = lookup(archive.catalog, CODE_ORIGINAL)
        assert lookup(archive.catalog, CODE_DESTROYED) is not None  # kept through it all
    assert r1 is not None and r1.status == "valid"
    assert original is not None and original.status == "superseded"


def test_a_package_without_the_key_gives_the_same_record_from_its_case_file(home: Path) -> None:
    """A package written before packages recorded codes: the backfill works them out from its own files."""
    pkg = open_package(_package(home, NUMBER))
    older = {k: v for k, v in pkg.metadata.items() if k != "check_codes"}
    raw = json.loads(pkg.case_file_bytes())
    assert code_records(older, raw, pkg.path) == pkg.metadata["check_codes"]
    # an unsealed copy, or a file other than the one issued, never gets the code
    raw["issuances"][0]["sealed"] = False
    assert code_records(older, raw, pkg.path) == []
    raw["issuances"][0]["sealed"] = True
    raw["issuances"][0]["pdf_sha256"] = "0" * 64
    assert code_records(older, raw, pkg.path) == []


def test_postgresql_catalog_keeps_codes_and_status(kit: Kit, tmp_path: Path, request: pytest.FixtureRequest,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    home = coded_home(tmp_path / "pg", kit, store_url=storekit.store_url(request, "postgresql"))
    monkeypatch.setenv("GONGU_HOME", str(home))
    with open_archive(home, AFTER_END) as archive:
        assert archive.catalog.dialect == "postgresql"
        statuses = {c: lookup(archive.catalog, c).status for c in (CODE_ORIGINAL, CODE_R1, CODE_DESTROYED)}  # type: ignore[union-attr]
        withdrawn = withdraw(archive, CODE_R1, reason="委托人撤回委托，报告作废", by="档案员甲")
        rows = archive.catalog._rows(check_codes_table.select())
    assert statuses == {CODE_ORIGINAL: "superseded", CODE_R1: "valid", CODE_DESTROYED: "destroyed"}
    assert withdrawn.status == "withdrawn" and len(rows) == 3


WITHDRAW_CHECK = "撤回记录与日志一致（已撤回的校验码均有日志事件）"


def _withdraw_check(home: Path) -> tuple[bool, str]:
    from archive.audit import audit

    with open_archive(home, NOW) as archive:
        result = audit(archive, log_events=False)
    check = next(c for c in result.checks if c.name == WITHDRAW_CHECK)
    return check.ok, check.detail


def test_audit_compares_withdrawals_with_the_log(home: Path) -> None:
    with open_archive(home, NOW) as archive:
        withdraw(archive, CODE_R1, reason="委托人撤回委托，报告作废", by="档案员甲")
    assert _withdraw_check(home) == (True, "")
    # someone "un-withdraws" the document by SQL: the public page would say 有效 again; the log says otherwise
    storekit.execute(home, "UPDATE check_codes SET withdrawn_at = NULL WHERE code = :c", c=CODE_R1)
    ok, detail = _withdraw_check(home)
    assert not ok and "AB12-CD34-EF56-GH78-JK9M" in detail and "目录中却未记为已撤回" in detail
    with open_archive(home, NOW) as archive:
        still = lookup(archive.catalog, CODE_R1)  # the public status follows the log, not the edited row
    assert still is not None and still.status == "withdrawn" and still.withdrawn_reason == "委托人撤回委托，报告作废"
    # and a withdrawal written by SQL without its event
    storekit.execute(home, "UPDATE check_codes SET withdrawn_at = '2026-01-01T00:00:00+08:00' WHERE code = :c",
                     c=CODE_ORIGINAL)
    ok, detail = _withdraw_check(home)
    assert not ok and "7K3M-9Q2X-R8TB-4VWZ-6N1P 在目录中记为已撤回，但日志中没有撤回事件" in detail
