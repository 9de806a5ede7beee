"""`gongu validate | adjust | schema` run as a user runs them: a subprocess, exit codes, no traceback ever.

The CLI takes ~2 s to start, so the broken-input checks that matter most run as real subprocesses and
the rest go through typer's in-process runner (same app, same exit codes, its exception recorded).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal as D
from decimal import localcontext
from pathlib import Path
from typing import Any

import pytest
from car_case_factory import minimal_case
from typer.testing import CliRunner

from generator.amounts import to_fen
from gongu.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
GONGU = Path(sys.executable).with_name("gongu")
SLOPE = ROOT / "examples" / "slope-collapse" / "case.json"


def run(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    # A wide console so rich never folds a JSON path across lines.
    env = {**os.environ, "COLUMNS": "300", "NO_COLOR": "1"}
    return subprocess.run([str(GONGU), *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


def invoke(*args: str | Path) -> tuple[int, str]:
    """In process; a SystemExit(2) is the expected way out, anything else would be a traceback."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def assert_user_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    return proc.stdout + proc.stderr


def test_validate_ok() -> None:
    proc = run("validate", SLOPE)
    assert proc.returncode == 0, proc.stderr
    assert "SAGC-2025-0712" in proc.stdout


@pytest.fixture()
def broken(tmp_path: Path) -> Path:
    data: dict[str, Any] = minimal_case()
    data["firm"].pop("name")
    data["commission"]["type"] = "friend"
    data["policy"]["items"][0]["sum_insured"] = "-3"
    data["incident"]["occurred_at"] = "2025-02-30T10:00:00"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_validate_broken_lists_every_path(broken: Path) -> None:
    out = assert_user_error(run("validate", broken))
    for path in ("$.firm.name", "$.commission.type", "$.policy.items[0].sum_insured", "$.incident.occurred_at"):
        assert path in out
    assert "公估机构名称" in out and "委托方式" in out
    assert "4 处问题" in out


def test_validate_broken_as_json(broken: Path) -> None:
    proc = run("validate", "--json", broken)
    assert_user_error(proc)
    payload = json.loads(proc.stdout)
    assert payload["valid"] is False
    assert {p["path"] for p in payload["problems"]} == {
        "$.firm.name", "$.commission.type", "$.policy.items[0].sum_insured", "$.incident.occurred_at"}
    assert all(p["title"] and p["message"] for p in payload["problems"])


