"""The browser tests write screenshots into a temporary folder; only `make screenshots` writes docs/web."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest

from tests.webkit import SCREENSHOTS_ENV, screenshot_dir

ROOT = Path(__file__).resolve().parents[1]


def test_without_the_variable_screenshots_go_to_a_temporary_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SCREENSHOTS_ENV, raising=False)
    folder = screenshot_dir().resolve()
    assert folder.is_dir()
    assert folder.is_relative_to(Path(tempfile.gettempdir()).resolve())
    assert not folder.is_relative_to(ROOT)
    assert screenshot_dir() == folder  # one folder for the whole run


def test_make_screenshots_points_them_at_the_folder_it_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(SCREENSHOTS_ENV, str(tmp_path / "docs" / "web"))
    assert screenshot_dir() == tmp_path / "docs" / "web"
    assert (tmp_path / "docs" / "web").is_dir()
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert f"{SCREENSHOTS_ENV}=$(CURDIR)/docs/web" in makefile


def test_no_test_saves_a_screenshot_but_through_the_helper() -> None:
    """A direct `page.screenshot(path=…)` in a test could write into the work tree again."""
    offenders = [p.name for p in (ROOT / "tests").glob("test_*.py")
                 if p.name != Path(__file__).name and re.search(r"\.screenshot\(\s*path=", p.read_text(encoding="utf-8"))]
    assert offenders == []
