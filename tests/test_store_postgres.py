"""The catalog and log on a real PostgreSQL 15 server (issue 16 §2–3): one schema for both dialects,
settings that never print a password, `gongu store migrate`, offices ingesting at once, a process
killed mid-ingest, and the server stopped and restarted during a run."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import inspect
from typer.testing import CliRunner

from archive.catalog import SCHEMA_REVISION, Catalog, CatalogError, CatalogUnavailable, ServerStore
from archive.catalog_server import redact
from archive.eventlog import verify_log
from archive.fsck import fsck
from archive.holds import place_hold
from archive.ingest import ingest
from archive.package import iter_bags, validate
from generator.loading import load_case
from gongu.cli.app import app
from gongu.pipeline.archiving import build_archive
from gongu.pipeline.indexing import open_index
from gongu.settings import SettingsError, load_settings, parse_config
from index.maintenance import index_drift
from signing.keys import DEMO_PASSPHRASE
from tests import pgkit
from tests.archivekit import Kit, ingested_home, init_home, write_case, write_home
from tests.sealkit import example_case

REPO = Path(__file__).resolve().parent.parent
runner = CliRunner()


def _cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def _store(url: str, files: Path) -> ServerStore:
    return ServerStore(url, files_dir=files)


# ───────────────────────────── one definition, two dialects ─────────────────────────────

def test_a_new_server_catalog_has_the_same_tables_and_columns_as_sqlite(pg_url: str, tmp_path: Path) -> None:
    lite = Catalog(tmp_path / "catalog.sqlite")
    server = Catalog(_store(pg_url, tmp_path))
    try:
        assert server.schema_revision() == lite.schema_revision() == SCHEMA_REVISION
        shapes = []
        for catalog in (lite, server):
            with catalog.engine.connect() as conn:
                insp = inspect(conn)
                shapes.append({t: sorted(c["name"] for c in insp.get_columns(t)) for t in insp.get_table_names()})
        assert shapes[0] == shapes[1]
        assert {"packages", "events", "checkpoints", "holds", "disposals", "tombstones", "index_queue",
                "alembic_version"} <= set(shapes[1])
        assert server.integrity_problems() == [] and server.dialect == "postgresql"
    finally:
        lite.close()
        server.close()


def test_an_unknown_schema_on_the_server_is_refused_not_migrated(pg_url: str, tmp_path: Path) -> None:
    import psycopg

    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE TABLE packages (id int primary key, something_else text)")
    with pytest.raises(CatalogError, match="结构无法识别"):
        Catalog(_store(pg_url, tmp_path))


def test_a_role_that_may_not_create_the_tables_gets_a_message_not_a_traceback(pg_url: str, tmp_path: Path) -> None:
    import uuid

    import psycopg

    role = f"clerk_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    with pytest.raises(CatalogError, match="拒绝了操作：permission denied for schema public"):
        Catalog(_store(pg_url.replace("postgres@", f"{role}@"), tmp_path))


def test_the_servers_integrity_check_finds_an_invalid_index(pg_url: str, tmp_path: Path) -> None:
    import psycopg

    catalog = Catalog(_store(pg_url, tmp_path))
    assert catalog.integrity_problems() == []
    with psycopg.connect(pg_url) as conn:  # as a failed CREATE INDEX CONCURRENTLY leaves it (superuser here)
        conn.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'events_case'::regclass")
    assert catalog.integrity_problems() == ["索引 events_case 无效（invalid index）"]
    catalog.close()


def test_a_package_over_2_gib_is_catalogued_on_the_server(pg_url: str, tmp_path: Path) -> None:
    catalog = Catalog(_store(pg_url, tmp_path))
    big = 3 * 2**31  # a package with long video recordings
    with catalog.write():
        pid = catalog.add_package(case_id="C", report_number="R", rel_path="2025/C/R", year=2025, kind="survey",
                                  statutory=0, retention_class="ordinary", closed_at="2025-01-01",
                                  retention_until="2040-01-01", package_hash="h", payload_hash="p", file_count=1,
                                  byte_count=big, ingested_at="2025-01-02", ingested_by="甲")
    assert catalog.package_by_id(pid)["byte_count"] == big
    catalog.close()


def test_a_writer_waits_for_the_lock_and_a_wait_past_the_statement_timeout_is_reported(
        pg_url: str, tmp_path: Path) -> None:
    """The advisory lock really serialises writers (another office holding it makes this one wait), and
    a wait longer than `statement_timeout` ends in a plain CatalogUnavailable, nothing written."""
    import psycopg

    from archive.catalog_server import ADVISORY_LOCK_KEY

    Catalog(_store(pg_url, tmp_path)).close()  # the schema exists
    catalog = Catalog(ServerStore(pg_url, files_dir=tmp_path, statement_timeout=1))
    with psycopg.connect(pg_url) as other:  # another office, mid-transaction
        other.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_KEY,))
        with pytest.raises(CatalogUnavailable, match="statement_timeout"):
            with catalog.write():
                catalog.add_hold("C", kind="dispute", reason="r", reference="x", by="甲", at="2026-01-01")
    assert catalog.active_holds("C") == []
    with catalog.write():  # the other transaction ended: the lock is free again
        catalog.add_hold("C", kind="dispute", reason="r", reference="x", by="甲", at="2026-01-01")
    assert len(catalog.active_holds("C")) == 1
    catalog.close()


# ─────────────────────────────────────── settings ───────────────────────────────────────

def test_store_settings_are_typed_and_a_password_is_never_printed() -> None:
    toml = parse_config('[store]\nurl = "postgresql://gongu@db.office/gongu"\npool_size = 3\nconnect_timeout = 4\n'
                        'statement_timeout = 30\n')
    assert (toml.store.pool_size, toml.store.connect_timeout, toml.store.statement_timeout) == (3, 4, 30)
    for text, said in [('url = "mysql://u:s3cret@h/db"', "only PostgreSQL"),
                       ('url = "postgresql://u:s3cret@h"', "database name missing"),
                       ('url = "postgresql://u:s3cret@h/db"\npool_siz = 3', "did you mean pool_size"),
                       ('url = "postgresql://u:s3cret@h/db"\npool_size = "3"', "wrong type")]:
        with pytest.raises(SettingsError) as err:
            parse_config(f"[store]\n{text}\n")
        assert said in str(err.value) and "s3cret" not in str(err.value), str(err.value)
    assert redact("postgresql://gongu:s3cret@db:5432/gongu") == "postgresql://gongu:***@db:5432/gongu"


# ─────────────────────────────────── gongu store migrate ───────────────────────────────────

@pytest.fixture(scope="module")
def sqlite_home(kit: Kit, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An embedded home with two packages, a hold (so the holds id sequence matters) and a checkpoint."""
    home = ingested_home(tmp_path_factory.mktemp("lite"), kit, reissue=True, checkpoint=True)
    from tests.archivekit import open_archive

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GONGU_FIRM_KEY_PASSPHRASE", DEMO_PASSPHRASE)
        with open_archive(home) as archive:
            place_hold(archive, "SAGC-2025-0712", kind="dispute", reason="异议", reference="函-1", by="法务")
    return home


