"""`gongu assign` (gongu/cli/assign.py), run as a person runs it: `python -m gongu` in a subprocess on a
real home (SQLite catalog, the slope-collapse example uploaded by 王志强). The supervisor 王五 gives the
decision with their own account password (GONGU_PASSWORD); the assignment goes through
gongu.pipeline.assigning.assign_case, as the case page's form does, and leaves the same trail event."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from archive.accounts import add_account
from archive.workspace import get_case
from archive.workspace_assign import assignments
from generator.types import SHANGHAI
from gongu.pipeline.archiving import open_store
from gongu.settings import load_settings
from tests.test_workspace_store import HANDLER, example_data, files_of

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "lantern-orchard-copper-41"
ZHAO_PASSWORD = "willow-harbour-amber-77"
BOSS = "王五"


def _home(base: Path, store: str = "") -> tuple[Path, str]:
    """A home with registered people, five accounts and one case in progress (draft, version 1)."""
    from gongu.pipeline.workspace import upload_case

    h = base / "home"
    h.mkdir()
    names = ["王志强", "陈晓梅", "赵丽", "刘建国", BOSS]
    (h / "gongu.toml").write_text(f"[people]\nnames = {json.dumps(names, ensure_ascii=False)}\n{store}",
                                  encoding="utf-8")
    catalog = open_store(load_settings(h))
    try:
        when = datetime(2026, 1, 5, 8, 0, tzinfo=SHANGHAI)
        for username, person, roles, password in (
                ("wang", "王志强", {"handler", "proofreader"}, PASSWORD),
                ("chen", "陈晓梅", {"handler"}, PASSWORD),
                ("zhao", "赵丽", {"proofreader", "rechecker"}, ZHAO_PASSWORD),
                ("liu", "刘建国", {"proofreader"}, PASSWORD),
                ("boss", BOSS, {"supervisor"}, PASSWORD)):
            add_account(catalog, username, password=password, roles=roles, person=person, now=when)
        case_id = upload_case(catalog, h, files_of(example_data()), account=HANDLER,
                              now="2026-01-05T09:00:00+08:00").case_id
    finally:
        catalog.close()
    return h, case_id


@pytest.fixture
def home(tmp_path: Path) -> tuple[Path, str]:
    return _home(tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store_home(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, str]:
    """The same home on the embedded SQLite catalog and on a PostgreSQL server ([store] url)."""
    if request.param == "sqlite":
        return _home(tmp_path)
    return _home(tmp_path, f'[store]\nurl = "{request.getfixturevalue("pg_url")}"\nconnect_timeout = 5\n')


def gongu(home: Path, *args: str, password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GONGU_HOME": str(home), "GONGU_PASSWORD": password, "PYTHONPATH": str(ROOT),
           "COLUMNS": "200"}
    env.pop("GONGU_USER", None)
    return subprocess.run([sys.executable, "-m", "gongu", *args], capture_output=True, text=True, env=env,
                          cwd=home, timeout=120, stdin=subprocess.DEVNULL)


def flat(text: str) -> str:
    """`text` without whitespace: a long message may be wrapped at the terminal's width."""
    return "".join(text.split())


def state(home: Path, case_id: str) -> tuple[dict[str, str], int, list[Any]]:
    """(duty → account holding it, the case's version, its trail events of assignment)."""
    catalog = open_store(load_settings(home))
    try:
        row = get_case(catalog, case_id)
        assert row is not None
        events = [e for e in catalog.events(case_id) if e.kind == "web"
                  and e.details.get("action") in ("case_assign", "case_handover")]
        return {d: a.account for d, a in assignments(catalog, case_id).items()}, row.version, events
    finally:
        catalog.close()


