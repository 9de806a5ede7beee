"""Draw records read with the case files' limits, every field bound, times in order, every commitment
revealed: `gongu draw verify` on hostile or altered records gives a finding or a clear error (exit 1 or 2),
never a traceback and never "verified"."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from generator.forensic import draw
from gongu.cli.app import app
from tests.test_draw import SECRET_A, SIDES, complete_record
from tests.test_draw import snapshot as draw_snapshot

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "forensic-reappraisal" / "draw-record.json"


def verify_cli(tmp_path: Path, text: str) -> tuple[int, str]:
    path = tmp_path / "record.json"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["draw", "verify", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.output.replace("\n", "")


def resealed(record: dict[str, Any]) -> dict[str, Any]:
    """As a forger who also recomputes the digest: what the recomputation alone must still catch."""
    record[draw.DIGEST_KEY] = draw.record_digest(record)
    return record


def test_a_5000_digit_number_is_a_clear_error(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace('"numbers": [\n      5,', '"numbers": [\n      ' + "9" * 5000 + ",", 1)
    assert "9" * 5000 in text
    code, out = verify_cli(tmp_path, text)
    assert code == 2 and "Traceback" not in out
    assert "$.result.numbers[0]" in out and "数字超过 40 个字符" in out


def test_1000_deep_nesting_is_a_clear_error(tmp_path: Path) -> None:
    record = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    text = json.dumps(record, ensure_ascii=False).replace('"declines": []', '"declines": ' + "[" * 1000 + "]" * 1000)
    code, out = verify_cli(tmp_path, text)
    assert code == 2 and "Traceback" not in out and "嵌套超过 20 层" in out


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    """"chosen" written twice, the first one forged: a JSON parser keeps the last and verifies."""
    text = EXAMPLE.read_text(encoding="utf-8")
    forged = '\n  "chosen": {"licence_no": "510115012", "name": "四川蜀正司法鉴定中心"},'
    text = text.replace('\n  "chosen":', forged + '\n  "chosen":', 1)  # the top-level key (2 spaces)
    code, out = verify_cli(tmp_path, text)
    assert code == 2 and "$.chosen" in out and "键重复出现 2 次" in out


def test_the_example_records_verify(tmp_path: Path) -> None:
    code, out = verify_cli(tmp_path, EXAMPLE.read_text(encoding="utf-8"))
    assert code == 0, out


# ─────────────────────────────── every field bound ───────────────────────────────────────────


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield path


def _altered(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    return "x"


def test_every_single_field_altered_fails_verification() -> None:
    record = complete_record(objections=[draw.Objection("510100002", "保险公司", "同学")])
    record = draw.decline(record, record["chosen"]["licence_no"], "拒绝受理", "2026-05-08T09:00:00+08:00")
    assert draw.verify_record(record) == []
    leaves = list(_leaves(record))
    assert len(leaves) > 100
    passed = []
    for path in leaves:
        changed = copy.deepcopy(record)
        target = changed
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = _altered(target[path[-1]])
        if not draw.verify_record(changed):
            passed.append(path)
    assert passed == []


def test_fields_outside_the_seed_are_bound_by_the_digest() -> None:
    """Matters, the roster's source, who declared and the case name do not enter the seed: the digest
    covers them, and the log records the digest (archive/draw_log.py)."""
    for edit in (lambda r: r["matters"].append({"id": "M9", "kind": "other", "description": "加"}),
                 lambda r: r["roster"].__setitem__("source", "another.csv"),
                 lambda r: r["declaration"].__setitem__("declared_by", "某人"),
                 lambda r: r.__setitem__("case_name", "另一案")):
        record = complete_record()
        edit(record)
        assert {p.path for p in draw.verify_record(record)} == {"$.record_digest"}


def test_a_step_refuses_a_record_changed_since_the_last_step() -> None:
    record = complete_record(secrets=False)
    record["case_name"] = "另一案"
    with pytest.raises(draw.DrawRefused, match="record_digest"):
        draw.decline(record, record["chosen"]["licence_no"], "拒绝受理", "2026-05-08T09:00:00+08:00")


# ─────────────────────────────── times in order ──────────────────────────────────────────────


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        pytest.param(lambda r: r["reveals"][1].__setitem__("revealed_at", "2026-05-08T09:00:00+08:00"),
                     "$.reveals[1].revealed_at", id="reveal-after-draw"),
        pytest.param(lambda r: r["reveals"][0].__setitem__("revealed_at", "2026-05-07T09:01:30+08:00"),
                     "$.reveals[1].revealed_at", id="reveals-out-of-order"),
        pytest.param(lambda r: r["commitments"][0].__setitem__("committed_at", "2026-05-06T09:00:00+08:00"),
                     "$.commitments[0].committed_at", id="commit-before-prepare"),
        pytest.param(lambda r: r["roster"].__setitem__("imported_at", "2026-05-06T11:00:00+08:00"),
                     "$.roster.imported_at", id="roster-after-prepare"),
    ],
)
def test_times_out_of_order_fail_verification(edit: Any, path: str) -> None:
    record = complete_record()
    edit(record)
    assert path in {p.path for p in draw.verify_record(resealed(record))}


# ─────────────────────────────── every commitment revealed ───────────────────────────────────


def test_a_second_never_revealed_commitment_is_refused(tmp_path: Path) -> None:
    record = complete_record()
    record["commitments"].append({"party": SIDES[0], "commitment": draw.commitment("another-secret-00001"),
                                  "committed_at": "2026-05-06T10:13:00+08:00"})
    found = {(p.path, p.title) for p in draw.verify_record(resealed(record))}
    assert ("$.commitments[2]", "公开秘密值") in found and ("$.commitments[2].party", "承诺值") in found
    code, out = verify_cli(tmp_path, json.dumps(record, ensure_ascii=False))
    assert code == 1 and "承诺没有公开" in out


def test_a_commitment_of_someone_not_a_side_is_refused() -> None:
    record = complete_record()
    record["commitments"].append({"party": "第三人", "commitment": draw.commitment(SECRET_A),
                                  "committed_at": "2026-05-06T10:13:00+08:00"})
    record["reveals"].append({"party": "第三人", "secret": SECRET_A, "revealed_at": "2026-05-07T09:01:30+08:00"})
    assert "$.commitments[2].party" in {p.path for p in draw.verify_record(resealed(record))}


# ─────────────────────────────── a re-draw names the record it replaces ──────────────────────


def test_a_redraw_names_the_record_it_replaces() -> None:
    first = json.dumps(complete_record(), ensure_ascii=False).encode("utf-8")
    again = complete_record(redraw=draw.redraw_of(first, "选中机构与当事人有利害关系，双方同意重新抽取"))
    assert draw.verify_record(again) == []
    assert len(again["redraw"]["replaces"]) == 64
    with pytest.raises(draw.DrawRefused, match="理由"):
        draw.redraw_of(first, " ")
    again["redraw"]["reason"] = ""
    assert "$.redraw.reason" in {p.path for p in draw.verify_record(resealed(again))}


def test_cli_prepare_a_redraw(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    first = root / "docs" / "draw-example-record.json"  # the draw of SJ-2026-0318
    base = ["draw", "prepare", "--case", str(root / "examples" / "forensic-joint-grade10" / "case.json"),
            "--roster", str(root / "forms" / "rosters" / "demo-sichuan-roster-FICTIONAL.csv"),
            "--conflict", "510104021|中国人民财产保险股份有限公司成都市分公司|同学", "--at", "2026-05-08T10:00:00+08:00"]
    runner = CliRunner()
    result = runner.invoke(app, [*base, "-o", str(tmp_path / "a.json"), "--redraw-of", str(first)])
    assert result.exit_code == 2 and "理由" in result.output and not (tmp_path / "a.json").exists()
    result = runner.invoke(app, [*base, "-o", str(tmp_path / "b.json"), "--redraw-of", str(first),
                                 "--redraw-reason", "选中机构回避，双方同意重新抽取"])
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))
    assert record["redraw"] == {"replaces": hashlib.sha256(first.read_bytes()).hexdigest(),
                                "reason": "选中机构回避，双方同意重新抽取"}
    assert record[draw.DIGEST_KEY] == draw.record_digest(record)


def test_a_step_that_would_put_times_out_of_order_is_refused() -> None:
    """A step never writes a record that verify would reject for the order of its times."""
    record = draw.new_record(case_id="SJ-T-1", case_name="测试", matters=[], required_scopes=["法医临床鉴定"],
                             roster=draw_snapshot(), sides=SIDES, prepared_at="2026-05-06T10:00:00+08:00")
    record = draw.acknowledge(record, SIDES[0], record["list_hash"], "2026-05-06T10:05:00+08:00")
    with pytest.raises(draw.DrawRefused, match="时间顺序不对"):
        draw.acknowledge(record, SIDES[1], record["list_hash"], "2026-05-06T10:04:00+08:00")
    with pytest.raises(draw.DrawRefused, match="时间顺序不对"):
        draw.acknowledge(record, SIDES[1], record["list_hash"], "2026-05-06T09:59:00+08:00")
