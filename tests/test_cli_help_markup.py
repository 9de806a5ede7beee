"""Help texts and messages are plain text: rich markup never eats a literal `[section]` (gongu/cli/app.py
GonguGroup escapes every help text of the command tree; GonguError messages are printed escaped)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import click
import typer
from typer.testing import CliRunner

from gongu.cli.app import app

runner = CliRunner()
BRACKETED = re.compile(r"\[[A-Za-z_.]+\]")


def _commands(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def _raw_texts(command: click.Command) -> list[str]:
    """The command's and its options' help as written (escaping undone: `\\[` → `[`)."""
    texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
    return [t.replace("\\[", "[") for t in texts]


def test_every_help_prints_its_bracketed_words_as_written() -> None:
    tree = list(_commands(typer.main.get_command(app)))
    assert len(tree) > 30  # the whole tree, not just the root
    checked = 0
    for path, command in tree:
        words = {w for text in _raw_texts(command) for w in BRACKETED.findall(text)}
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        flat = re.sub(r"[\s│]+", "", result.output)
        for word in words:
            assert word in flat, (path, word, result.output)
            checked += 1
    assert checked >= 3


def test_store_migrate_help_shows_the_store_section() -> None:
    result = runner.invoke(app, ["store", "migrate", "--help"])
    assert result.exit_code == 0 and "[store]" in result.output, result.output


def test_a_message_with_a_section_name_prints_it(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """A GonguError naming `[store]` (here: migrate on a home already on a server) prints it whole."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "gongu.toml").write_text('[store]\nurl = "postgresql://u@db.invalid/x"\n', encoding="utf-8")
    monkeypatch.setenv("GONGU_HOME", str(home))
    result = runner.invoke(app, ["store", "migrate", "--to", "postgresql://u@db.invalid/y"])
    assert result.exit_code == 2 and "[store] url" in result.output.replace("\n", ""), result.output
