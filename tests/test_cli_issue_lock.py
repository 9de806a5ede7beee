"""`gongu issue` takes the catalog's per-case issue lock (archive/workspace_steps.py) that the web
workspace's issuing takes: while another issuance of the case holds it, the command renders and seals
nothing and exits 2 「正在出具」 naming who started it and when; the lock is given back however the
command ends; a home without a catalog issues as before. The real CLI, catalog and renderer."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
from case_edits import SLOPE
from typer.testing import CliRunner

from archive.workspace_steps import current_lock, release_lock, take_lock
from generator.loading import load_case
from generator.types import SHANGHAI
from gongu.cli.app import app
from gongu.pipeline.archiving import open_store
from gongu.settings import load_settings
from tests.peoplekit import people_home

runner = CliRunner()


def _case(tmp_path: Path) -> tuple[Path, str]:
    shutil.copytree(SLOPE.parent, tmp_path / "case")
    case_file = tmp_path / "case" / "case.json"
    return case_file, load_case(case_file).case.case_id


def _flat(text: str) -> str:  # rich wraps long lines at the terminal width
    return "".join(text.split())


def test_a_held_lock_refuses_the_cli_issue_until_released(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = people_home(tmp_path / "home", monkeypatch, accounts=True)  # a home with a SQLite catalog
    case_file, case_id = _case(tmp_path)
    before = case_file.read_bytes()
    catalog = open_store(load_settings(home), create=False)
    try:
        started = datetime.now(SHANGHAI).replace(microsecond=0)
        token, _ = take_lock(catalog, case_id, account="liu", now=started)  # a web issuance is running
        assert token

        held = runner.invoke(app, ["issue", str(case_file), "--unsealed"])
        assert held.exit_code == 2, held.output
        assert _flat(f"正在出具：liu 于 {started.isoformat()} 开始出具案件 {case_id} 的报告") in _flat(held.output)
        assert not (home / "issued").exists() and case_file.read_bytes() == before  # nothing rendered or recorded
        assert current_lock(catalog, case_id).token == token  # type: ignore[union-attr]  # the holder's, untouched

        release_lock(catalog, case_id, token)
        # a refused issue (no [signing], exit 1) gives the lock back too
        refused = runner.invoke(app, ["issue", str(case_file)])
        assert refused.exit_code == 1, refused.output
        assert current_lock(catalog, case_id) is None

        issued = runner.invoke(app, ["issue", str(case_file), "--unsealed"])
        assert issued.exit_code == 0, issued.output
        assert (home / "issued" / case_id / "SA-GC-20250905-017.pdf").is_file()
        assert current_lock(catalog, case_id) is None  # given back after the issue
    finally:
        catalog.close()


def test_a_home_without_a_catalog_issues_unlocked_and_creates_none(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    home = people_home(tmp_path / "home", monkeypatch)  # no accounts: no catalog file
    case_file, _ = _case(tmp_path)
    result = runner.invoke(app, ["issue", str(case_file)])  # refused for want of [signing], as before
    assert result.exit_code == 1 and "不予出具" in result.output
    assert not list(home.rglob("*.sqlite*"))
