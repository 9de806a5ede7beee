"""Hostile and careless queries (issue 12 item 13), through `gongu search` on both engines: a query
may start with "-", and every bound gives a clear error with exit code 2, never a traceback or an
abort. The bounds themselves are tested in tests/test_index_query.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_index_search import _doc
from typer.testing import CliRunner

from gongu.cli.app import app
from index.query import MAX_TERMS, parse_query
from index.tantivy_backend import TantivyBackend
from index.whoosh_backend import WhooshBackend

ENGINES = {"whoosh": lambda home: WhooshBackend(home / "index"),
           "tantivy": lambda home: TantivyBackend(home / "index" / "tantivy")}


@pytest.fixture(scope="module", params=sorted(ENGINES))
def home(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    engine = request.param
    home = tmp_path_factory.mktemp(f"home-{engine}")
    (home / "gongu.toml").write_text(f'[index]\nbackend = "{engine}"\n', encoding="utf-8")
    (home / "index").mkdir()
    # Reports 1 and 2 mention 涌水 only; report 3 mentions 涌水 and 塌孔.
    ENGINES[engine](home).rebuild([_doc(1), _doc(2), _doc(3, text="隧道涌水后桩基塌孔，损失按推定全损处理。")])
    return home


def _search(home: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["search", *args], env={"GONGU_HOME": str(home), "COLUMNS": "200"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def _case_ids(home: Path, *args: str) -> list[str]:
    code, out = _search(home, "--json", *args)
    assert code == 0, out
    return sorted(hit["case_id"] for hit in json.loads(out)["hits"])


def test_a_query_may_start_with_an_exclusion(home: Path) -> None:
    assert _case_ids(home, "涌水") == ["GC-1", "GC-2", "GC-3"]
    assert _case_ids(home, "-塌孔", "涌水") == ["GC-1", "GC-2"]  # first word "-…": not an option
    assert _case_ids(home, "涌水", "-塌孔") == ["GC-1", "GC-2"]  # several words are one query
    assert _case_ids(home, "--", "-塌孔", "涌水") == ["GC-1", "GC-2"]  # the usual end-of-options marker too


def test_a_mistyped_option_is_refused_not_searched(home: Path) -> None:
    code, out = _search(home, "--insurr", "平安")
    assert code == 2 and "未知选项 --insurr" in out and "Traceback" not in out


@pytest.mark.parametrize(("args", "message"), [
    (["理算金额:1e400.."], "'1e400' 不是金额"),
    (["理算金额:100000000000000000000.."], "超出范围"),
    (["出险日期:.."], "至少要有一端"),
    (["出险日期:9999"], "1900–2199"),
    (["涌水", "--page", "1000000000000"], "前 10,000 条"),
    ([" ".join(["涌水"] * 5000)], "查询过长"),
    ([" ".join(f"词{i}" for i in range(MAX_TERMS + 1))], "查询词过多"),
])
def test_out_of_bounds_queries_exit_2_with_the_reason(home: Path, args: list[str], message: str) -> None:
    code, out = _search(home, *args)
    assert code == 2, out
    assert "错误" in out and message in out.replace("\n", "") and "Traceback" not in out


def test_the_largest_allowed_queries_run_on_the_engine(home: Path) -> None:
    engine = "tantivy" if "tantivy" in (home / "gongu.toml").read_text(encoding="utf-8") else "whoosh"
    backend = ENGINES[engine](home)
    # MAX_TERMS required words (one word repeated), and MAX_TERMS alternatives: no recursion limit hit.
    assert backend.search(parse_query(" ".join(["涌水"] * MAX_TERMS))).total == 3
    alternatives = " OR ".join(["塌孔", *(f"不存在{i}" for i in range(MAX_TERMS - 1))])
    assert backend.search(parse_query(alternatives)).total == 1
    last = parse_query("涌水", page=1000, page_size=10)  # the last page of the result window: empty, no error
    assert backend.search(last).total == 3 and backend.search(last).hits == ()
