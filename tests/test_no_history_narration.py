"""Code and docs say what a thing is for, and cite the clause a rule comes from; the history of how it
came to be belongs in git and the changelog. Every source and doc file outside tests/ and the changelog
is scanned for references to tracker issues ("Issue 15: …", "issue 7 §8", "(issue 12 item 2; …)")."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUFFIXES = {".py", ".md", ".html", ".toml", ".css", ".mako", ".cfg", ".ini", ".txt"}
NAMES = {"Makefile"}
SKIPPED_DIRS = {"tests", "node_modules", "__pycache__", "build", "dist"}  # and every hidden folder
# A tracker issue has a short number; a lottery draw's 期号 (`--issue 2026051`) is seven digits and allowed.
NARRATION = re.compile(r"\bissues? ?#?\d{1,3}\b", re.IGNORECASE)


def scanned_files() -> list[Path]:
    found = []
    for path in sorted(ROOT.rglob("*")):
        parts = path.relative_to(ROOT).parts
        if any(p in SKIPPED_DIRS or p.startswith(".") for p in parts[:-1]) or not path.is_file():
            continue
        if path.name.upper().startswith("CHANGELOG") or path.name == "common_passwords.txt":
            continue
        if path.suffix in SUFFIXES or path.name in NAMES:
            found.append(path)
    return found


def test_the_pattern_tells_narration_from_a_lottery_issue() -> None:
    for text in ("Issue 15: the same pipeline", "(issue 7 §8)", "(issue 12 item 2; 9.3)", "issues 11/12", "issue #3"):
        assert NARRATION.search(text), text
    for text in ("--issue 2026051", "issue 2026068 on Tuesday", "gongu issue", "issue_case", "issued 3 reports"):
        assert not NARRATION.search(text), text


def test_no_history_narration_outside_tests_and_changelog() -> None:
    files = scanned_files()
    assert {"README.md", "gongu/web/access.py", "archive/catalog.py"} <= {f.relative_to(ROOT).as_posix() for f in files}
    hits = [f"{f.relative_to(ROOT)}:{n}: {line.strip()}"
            for f in files
            for n, line in enumerate(f.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
            if NARRATION.search(line)]
    assert hits == []
