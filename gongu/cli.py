"""The `gongu` command line. Thin: it composes generator / archive / index and holds no domain rule."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import click
import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from generator.adjust import adjust as run_adjustment
from generator.adjust import adjustment_to_dict
from generator.amounts import format_amount, rmb_uppercase
from generator.forensic.model import ForensicAppraisalCase
from generator.kinds import is_forensic
from generator.loading import CaseFileError, load_case
from generator.schema import case_json_schema
from gongu.output import GonguError, console, fail, print_problems, print_table, safe_streams


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

@app.callback()
def _every_command() -> None:
    safe_streams()  # no output path may crash on a lone surrogate
    from gongu.settings import use_home_calendar

    use_home_calendar()  # time limits count on the firm's calendar files ([calendar] dir), read when first needed


CaseArg = Annotated[Path, typer.Argument(help="案件文件 case.json", show_default=False)]


def load_or_exit(path: Path, *, as_json: bool = False, problems_to: Console | None = None):  # noqa: ANN201
    """The LoadedCase, or every problem printed (on stderr unless `problems_to` says) and exit code 2."""
    try:
        return load_case(path)
    except CaseFileError as exc:
        print_problems(exc.source, exc.problems, as_json=as_json, to=problems_to)
        raise typer.Exit(2) from None


@app.command()
def validate(case_file: CaseArg, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """校验案件文件：有效时退出码 0，否则列出全部问题并以 2 退出。"""
    # The problems are what `validate` reports, so they go to stdout (`gongu validate x.json | grep …`).
    loaded = load_or_exit(case_file, as_json=as_json, problems_to=console)
    if as_json:
        console.print_json(json.dumps({"file": str(case_file), "valid": True, "case_id": loaded.case.case_id}))
    else:
        console.print(f"[green]✓[/] {case_file}：案件 {loaded.case.case_id} 校验通过")


@app.command()
def adjust(case_file: CaseArg, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """损失核定与理算（第 7、8 条）：列出每一步及结果；司法鉴定案件列出鉴定时限的计算（通则第十三、二十八条）。"""
    loaded = load_or_exit(case_file, as_json=as_json)
    if is_forensic(loaded.case):
        _forensic_time_limits(loaded.case, as_json)
        return
    result = run_adjustment(loaded.case)
    if as_json:
        sys.stdout.write(json.dumps(adjustment_to_dict(loaded.case, result), ensure_ascii=False, indent=2) + "\n")
        return
    from gongu.adjust_view import adjustment_table

    print_table(adjustment_table(loaded.case, result))
    console.print(f"理算金额：[bold]{format_amount(result.total_payable)}[/] 元（{rmb_uppercase(result.total_payable)}）")


def _forensic_time_limits(case: ForensicAppraisalCase, as_json: bool) -> None:
    from generator.forensic.workdays import CalendarNotCovered, calendar_note, time_limits, time_limits_to_dict

    try:
        limits = time_limits(case)
    except CalendarNotCovered as exc:
        fail(escape(f"鉴定时限（$.timeline）：{exc}"))
    if as_json:
        sys.stdout.write(json.dumps(time_limits_to_dict(case, limits), ensure_ascii=False, indent=2) + "\n")
        return
    from gongu.adjust_view import time_limits_table

    print_table(time_limits_table(case, limits))
    note = calendar_note(limits)
    if note:
        console.print(f"[yellow]注意[/]：{escape(note)}")


@app.command()
def schema(output: Annotated[Path | None, typer.Option("-o", "--output", help="写入文件；缺省输出到屏幕")] = None) -> None:
    """输出案件文件的 JSON Schema，供机构在自己的系统中校验。"""
    text = json.dumps(case_json_schema(), ensure_ascii=False, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"JSON Schema → {output}")


@app.command()
def demo(
    examples: Annotated[Path, typer.Option(help="示例案件目录")] = Path("examples"),
) -> None:
    """对随附示例跑一遍主流程（make demo 调用）。"""
    from gongu.demo import run_demo

    run_demo(examples)


# Each area registers its commands on `app` in its own module; one import line per area here.
# (Imported after `app` exists so the modules can `from gongu.cli import app`.)
# --- command modules (keep one line each, sorted) ---
# isort: off
from gongu import cli_archive  # noqa: E402,F401
from gongu import cli_calendar  # noqa: E402,F401
from gongu import cli_draw  # noqa: E402,F401
from gongu import cli_index  # noqa: E402,F401
from gongu import cli_ledger  # noqa: E402,F401
from gongu import cli_render  # noqa: E402,F401
from gongu import cli_review  # noqa: E402,F401
from gongu import cli_seal  # noqa: E402,F401
from gongu import cli_search  # noqa: E402,F401
from gongu import cli_store  # noqa: E402,F401
from gongu import cli_web  # noqa: E402,F401
# isort: on
# --- end command modules ---


def main() -> None:
    try:
        app()
    except GonguError as exc:
        fail(escape(str(exc)))


if __name__ == "__main__":
    main()
