"""The `gongu` command line: the root command, assembled from one module per command group.

Thin: the commands compose generator / archive / index through gongu.pipeline and hold no domain rule.
Each command module keeps its commands on its own `commands` (a typer.Typer) and never imports this
module; the list below is the whole registry.

Assembling the tree loads only typer, rich and the command modules, which import the packages a
command needs inside the command: `gongu --help` and `gongu --version` load none of the product, and a
search loads the index, not the renderer, the signer or the case models (tests/test_cli_startup.py;
bench/startup_bench.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Annotated, Any, get_type_hints

import typer
from rich.markup import escape
from typer.core import TyperGroup

from gongu.cli import (
    archive,
    assign,
    calendar,
    case,
    draw,
    index,
    jobs,
    ledger,
    queue,
    remind,
    render,
    review,
    seal,
    search,
    store,
    web,
)
from gongu.output import GonguError, fail, safe_streams

if TYPE_CHECKING:
    import click

# the command groups, in the order `gongu --help` lists them
COMMAND_MODULES = (case, archive, calendar, draw, index, ledger, queue, assign, remind, render, review, seal, search, store,
                   web, jobs)


class GonguGroup(TyperGroup):
    """A GonguError (bad settings, a refused operation) from any command ends in exit code 2 with a
    plain message — also under typer's test runner, which does not go through `main`.

    Help texts are written as plain text: a literal `[store]` or `[archive] root` in a command's or
    option's help must print as written, so every help text of the tree is escaped for rich markup
    once, when the command tree is built (typer renders help with rich markup on)."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 — click.Group's own signature
        super().__init__(*args, **kwargs)
        _escape_help(self)

    def invoke(self, ctx):  # noqa: ANN001, ANN201 — click.Context → the command's return value
        try:
            return super().invoke(ctx)
        except GonguError as exc:
            fail(escape(str(exc)))  # a message is text: `[signing]` in it prints as written
        except typer.Exit:  # a command's own exit code: nothing to translate, nothing to import
            raise
        except Exception as exc:
            # A catalog that cannot be used (damaged, or its database server unreachable) is a
            # plain message wherever a command meets it, never a traceback.
            from archive.catalog import CatalogError
            from generator.forensic.holiday_calendar import CalendarFileError

            if isinstance(exc, CatalogError | CalendarFileError):
                fail(escape(str(exc)))
            raise


def _escape_help(command: click.Command, seen: set[int] | None = None) -> None:
    """Escape rich markup in the help of `command`, its parameters and every sub-command, once each."""
    seen = set() if seen is None else seen
    if id(command) in seen:
        return
    seen.add(id(command))
    for attr in ("help", "short_help", "epilog"):
        value = getattr(command, attr, None)
        if isinstance(value, str):
            setattr(command, attr, escape(value))
    for param in command.params:
        if isinstance(getattr(param, "help", None), str):
            param.help = escape(param.help)  # type: ignore[attr-defined]
    for sub in getattr(command, "commands", {}).values():
        _escape_help(sub, seen)


app = typer.Typer(
    cls=GonguGroup,
    name="gongu",
    help="Gongu 公估：案件文件 → 公估报告 → 签章 → 归档 → 检索",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"gongu {version('gongu')}")
        raise typer.Exit()


@app.callback()
def _every_command(
    _version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                           help="显示版本号并退出")] = False,
) -> None:
    safe_streams()  # no output path may crash on a lone surrogate
    from gongu.settings import use_home_calendar

    use_home_calendar()  # time limits count on the firm's calendar files ([calendar] dir), read when first needed


for _module in COMMAND_MODULES:
    app.add_typer(_module.commands)  # no name: its commands and groups join the root


def _callbacks(typer_app: typer.Typer) -> Iterator[Callable[..., Any]]:
    """Every command and group callback registered under `typer_app`, at any depth."""
    if typer_app.registered_callback and typer_app.registered_callback.callback:
        yield typer_app.registered_callback.callback
    for command in typer_app.registered_commands:
        if command.callback:
            yield command.callback
    for group in typer_app.registered_groups:
        if group.callback:
            yield group.callback
        if group.typer_instance:
            yield from _callbacks(group.typer_instance)


# The command modules' annotations are strings (`from __future__ import annotations`). Building the tree,
# typer reads each callback's annotations several times (inspect.signature with eval_str, then
# get_type_hints, for the parameters and again for their names), compiling and evaluating every string
# each time: about half of the time `gongu --help` spends on the tree. Evaluated once here, they are the
# same objects every one of those reads would compute.
for _callback in _callbacks(app):
    _callback.__annotations__ = get_type_hints(_callback, include_extras=True)


def main() -> None:
    try:
        app()
    except GonguError as exc:
        fail(escape(str(exc)))


if __name__ == "__main__":
    main()
