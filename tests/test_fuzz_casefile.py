"""Fuzzing case files (issue 12, "what done looks like"): no hostile file breaks a command.

Each example starts from one of the bundled case files and gets one to three mutations drawn by
hypothesis — structural (a key deleted, duplicated or given a value of another type, a value nested
hundreds deep), hostile strings (lone surrogates, bidi controls, NUL, HTML and rich markup, 30,000
characters) and hostile numbers (`1e999999999`, `1e5000`, `1e-5000`, 50-digit literals, `-0`,
the same as strings). `gongu validate`, `gongu adjust --json` and `gongu check --json` then run in
process; each must end with exit code 0, 1 or 2 and never a traceback, and the whole example within
the hypothesis `deadline` (a stall such as the old `1e999999999` one fails it). `gongu adjust` also
runs without `--json`: its table shows names from the file, where `[/]` once crashed rich's markup. A few fixed hostile
files run as real subprocesses too, where output encoding and start-up are the real ones.

The example count is bounded (60 in all) so the module runs in `make test`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gongu.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*/case.json"))
GONGU = Path(sys.executable).with_name("gongu")

FUZZ = settings(
    max_examples=30,
    deadline=timedelta(seconds=8),  # three commands in process; a stall (minutes) fails it
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


# ─────────────── a tiny JSON writer: duplicate keys and raw number literals json.dumps cannot write ───────────────


@dataclass(frozen=True)
class Raw:
    """A number literal written into the file exactly as given (`1e999999999`)."""

    literal: str


@dataclass(frozen=True)
class Pairs:
    """A JSON object written from pairs, so a key may appear twice."""

    pairs: tuple[tuple[str, Any], ...]


def dump(value: Any) -> str:
    if isinstance(value, Raw):
        return value.literal
    if isinstance(value, Pairs):
        return "{" + ", ".join(f"{json.dumps(k)}: {dump(v)}" for k, v in value.pairs) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(dump(v) for v in value) + "]"
    return json.dumps(value)  # ensure_ascii: a lone surrogate is written as the escape \ud800


def load_example(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


BASES = [load_example(p) for p in EXAMPLES]


def locations(value: Any, loc: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in the document that holds a value (the root excluded)."""
    out: list[tuple[Any, ...]] = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        out.append((*loc, key))
        out.extend(locations(item, (*loc, key)))
    return out


