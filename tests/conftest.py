"""Fixtures shared by every test module of a process."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

import pytest

from generator.loading import load_case
from generator.render import RenderResult, render_report
from tests.archivekit import Kit, build_kit
from tests.storekit import store_kind  # noqa: F401 — the SQLite / PostgreSQL parametrisation of store suites


@pytest.fixture(scope="session")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Kit:
    """The demo PKI and the example's sealed reports, made once per test process (sealing is slow); tests
    that change a report copy it first."""
    return build_kit(Path(tmp_path_factory.mktemp("kit")))


EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="session")
def example_pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, RenderResult]:
    """Each bundled example rendered to PDF once per test run, shared by the modules that read the same
    PDF (test_render_pdf, test_report_layout) even across xdist workers: the first worker renders under a
    lock, the others read its files. Rendering is deterministic (byte-identical), so sharing loses nothing."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent / f"example-pdfs-{run}") if run else (base / "example-pdfs")
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # held while rendering; released when the file closes
        index = folder / "index.json"
        if not index.exists():
            done = {}
            for case in sorted(EXAMPLES_DIR.glob("*/case.json")):
                if '"forensic_appraisal"' in case.read_text("utf-8"):
                    continue  # several documents each: tests/test_forensic_documents.py
                result = render_report(load_case(case), folder / case.parent.name, formats=("pdf",))
                assert result.pdf is not None
                done[case.parent.name] = {"pdf": str(result.pdf), "pages": result.pages}
            index.write_text(json.dumps(done), encoding="utf-8")
        stored = json.loads(index.read_text(encoding="utf-8"))
    return {name: RenderResult(pdf=Path(v["pdf"]), docx=None, pages=v["pages"]) for name, v in stored.items()}


@pytest.fixture(scope="session")
def pg_cluster():  # type: ignore[no-untyped-def]
    """One throw-away PostgreSQL 15 server per test process, shared by every module (tests/pgkit.py);
    a test that stops or restarts a server starts its own with `pgkit.cluster()`."""
    from tests import pgkit

    if not pgkit.available():
        pytest.fail("PostgreSQL 15 is not installed: run `make test`, which installs postgresql-15")
    with pgkit.cluster() as pg:
        yield pg


@pytest.fixture
def pg_url(pg_cluster) -> str:  # type: ignore[no-untyped-def]
    """The URL of a new empty database on the shared server: each test starts clean."""
    return pg_cluster.create_database()

