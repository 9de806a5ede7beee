"""An empty index (e.g. just after switching engines in gongu.toml) says how to fill it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gongu.cli.app import app


@pytest.mark.parametrize("engine", ["whoosh", "tantivy"])
def test_empty_index_hints_at_rebuild(tmp_path: Path, engine: str) -> None:
    (tmp_path / "gongu.toml").write_text(f'[index]\nbackend = "{engine}"\n', encoding="utf-8")
    (tmp_path / "index").mkdir()
    result = CliRunner().invoke(app, ["search", "边坡坍塌"], env={"GONGU_HOME": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert "gongu index rebuild" in result.output
    assert "共 0 件" in result.output