def parent_of(doc: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc[:-1]:
        doc = doc[part]
    return doc


# ──────────────────────────────────────── hostile values ────────────────────────────────────────

HOSTILE_STRINGS = st.sampled_from([
    "\ud800", "前\udfff后", "\u202eexe.gpj", "a\u2066b\u2069c", "\x00", "nul\x00in", "<script>alert(1)</script>",
    "[bold]x[/]", "[/]", "[link=file:///etc/passwd]x[/link]", "{{ 7*7 }}", "%s%n", "\\", "'\"", "",
    " ", "\u200b", "🀄" * 50, "长" * 30_000, "x" * 20_001, "../../etc/passwd", "$.losses[0]",
])
HOSTILE_NUMBER_LITERALS = st.sampled_from([
    "1e999999999", "1e5000", "1e-5000", "-1e999999999", "9" * 50, "1" + "0" * 40, "0." + "0" * 45 + "1",
    "1E+26", "999999999999.99", "1000000000000", "-0", "-1", "0", "0.1", "3", "1e3", "1.5e-3",
    "123456789012345678901234567890",
])
NUMBERS = st.one_of(
    HOSTILE_NUMBER_LITERALS.map(Raw),
    HOSTILE_NUMBER_LITERALS,  # amounts may be numeric strings: the same values as strings
    st.integers(min_value=-(10**30), max_value=10**30).map(lambda n: Raw(str(n))),
    st.decimals(allow_nan=False, allow_infinity=False).map(lambda d: Raw(str(d).replace("+", ""))),
)
OTHER_TYPES = st.sampled_from([None, True, False, 0, "", [], {}, [None], {"x": 1}, "2025-13-45", "T-1"])


def nested(depth: int) -> Raw:
    """`depth` levels of alternating lists and objects, as raw text (Python's own json would recurse)."""
    opens = "".join("[" if i % 2 else '{"k": ' for i in range(depth))
    closes = "".join("]" if i % 2 else "}" for i in reversed(range(depth)))
    return Raw(opens + "1" + closes)


@st.composite
def mutated_case(draw: st.DrawFn, kinds: tuple[str, ...]) -> str:
    doc = json.loads(json.dumps(draw(st.sampled_from(BASES))))  # a fresh copy
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        locs = locations(doc)
        loc = draw(st.sampled_from(locs))
        parent, key = parent_of(doc, loc), loc[-1]
        kind = draw(st.sampled_from(kinds))
        if kind == "delete":
            del parent[key]
        elif kind == "duplicate" and isinstance(parent, dict):
            twin = draw(st.one_of(st.just(parent[key]), OTHER_TYPES, NUMBERS))
            pairs = [(k, v) for k, v in parent.items()]
            pairs.insert(draw(st.integers(0, len(pairs))), (key, twin))
            grand = parent_of(doc, loc[:-1]) if len(loc) > 1 else None
            if grand is None:
                return dump(Pairs(tuple(pairs)))  # the root itself: write it now
            grand[loc[-2]] = Pairs(tuple(pairs))
            break  # a Pairs node is final: no further mutation walks into it
        elif kind == "retype":
            parent[key] = draw(OTHER_TYPES)
        elif kind == "nest":
            parent[key] = nested(draw(st.sampled_from([5, 19, 20, 21, 100, 1_200])))
        elif kind == "string":
            parent[key] = draw(HOSTILE_STRINGS)
        elif kind == "number":
            parent[key] = draw(NUMBERS)
        elif kind == "hostile_key" and isinstance(parent, dict):
            parent[draw(HOSTILE_STRINGS)] = parent.pop(key)
    return dump(doc)


# ──────────────────────────────────────── the commands ────────────────────────────────────────

COMMANDS = (["validate"], ["adjust"], ["adjust", "--json"], ["check", "--json"])


def run_all(text: str, folder: Path) -> None:
    case = folder / "case.json"
    case.write_text(text, encoding="utf-8")
    runner = CliRunner()
    for command in COMMANDS:
        result = runner.invoke(app, [*command, str(case)], env={"GONGU_HOME": str(folder / "home"), "COLUMNS": "80"})
        crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
        assert not crashed, (command, repr(result.exception), text[:300])
        assert result.exit_code in (0, 1, 2), (command, result.exit_code, result.output[-500:])
        assert "Traceback" not in result.output, (command, result.output[-2000:])
        if command[-1] == "--json" and result.exit_code in (0, 1, 2) and result.stdout.strip():
            json.loads(result.stdout_bytes.decode("utf-8"))  # --json is always valid UTF-8 JSON


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(text=mutated_case(("delete", "duplicate", "retype", "nest", "hostile_key")))
def test_structural_mutations_never_crash(folder: Path, text: str) -> None:
    run_all(text, folder)


@FUZZ
@given(text=mutated_case(("string", "number", "number")))
def test_hostile_strings_and_numbers_never_crash(folder: Path, text: str) -> None:
    run_all(text, folder)


# ───────────────────── a few fixed hostile files as real processes (real streams) ─────────────────────


def hostile_file(edit: str) -> str:
    base = json.loads(EXAMPLES[0].read_text(encoding="utf-8"))
    if edit == "deep":
        base["case_name"] = nested(1_200)
    elif edit == "surrogate":
        base["case_name"] = "\ud800"
    elif edit == "huge-exponent":
        return dump({**base, "case_name": Raw("1e999999999")})
    return dump(base)


@pytest.mark.parametrize(("edit", "command"), [
    ("deep", ["validate"]),
    ("surrogate", ["adjust", "--json"]),
    ("huge-exponent", ["check", "--json"]),
])
def test_hostile_file_subprocess(tmp_path: Path, edit: str, command: list[str]) -> None:
    case = tmp_path / "case.json"
    case.write_text(hostile_file(edit), encoding="utf-8")
    env = {**os.environ, "GONGU_HOME": str(tmp_path / "home"), "COLUMNS": "80", "NO_COLOR": "1"}
    proc = subprocess.run([str(GONGU), *command, str(case)], capture_output=True, env=env, timeout=120)
    out, err = proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")
    assert proc.returncode == 2, (out, err)
    assert "Traceback" not in out + err
    if "--json" in command:
        payload = json.loads(out)
        assert payload["valid"] is False and payload["problems"][0]["path"] == "$.case_name"
    else:
        assert "$.case_name" in out and "嵌套超过 20 层" in out