def test_a_supervisor_assigns_then_hands_over_a_level_with_the_trail_event_the_web_records(
        any_store_home: tuple[Path, str]) -> None:
    h, case_id = any_store_home
    done = gongu(h, "assign", case_id, "--role", "proofread", "--to", "zhao", "--reason", "专业对口",
                 "--by", BOSS, "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    # the upload made version 1; the assignment is the next change
    assert {k: out[k] for k in ("action", "duty", "duty_title", "to", "to_person", "previous", "reason", "by",
                                "version")} == {
        "action": "case_assign", "duty": "proofread", "duty_title": "校对", "to": "zhao", "to_person": "赵丽",
        "previous": None, "reason": "专业对口", "by": "boss", "version": 2}
    held, version, [event] = state(h, case_id)
    assert held == {"proofread": "zhao"} and version == 2
    assert event.actor == "boss" and event.seq == out["event"]
    assert event.details == {
        "action": "case_assign", "client": "cli", "account": "boss", "person": BOSS, "duty": "proofread",
        "to": "zhao", "to_person": "赵丽", "previous": None, "reason": "专业对口", "assigned_at": out["assigned_at"],
        "credential": {"method": "password", "account": "boss"}}

    # a role name stands for the one duty it takes (proofreader → 校对); the holder is handed over
    moved = gongu(h, "assign", case_id, "--role", "proofreader", "--to", "liu", "--reason", "赵丽休假",
                  "--by", BOSS, "--expect-version", "2")
    assert moved.returncode == 0, moved.stderr
    assert flat(f"已移交：案件 {case_id} 的校对 → 刘建国（liu）（原为 赵丽（zhao））；原因：赵丽休假；案件版本 3") in flat(moved.stdout)
    held, version, events = state(h, case_id)
    assert held == {"proofread": "liu"} and version == 3
    assert [(e.details["action"], e.details["previous"], e.details["to"]) for e in events] == [
        ("case_assign", None, "zhao"), ("case_handover", "zhao", "liu")]


def test_the_handler_duty_moves_the_case_to_the_new_account(home: tuple[Path, str]) -> None:
    h, case_id = home
    done = gongu(h, "assign", case_id, "--role", "handler", "--to", "chen", "--reason", "王志强出差", "--by", BOSS,
                 "--json")
    assert done.returncode == 0, done.stderr
    catalog = open_store(load_settings(h))
    try:
        row = get_case(catalog, case_id)
        assert row is not None and (row.handler, row.handler_person) == ("chen", "陈晓梅")
        assert row.assigned_at == json.loads(done.stdout)["assigned_at"]  # 4.4's clock starts again
    finally:
        catalog.close()


@pytest.mark.parametrize(("args", "password", "words"), [
    # 9.3: the uploader never reviews the case (wang holds the proofreader role)
    (["--role", "proofread", "--to", "wang", "--reason", "x", "--by", BOSS], PASSWORD, "账户 wang 是本案的承办人员，不能审核本案"),
    (["--role", "recheck", "--to", "liu", "--reason", "x", "--by", BOSS], PASSWORD, "没有「复核」所需的角色"),
    (["--role", "proofread", "--to", "zhao", "--reason", "   ", "--by", BOSS], PASSWORD, "指派或移交须写明原因"),
    (["--role", "proofread", "--to", "nobody", "--reason", "x", "--by", BOSS], PASSWORD, "没有可用的账户 'nobody'"),
    (["--role", "appraiser", "--to", "zhao", "--reason", "x", "--by", BOSS], PASSWORD, "--role 取值无效：'appraiser'"),
    (["--role", "proofread", "--to", "zhao", "--reason", "x", "--by", BOSS, "--expect-version", "7"], PASSWORD,
     "案件已被他人更新，请刷新后重试"),
    # a person's decision only under their own account: a wrong password, or a person who is no supervisor
    (["--role", "proofread", "--to", "zhao", "--reason", "x", "--by", BOSS], ZHAO_PASSWORD, "账户密码不正确"),
    (["--role", "proofread", "--to", "liu", "--reason", "x", "--by", "赵丽"], ZHAO_PASSWORD,
     "赵丽 没有可用的、具有此决定所需角色（supervisor）的账户"),
    (["--role", "proofread", "--to", "zhao", "--reason", "x", "--by", "张三"], PASSWORD, "不是 gongu.toml 的 people.names"),
])
def test_a_refused_assignment_says_why_with_exit_2_and_changes_nothing(home: tuple[Path, str], args: list[str],
                                                                      password: str, words: str) -> None:
    h, case_id = home
    result = gongu(h, "assign", case_id, *args, password=password)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert flat(words) in flat(result.stderr), result.stderr
    assert "Traceback" not in result.stderr
    assert state(h, case_id) == ({}, 1, [])


def test_an_unknown_case_is_refused(home: tuple[Path, str]) -> None:
    h, _ = home
    result = gongu(h, "assign", "NO-SUCH-CASE", "--role", "proofread", "--to", "zhao", "--reason", "x", "--by", BOSS)
    assert result.returncode == 2 and "工作台中没有案件 NO-SUCH-CASE" in result.stderr
