"""The roster a draw chooses from (issue 14 §1): strict import, canonical snapshot and its hash."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from generator.forensic.roster import RosterError, import_roster, snapshot_from_bytes
from gongu.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "forms" / "rosters" / "demo-sichuan-roster-FICTIONAL.csv"
AT = "2026-05-06T10:00:00+08:00"


def flat(output: str) -> str:
    """The output without the line breaks the console inserts at its width (it may be 80 columns)."""
    return output.replace("\n", "")
HEADER = "name,licence_no,scopes,city,senior_appraisers\n"


def _csv(*rows: str) -> bytes:
    return ("# 测试名册（虚构）\n" + HEADER + "".join(r + "\n" for r in rows)).encode("utf-8")


def _problems(raw: bytes, source: str = "r.csv") -> list:
    with pytest.raises(RosterError) as info:
        snapshot_from_bytes(raw, source, AT)
    return info.value.problems


def test_demo_roster_is_marked_fictional_and_holds_the_example_institution() -> None:
    snap = import_roster(DEMO, AT)
    assert "FICTIONAL" in DEMO.name
    assert "虚构" in snap.title and "FICTIONAL" in snap.title
    assert 8 <= len(snap.entries) <= 12
    shuzheng = snap.by_licence("510115012")
    assert shuzheng is not None and shuzheng.name == "四川蜀正司法鉴定中心"
    assert "法医临床鉴定" in shuzheng.scopes and shuzheng.senior_appraisers == ("唐志明", "邓晓梅")
    assert {e.city for e in snap.entries} >= {"成都", "绵阳", "德阳"}
    assert snap.source == DEMO.name
    assert snap.source_sha256 == hashlib.sha256(DEMO.read_bytes()).hexdigest()
    assert snap.imported_at == AT


def test_snapshot_hash_is_sha256_of_the_canonical_json_written_out_by_hand() -> None:
    snap = snapshot_from_bytes(_csv("乙所,2,法医临床鉴定,成都,", "甲所,1,法医临床鉴定；法医病理鉴定,绵阳,张三"), "r.csv", AT)
    # Sorted by licence number; keys sorted; no spaces; Chinese as UTF-8 (not \\u escapes).
    by_hand = ('[{"city":"绵阳","licence_no":"1","name":"甲所","scopes":["法医临床鉴定","法医病理鉴定"],"senior_appraisers":["张三"]},'
               '{"city":"成都","licence_no":"2","name":"乙所","scopes":["法医临床鉴定"],"senior_appraisers":[]}]')
    assert snap.sha256 == hashlib.sha256(by_hand.encode("utf-8")).hexdigest()


def test_row_order_and_comments_do_not_change_the_entries_hash_but_an_entry_does() -> None:
    a = snapshot_from_bytes(_csv("甲所,1,法医临床鉴定,成都,", "乙所,2,法医临床鉴定,成都,"), "r.csv", AT)
    b = snapshot_from_bytes(b"# other comment\n" + _csv("乙所,2,法医临床鉴定,成都,", "甲所,1,法医临床鉴定,成都,"), "r.csv", AT)
    c = snapshot_from_bytes(_csv("甲所,1,法医临床鉴定,成都,", "乙所,2,法医临床鉴定,绵阳,"), "r.csv", AT)
    assert a.sha256 == b.sha256
    assert a.source_sha256 != b.source_sha256
    assert a.sha256 != c.sha256


def test_json_roster_gives_the_same_snapshot_hash_as_csv() -> None:
    csv_snap = snapshot_from_bytes(_csv("甲所,1,法医临床鉴定；法医病理鉴定,成都,张三；李四"), "r.csv", AT)
    data = {"title": "测试", "entries": [{"name": "甲所", "licence_no": "1", "scopes": ["法医临床鉴定", "法医病理鉴定"],
                                          "city": "成都", "senior_appraisers": ["张三", "李四"]}]}
    json_snap = snapshot_from_bytes(json.dumps(data, ensure_ascii=False).encode(), "r.json", AT)
    assert json_snap.sha256 == csv_snap.sha256
    assert json_snap.title == "测试"


def test_empty_name_names_the_row_and_the_chinese_title() -> None:
    problems = _problems(_csv("甲所,1,法医临床鉴定,成都,", ",2,法医临床鉴定,成都,"))
    assert [(p.path, p.title) for p in problems] == [("第4行.name", "鉴定机构名称")]


def test_unknown_column_is_refused() -> None:
    raw = ("name,licence_no,scopes,city,senior_appraisers,phone\n甲所,1,法医临床鉴定,成都,,123\n").encode()
    problems = _problems(raw)
    assert problems[0].path == "第1行" and problems[0].value == "phone"


def test_missing_scopes_and_bad_licence_are_each_reported() -> None:
    problems = _problems(_csv("甲所,51 01,,成都,"))
    assert {(p.path, p.title) for p in problems} == {("第3行.licence_no", "许可证号"), ("第3行.scopes", "业务范围")}


def test_duplicate_licence_number_names_both_rows() -> None:
    problems = _problems(_csv("甲所,1,法医临床鉴定,成都,", "乙所,1,法医临床鉴定,成都,"))
    assert len(problems) == 1 and problems[0].path == "第4行.licence_no" and "第3行" in problems[0].message


def test_wrong_column_count_and_control_characters_are_refused() -> None:
    assert _problems(_csv("甲所,1,法医临床鉴定,成都"))[0].title == "列数"
    assert _problems(_csv("甲\u200b所,1,法医临床鉴定,成都,"))[0].path == "第3行.name"


def test_json_roster_errors_use_json_paths() -> None:
    raw = json.dumps({"entries": [{"name": "甲所", "licence_no": "1", "scopes": "法医临床鉴定", "city": 5}]}).encode()
    problems = _problems(raw, "r.json")
    assert [(p.path, p.title, p.message) for p in problems] == [("$.entries[0].city", "所在城市", "应为文本")]


def test_not_utf8_names_the_line() -> None:
    problems = _problems(HEADER.encode() + "甲所,1,法医临床鉴定,成都,\n".encode("gbk"))
    assert problems[0].path == "第2行" and "UTF-8" in problems[0].message


def test_cli_import_prints_the_snapshot_hash(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["draw", "roster", "import", str(DEMO), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["sha256"] == import_roster(DEMO, AT).sha256
    assert len(data["entries"]) == 10


def test_cli_import_bad_roster_exits_2_with_the_row_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv("甲所,1,法医临床鉴定,成都,", "乙所,1,法医临床鉴定,成都,"))
    result = CliRunner().invoke(app, ["draw", "roster", "import", str(bad)], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "第4行.licence_no" in flat(result.output) and "许可证号" in flat(result.output)
    assert "Traceback" not in flat(result.output)
    missing = CliRunner().invoke(app, ["draw", "roster", "import", str(tmp_path / "none.csv")], env={"COLUMNS": "200"})
    assert missing.exit_code == 2 and "无法读取" in flat(missing.output)
