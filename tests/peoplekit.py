"""A GONGU_HOME whose gongu.toml registers the examples' staff (handlers and reviewers) in [people]:
`gongu review --reviewer` and `gongu archive dispose --by` accept only registered persons."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def example_staff() -> list[str]:
    names: dict[str, None] = {}
    for path in sorted(EXAMPLES.glob("*/case.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        for person in [*raw.get("handlers", []), *raw.get("reviews", [])]:
            names.setdefault(person.get("name") or person.get("reviewer"))
    return [n for n in names if n]


def people_home(home: Path, monkeypatch: pytest.MonkeyPatch, names: list[str] | None = None) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    listed = json.dumps(example_staff() if names is None else names, ensure_ascii=False)
    (home / "gongu.toml").write_text(f"[people]\nnames = {listed}\n", encoding="utf-8")
    monkeypatch.setenv("GONGU_HOME", str(home))
    return home