def test_validate_dangling_reference(tmp_path: Path) -> None:
    data = minimal_case()
    data["losses"] = [{"id": "L1", "name": "x", "insured_item": "A9", "quantity": "1", "unit": "项", "unit_price": "1"}]
    path = tmp_path / "dangling.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    code, out = invoke("validate", "--json", path)
    assert code == 2
    assert json.loads(out)["problems"][0] == {"path": "$.losses[0].insured_item", "title": "损失项目[0] / 所属保险项目",
                                              "message": "保单中没有该保险项目", "value": "A9"}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(b'{\n  "kind": "car_survey",\n  "case_id": \n}', "第 4 行第 1 列", id="malformed"),
        pytest.param('{"case_name": "边坡"}'.encode("gbk"), "UTF-8", id="not-utf8"),
    ],
)
def test_validate_bad_files_subprocess(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    assert expected in assert_user_error(run("validate", path))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(b"", "第 1 行第 1 列", id="empty"),
        pytest.param(b"[]", "顶层应为 JSON 对象", id="not-an-object"),
        pytest.param(b'{"kind": "car_survey", "x": Infinity}', "Infinity", id="infinity"),
        pytest.param(b'{"kind": "forensic"}', "$.kind", id="unknown-kind"),
    ],
)
def test_validate_bad_files(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    code, out = invoke("validate", "--json", path)
    assert code == 2
    assert expected in out


def test_validate_missing_file_and_directory(tmp_path: Path) -> None:
    for target in (tmp_path / "absent.json", tmp_path):
        code, out = invoke("validate", "--json", target)
        assert code == 2 and "无法读取" in out


def test_adjust_broken_exits_2(broken: Path) -> None:
    assert "$.firm.name" in assert_user_error(run("adjust", broken))
    code, out = invoke("adjust", "--json", broken)
    assert code == 2 and "$.firm.name" in out


def test_adjust_json_gives_exact_decimal_strings() -> None:
    proc = run("adjust", "--json", SLOPE)
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout, parse_float=D, parse_int=D)
    totals = payload["totals"]
    assert all(isinstance(v, str) for v in totals.values())  # decimal strings, never JSON floats
    with localcontext() as ctx:
        ctx.prec = 50
        # slope-collapse by hand: A1 losses 860 × 412.00 − 21,500 salvage; 1,240 × 86.00; 320 × 265.00 − 18,600
        # betterment; destroyed drainage 36,000 − 2,400 salvage.
        a1 = (D("860") * D("412.00") - D("21500")) + D("1240") * D("86.00") + (D("320") * D("265.00") - D("18600")) \
            + (D("36000") - D("2400"))
        assert a1 == D("539260")
        ratio = D("48000000") / D("52000000")  # 8.2.2 under-insurance
        a2 = D("3250") * D("28.50")  # site clearance, 100 %
        base = a1 * ratio + a2
        deducted = max(D("100000"), base * D("0.10"))  # 8.3 "whichever higher": the amount wins
        rescue = D("152000") * ratio  # 7.1.3, insured value rescued = total value rescued
        total = base - deducted + rescue
    assert D(totals["net_loss"]) == a1 + a2
    assert D(totals["loss_payable"]) == to_fen(base - deducted)
    assert D(totals["rescue_payable"]) == to_fen(rescue)
    assert D(totals["total_payable"]) == to_fen(total) == D("630711.15")
    assert abs(D(totals["total_payable_exact"]) - total) < D("1e-40")
    assert totals["total_payable_uppercase"] == "人民币陆拾叁万零柒佰壹拾壹元壹角伍分"
    a1_line = next(i for i in payload["items"] if i["id"] == "A1")
    assert D(a1_line["ratio"]) == ratio
    assert a1_line["adjusted"] == str(to_fen(a1 * ratio))


def test_adjust_prints_steps_and_uppercase() -> None:
    code, out = invoke("adjust", SLOPE)
    assert code == 0
    assert "7.1.3" in out and "8.2.2/8.2.3" in out
    assert "630,711.15" in out and "人民币陆拾叁万零柒佰壹拾壹元壹角伍分" in out


def test_schema_matches_committed_file() -> None:
    proc = run("schema")
    assert proc.returncode == 0, proc.stderr
    committed = (ROOT / "forms" / "case.schema.json").read_text(encoding="utf-8")
    assert json.loads(proc.stdout) == json.loads(committed), "regenerate: gongu schema -o forms/case.schema.json"
    schema = json.loads(proc.stdout)
    # One schema for both kinds, discriminated by `kind` (issue 13 §1).
    assert schema["discriminator"] == {"propertyName": "kind", "mapping": {
        "car_survey": "#/$defs/CarSurveyCase", "forensic_appraisal": "#/$defs/ForensicAppraisalCase"}}
    assert [one["$ref"] for one in schema["oneOf"]] == ["#/$defs/CarSurveyCase", "#/$defs/ForensicAppraisalCase"]
    survey, forensic = schema["$defs"]["CarSurveyCase"], schema["$defs"]["ForensicAppraisalCase"]
    assert survey["properties"]["case_id"]["title"] == forensic["properties"]["case_id"]["title"] == "案件编号"
    assert forensic["properties"]["kind"]["const"] == "forensic_appraisal"
    assert forensic["additionalProperties"] is False  # strict keys, as the loader
    assert survey["properties"]["kind"]["const"] == "car_survey"


def test_schema_to_file(tmp_path: Path) -> None:
    out = tmp_path / "schema.json"
    code, _ = invoke("schema", "-o", out)
    assert code == 0
    committed = (ROOT / "forms" / "case.schema.json").read_text(encoding="utf-8")
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads(committed)
