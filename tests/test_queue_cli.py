"""`gongu queue` (gongu/cli/queue.py): the workspace's open steps with due times, filtered by person, kind
and stage, as a table or JSON — the same list as the web's 「我的待办」 — and a clear error with exit code 2
for a bad option value. The clock is fixed through click's context object (nothing on the command line
moves time)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from archive.catalog import Catalog
from generator.clock import FixedClock
from gongu.cli.app import app
from gongu.pipeline.assigning import assign_case
from gongu.pipeline.workspace import submit_case, upload_case
from tests.test_workspace_store import HANDLER, Acct

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "slope-collapse"
runner = CliRunner()
SUPERVISOR = Acct(10, "boss", "王五", frozenset({"supervisor"}))


def _files(case_id: str, n: int, *, contacted: bool) -> list[tuple[str, Any]]:
    data = json.loads((EXAMPLE / "case.json").read_text(encoding="utf-8"))
    data.pop("reviews")
    data["case_id"], data["report"]["number"] = case_id, f"{data['report']['number']}-{n}"
    if not contacted:
        data.pop("contact")  # 4.4 open; the survey is recorded (5.1 done)
    files = [("case.json", io.BytesIO(json.dumps(data, ensure_ascii=False).encode()))]
    return files + [(f"photos/{p.name}", io.BytesIO(p.read_bytes())) for p in sorted((EXAMPLE / "photos").iterdir())]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from archive.accounts import add_account
    from generator.types import SHANGHAI

    h = tmp_path_factory.mktemp("queue-cli") / "home"
    h.mkdir()
    names = ["王志强", "陈晓梅", "赵丽", "王五"]
    (h / "gongu.toml").write_text(f"[people]\nnames = {json.dumps(names, ensure_ascii=False)}\n", encoding="utf-8")
    catalog = Catalog(h / "archive" / "catalog.sqlite")
    try:
        upload_case(catalog, h, _files("Q-1", 1, contacted=False), account=HANDLER, now="2026-01-05T08:00:00+08:00")
        upload_case(catalog, h, _files("Q-2", 2, contacted=True), account=HANDLER, now="2026-01-05T08:00:00+08:00")
        submit_case(catalog, h, "Q-2", account=HANDLER, now="2026-01-05T08:00:00+08:00")
        from datetime import datetime

        add_account(catalog, "zhao", password="queue-cli-password-2026", roles={"proofreader"}, person="赵丽",
                    now=datetime(2025, 12, 1, tzinfo=SHANGHAI))
        # Q-1's handler assigned again at 09:00: its 4.4 contact falls due at 09:30
        add_account(catalog, "wang", password="queue-cli-password-2026", roles={"handler"}, person="王志强",
                    now=datetime(2025, 12, 1, tzinfo=SHANGHAI))
        assign_case(catalog, "Q-1", duty="handler", assignee="wang", reason="重新指派", account=SUPERVISOR,
                    now="2026-01-05T09:00:00+08:00", expected_version=None)
        assign_case(catalog, "Q-2", duty="proofread", assignee="zhao", reason="轮值", account=SUPERVISOR,
                    now="2026-01-05T09:00:00+08:00", expected_version=None)
    finally:
        catalog.close()
    return h


def queue(home: Path, *args: str, now: str = "2026-01-05T09:20:00+08:00") -> Any:
    return runner.invoke(app, ["queue", *args], obj=FixedClock.parse(now), env={"GONGU_HOME": str(home)})


def test_json_lists_every_open_step_with_its_due_time_and_clause(home: Path) -> None:
    result = queue(home, "--json")
    assert result.exit_code == 0, result.output
    items = json.loads(result.output)
    assert [(i["case_id"], i["stage"], i["person"], i["due_at"], i["clause"]) for i in items] == [
        ("Q-1", "contact", "王志强", "2026-01-05T09:30:00+08:00", "4.4"),  # 09:00 assignment + 30 minutes
        ("Q-1", "write", "王志强", None, "9.1"),
        ("Q-2", "proofread", "赵丽", None, "9.3"),
    ]
    assert items[0]["hours_left"] == pytest.approx(0.17) and items[0]["time_left"] == "剩 10 分钟"
    assert not items[0]["overdue"] and not items[0]["estimated"]


def test_overdue_comes_first_and_filters_narrow_the_list(home: Path) -> None:
    late = json.loads(queue(home, "--json", now="2026-01-05T10:00:00+08:00").output)
    assert (late[0]["stage"], late[0]["overdue"], late[0]["time_left"]) == ("contact", True, "逾期 30 分钟")
    mine = json.loads(queue(home, "--json", "--person", "赵丽").output)
    assert [(i["case_id"], i["stage"]) for i in mine] == [("Q-2", "proofread")]
    assert json.loads(queue(home, "--json", "--stage", "contact").output)[0]["case_id"] == "Q-1"
    assert json.loads(queue(home, "--json", "--kind", "forensic_appraisal").output) == []


def test_the_table_names_the_step_the_person_and_the_time_left(home: Path) -> None:
    result = queue(home)
    assert result.exit_code == 0, result.output
    assert "待办 3 项（逾期 0 项）" in result.output
    for text in ("联系被保险人", "王志强", "2026-01-05 09:30", "剩 10 分钟", "4.4", "校对", "赵丽"):
        assert text in result.output, text


def test_a_bad_option_value_is_a_clear_error_with_exit_code_2(home: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "gongu", "queue", "--stage", "lunch"], capture_output=True,
                            text=True, env={"GONGU_HOME": str(home), "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert "--stage 取值无效：'lunch'" in result.stderr and "contact（联系被保险人）" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_home_without_a_workspace_has_nothing_to_do(tmp_path: Path) -> None:
    (tmp_path / "gongu.toml").write_text("", encoding="utf-8")
    result = queue(tmp_path)
    assert result.exit_code == 0 and "没有待办事项" in result.output


def test_refresh_recomputes_the_due_times_kept_in_the_catalog(home: Path) -> None:
    result = queue(home, "--refresh")
    assert result.exit_code == 0, result.output
    assert "已重新计算 2 件在办案件的到期时间" in result.output
    again = json.loads(queue(home, "--json", "--refresh").output)  # JSON stays JSON
    assert [(i["case_id"], i["stage"]) for i in again] == [("Q-1", "contact"), ("Q-1", "write"), ("Q-2", "proofread")]
