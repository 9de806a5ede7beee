"""A GONGU_HOME whose gongu.toml registers the examples' staff (handlers and reviewers) in [people]:
`gongu review --reviewer` and `gongu archive dispose --by` accept only registered persons."""

from __future__ import annotations

import json
import shutil
import tempfile
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


# The review-level roles (archive/accounts.py LEVEL_ROLES): a staff account here may decide any level; the
# review rules (generator/review.py) still decide who may take which level of which case.
REVIEW_ROLES = frozenset({"proofreader", "rechecker", "approver", "reviewer"})
STAFF_PASSWORD = "staff-password-2026"  # every test staff account's: `gongu review` needs the reviewer's own
_templates: dict[tuple[str, ...], Path] = {}


def people_home(home: Path, monkeypatch: pytest.MonkeyPatch, names: list[str] | None = None, *,
                accounts: bool = False) -> Path:
    """`accounts`: each person also gets a reviewing account (password STAFF_PASSWORD, set as GONGU_PASSWORD)
    in the home's catalog, as `gongu review --reviewer` needs the reviewer's own credential."""
    home.mkdir(parents=True, exist_ok=True)
    people = example_staff() if names is None else names
    listed = json.dumps(people, ensure_ascii=False)
    (home / "gongu.toml").write_text(f"[people]\nnames = {listed}\n", encoding="utf-8")
    monkeypatch.setenv("GONGU_HOME", str(home))
    if accounts:
        shutil.copytree(_staff_archive(tuple(people)), home / "archive")
        monkeypatch.setenv("GONGU_PASSWORD", STAFF_PASSWORD)
    return home


def _staff_archive(people: tuple[str, ...]) -> Path:
    """An archive folder whose catalog holds one account per person, made once per process (Argon2 is slow)."""
    if people not in _templates:
        from tests.webkit import make_account

        template = Path(tempfile.mkdtemp(prefix="gongu-staff-"))
        (template / "gongu.toml").write_text(f"[people]\nnames = {json.dumps(list(people), ensure_ascii=False)}\n",
                                             encoding="utf-8")
        for i, person in enumerate(people):
            make_account(template, f"staff-{i}", REVIEW_ROLES, person, STAFF_PASSWORD)
        _templates[people] = template / "archive"
    return _templates[people]
