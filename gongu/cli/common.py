"""What the command modules share: the case-file argument and loading a case or exiting with its problems."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gongu.output import print_problems

if TYPE_CHECKING:
    from rich.console import Console

CaseArg = Annotated[Path, typer.Argument(help="案件文件 case.json", show_default=False)]


def load_or_exit(path: Path, *, as_json: bool = False, problems_to: Console | None = None):  # noqa: ANN201
    """The LoadedCase, or every problem printed (on stderr unless `problems_to` says) and exit code 2."""
    # The case models (pydantic) load with the first command that reads a case, not at start-up.
    from generator.loading import CaseFileError, load_case

    try:
        return load_case(path)
    except CaseFileError as exc:
        print_problems(exc.source, exc.problems, as_json=as_json, to=problems_to)
        raise typer.Exit(2) from None