def test_store_migrate_copies_everything_and_the_log_root_is_unchanged(
        sqlite_home: Path, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.archivekit import copied_home

    home = copied_home(sqlite_home, tmp_path, monkeypatch)
    with build_archive(load_settings(home)) as archive:
        before = verify_log(archive.catalog, export_dir=archive.config.checkpoint_dir)
        counts = {t: len(rows) for t, rows in [("packages", archive.catalog.packages()),
                                                ("events", archive.catalog.event_rows())]}
    assert before.ok and before.size == 3 and counts == {"packages": 2, "events": 3}  # 2 ingests and a hold

    code, out = _cli("store", "migrate", "--to", pg_url, "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["root_hash"] == before.root and report["tree_size"] == 3
    assert report["rows"]["packages"] == 2 and report["rows"]["events"] == 3 and report["rows"]["holds"] == 1
    assert report["rows"]["checkpoints"] == 1 and report["sequences"]["holds.id"] == 2
    assert "url" not in (home / "gongu.toml").read_text(encoding="utf-8")  # nothing switched unless asked
    from gongu.jobs.pg_worker import schema_applied

    assert schema_applied(pg_url)  # procrastinate's job queue beside the catalog (docs/deployment.md)

    # a second run is refused: the target is no longer empty
    code, out = _cli("store", "migrate", "--to", pg_url)
    assert code == 2 and "不是空库" in out

    # switch by hand, as the message says; the server catalog then carries on where SQLite stopped
    config = home / "gongu.toml"
    config.write_text(f'[store]\nurl = "{pg_url}"\n' + config.read_text(encoding="utf-8"), encoding="utf-8")
    with build_archive(load_settings(home)) as archive:
        assert archive.catalog.dialect == "postgresql"
        after = verify_log(archive.catalog, export_dir=archive.config.checkpoint_dir)
        assert after.ok and after.root == before.root and after.checkpoints_checked >= 2  # catalog + file
        place_hold(archive, "SAGC-2025-0712", kind="regulator", reason="调档", reference="函-2", by="法务")
        assert [h["id"] for h in archive.catalog.active_holds("SAGC-2025-0712")] == [1, 2]
    code, out = _cli("archive", "audit", "--json", str(tmp_path / "audit.json"))
    assert code == 0, out
    assert json.loads((tmp_path / "audit.json").read_text(encoding="utf-8"))["ok"]


def test_store_migrate_switch_writes_the_url_but_never_a_password(
        sqlite_home: Path, pg_cluster: pgkit.PgCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.archivekit import copied_home

    home = copied_home(sqlite_home, tmp_path, monkeypatch)
    url = pg_cluster.create_database()
    with_password = url.replace("postgres@", "postgres:s3cret@")
    code, out = _cli("store", "migrate", "--to", with_password, "--switch")
    assert code == 2 and "PGPASSWORD" in out and "s3cret" not in out
    nobody_listens = f"postgresql://postgres:s3cret@127.0.0.1:{pgkit._free_port()}/gongu"  # noqa: SLF001
    code, out = _cli("store", "migrate", "--to", nobody_listens)
    assert code == 2 and "无法连接目标数据库" in out and "s3cret" not in out
    code, out = _cli("store", "migrate", "--to", url, "--switch")
    assert code == 0, out
    assert load_settings(home).store.url == url
    code, out = _cli("archive", "log", "verify")
    assert code == 0, out
    code, out = _cli("store", "migrate", "--to", url)
    assert code == 2 and "已使用数据库服务器" in out


def test_store_migrate_refuses_a_table_the_schema_does_not_know_and_leaves_the_target_empty(
        sqlite_home: Path, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every table of the source is copied or the move is refused: a table no migration creates (a
    newer Gongu's, or someone's own) stops it, and the target is left as empty as it was, ready for a
    second attempt."""
    import sqlite3

    from archive.catalog_copy import existing_tables
    from tests.archivekit import copied_home

    home = copied_home(sqlite_home, tmp_path, monkeypatch)
    with sqlite3.connect(home / "archive" / "catalog.sqlite") as db:
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        db.execute("INSERT INTO notes (body) VALUES ('x')")
    code, out = _cli("store", "migrate", "--to", pg_url)
    assert code == 2 and "notes" in out and "Traceback" not in out
    assert existing_tables(_store(pg_url, tmp_path)) == []
    with sqlite3.connect(home / "archive" / "catalog.sqlite") as db:
        db.execute("DROP TABLE notes")
    code, out = _cli("store", "migrate", "--to", pg_url)
    assert code == 0, out


# ─────────────────────────── several offices, crashes, restarts ───────────────────────────

def _office(base: Path, name: str, kit: Kit, url: str, shared: Path) -> Path:
    """One office's GONGU_HOME: its own checkpoint folder, the shared package tree, index and server."""
    home = write_home(base / name, kit, store_url=url, init=False)
    config = home / "gongu.toml"
    text = config.read_text(encoding="utf-8").replace("[archive]\n", f'[archive]\nroot = "{shared / "packages"}"\n')
    config.write_text(f'[paths]\nindex = "{shared / "index"}"\n' + text, encoding="utf-8")
    init_home(home)  # the first office initialises the shared archive; the others find it initialised
    return home


def _worker(home: Path, case: Path, report: Path, by: str) -> subprocess.Popen[str]:
    env = {**os.environ, "GONGU_HOME": str(home), "GONGU_FIRM_KEY_PASSPHRASE": DEMO_PASSPHRASE}
    return subprocess.Popen([sys.executable, "-m", "tests.archive_worker", "ingest", str(home), str(case), str(report), by],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _case(kit: Kit, folder: Path, case_id: str) -> tuple[Path, Path]:
    data = example_case()
    data["case_id"] = case_id
    return write_case(folder, data), kit.sealed_for(data)


def _assert_consistent(home: Path) -> None:
    """Every bag valid; fsck --repair leaves a clean archive; one catalog row and one ingest event per
    package; the log verifies; the index agrees with the catalog."""
    settings = load_settings(home)
    root = settings.resolve(settings.archive.root)
    for bag in iter_bags(root):
        assert not validate(bag), bag
    with build_archive(settings) as archive:
        first = fsck(archive)
        assert not first.missing_packages and not first.invalid_packages and not first.catalog_problems
        fsck(archive, repair=True)
        assert fsck(archive).clean
        rows = archive.catalog.packages()
        assert len(rows) == len(list(iter_bags(root)))
        ingests = [e for e in archive.catalog.events() if e.kind.startswith("ingest")]
        assert sorted((e.case_id, e.report_number) for e in ingests) == sorted(
            (r["case_id"], r["report_number"]) for r in rows)
        log = verify_log(archive.catalog)
        assert log.ok, log.problems
        assert [e.seq for e in archive.catalog.events()] == list(range(log.size))
        drift = index_drift(open_index(settings), archive.catalog)
        assert drift.clean, drift.lines()


def test_four_processes_in_two_offices_ingest_at_once_into_one_log(kit: Kit, pg_url: str, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    offices = [_office(tmp_path, name, kit, pg_url, shared) for name in ("chengdu", "guiyang")]
    jobs = [_case(kit, tmp_path / f"c{i}", f"PAR-{i}") for i in range(3)]
    jobs.append(jobs[0])  # the same report from the other office at the same moment
    procs = [_worker(offices[i % 2], case, report, f"员{i}") for i, (case, report) in enumerate(jobs)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-1500:] for o in outputs]
    assert sorted(o[0].split()[0] for o in outputs) == ["CREATED", "CREATED", "CREATED", "EXISTING"]
    with build_archive(load_settings(offices[1])) as archive:
        assert sorted(r["case_id"] for r in archive.catalog.packages()) == ["PAR-0", "PAR-1", "PAR-2"]
        assert [e.seq for e in archive.catalog.events()] == [0, 1, 2]
    for office in offices:
        _assert_consistent(office)


def test_a_process_killed_mid_ingest_leaves_a_clean_archive(kit: Kit, pg_url: str, tmp_path: Path) -> None:
    home = write_home(tmp_path / "home", kit, store_url=pg_url)
    rng = random.Random(16)
    for i in range(3):
        case, report = _case(kit, tmp_path / f"k{i}", f"KILL-{i}")
        proc = _worker(home, case, report, "甲")
        time.sleep(rng.uniform(0.5, 4.0))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=120)
        _assert_consistent(home)
        code, out = _cli_home(home, "archive", "fsck")
        assert code == 0, out


def _cli_home(home: Path, *args: str) -> tuple[int, str]:
    env = {**os.environ, "GONGU_HOME": str(home), "GONGU_FIRM_KEY_PASSPHRASE": DEMO_PASSPHRASE}
    done = subprocess.run([str(Path(sys.executable).parent / "gongu"), *args], env=env, capture_output=True,
                          text=True, timeout=180)
    return done.returncode, done.stdout + done.stderr


def test_the_server_stopped_and_restarted_during_a_run(kit: Kit, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GONGU_FIRM_KEY_PASSPHRASE", DEMO_PASSPHRASE)
    with pgkit.cluster() as pg:
        # trust authentication accepts any password: it is here only to prove it is never printed
        url = pg.create_database().replace("postgres@", "postgres:s3cret@")
        home = write_home(tmp_path / "home", kit, store_url=url)
        cases = [_case(kit, tmp_path / f"r{i}", f"RST-{i}") for i in range(3)]
        with build_archive(load_settings(home)) as archive:
            ingest(archive, load_case(cases[0][0]), cases[0][1], by="甲")
            pg.stop()
            # mid-run: the server is gone; the open archive reports it plainly (after one retry)
            with pytest.raises(CatalogUnavailable) as err:
                ingest(archive, load_case(cases[1][0]), cases[1][1], by="甲")
            message = str(err.value)
            assert "无法连接目录数据库服务器" in message and "已重试一次" in message and "s3cret" not in message
            # a command run now: exit 2, a Chinese message, no traceback, no password
            code, out = _cli_home(home, "archive", "list")
            assert code == 2 and "无法连接目录数据库服务器" in out and "Traceback" not in out and "s3cret" not in out, out
            pg.start()
            # the same process carries on once the server is back: its dead pooled connections are replaced
            ingest(archive, load_case(cases[1][0]), cases[1][1], by="甲")
            ingest(archive, load_case(cases[2][0]), cases[2][1], by="甲")
            assert sorted(r["case_id"] for r in archive.catalog.packages()) == ["RST-0", "RST-1", "RST-2"]
        # and a restart between two statements of one open archive is not even noticed (pre-ping / retry)
        with build_archive(load_settings(home)) as archive:
            assert len(archive.catalog.packages()) == 3
            pg.stop()
            pg.start()
            assert len(archive.catalog.events()) == 3
        _assert_consistent(home)
        code, out = _cli_home(home, "archive", "fsck")
        assert code == 0, out


def test_fsck_leaves_another_offices_running_ingest_alone(kit: Kit, pg_url: str, tmp_path: Path) -> None:
    """Offices share the package tree: a temp folder another machine is filling is not this fsck's to
    remove (its process cannot be checked from here); one left a day ago by a crashed ingest is."""
    shared = tmp_path / "shared"
    home = _office(tmp_path, "chengdu", kit, pg_url, shared)
    tmp_root = shared / "packages" / ".tmp"
    running = tmp_root / "0123456789abcdef0123456789abcdef-guiyang_pc-4242"
    stale = tmp_root / "fedcba9876543210fedcba9876543210-guiyang_pc-4343"
    for folder in (running, stale):
        (folder / "data").mkdir(parents=True)
    day_and_a_bit = time.time() - 25 * 3600
    os.utime(stale, (day_and_a_bit, day_and_a_bit))
    with build_archive(load_settings(home)) as archive:
        report = fsck(archive, repair=True)
    assert report.temp_folders == [stale.name]
    assert running.is_dir() and not stale.exists()
