"""`gongu search`: full-text search over the archive."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from gongu.output import console, err_console, fail, print_table, text_column, whole_column

if TYPE_CHECKING:  # the index loads when a search runs
    from gongu.settings import Settings
    from index.query import SearchResults

commands = typer.Typer()  # this module's commands; gongu.cli.app adds them to the root



def _fen_text(value: object) -> str:
    if not isinstance(value, int):
        return "—"
    sign = "-" if value < 0 else ""
    yuan, fen = divmod(abs(value), 100)
    return f"{sign}{yuan:,}.{fen:02d}"


# A query word may start with "-" (-设计错误: must not contain). Click would take it for an option, so
def _catch_up(settings: Settings) -> None:
    from gongu.pipeline.searching import catch_up

    for failure in catch_up(settings):
        err_console.print(escape(f"索引更新未能补做（index catch-up failed）：{failure}；请运行 gongu index sync"))


# unknown options are left as query words, and the query is every word given (`gongu search 暴雨
# -设计错误` = one query); a word starting with "--" is a mistyped option and is refused.
@commands.command(context_settings={"ignore_unknown_options": True})
def search(
    words: Annotated[list[str] | None, typer.Argument(
        metavar="QUERY", show_default=False,
        help='查询：词语、"短语"、字段:值（被保险人:… 保险人:… 案件编号:… 状态:…）、出险日期:2025-07..2025-09、-不含的词')] = None,
    insurer: Annotated[str | None, typer.Option("--insurer", help="保险人（包含此文字）")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="出险日期起（YYYY[-MM[-DD]]）")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="出险日期止（YYYY[-MM[-DD]]）")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="案件类型，如 公估（car_survey）/ 司法鉴定（forensic_appraisal）")] = None,
    status: Annotated[str | None, typer.Option("--status", help="archived / held / disposed（已归档 / 保全中 / 已销毁）")] = None,
    sort: Annotated[str, typer.Option("--sort", help="score（相关度）或 date（出险日期，新→旧）")] = "score",
    page: Annotated[int, typer.Option("--page", help="页码，从 1 开始")] = 1,
    page_size: Annotated[int, typer.Option("--page-size", help="每页条数")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """全文检索档案：按相关度（或日期）排列，显示命中片段、案件编号、日期与档案包位置。"""
    from gongu.pipeline.indexing import index_dir, index_engine, open_index
    from gongu.pipeline.searching import build_query, resolve_hits
    from gongu.settings import load_settings
    from index.backend import SearchUnavailableError
    from index.query import QueryError

    for word in words or []:
        if word.startswith("--"):
            fail(f"未知选项 {word}（查询词不能以 -- 开头；可用选项见 gongu search --help）")
    query = " ".join(words or [])
    try:
        q = build_query(query, insurer=insurer, kind=kind, status=status, date_from=date_from, date_to=date_to,
                        sort=sort, page=page, page_size=page_size)
    except QueryError as exc:
        fail(str(exc))
    settings = load_settings()
    _catch_up(settings)
    engine = index_engine(settings)
    if engine.note:  # a home keeping the engine its index was built with says so
        err_console.print(escape(engine.note))
    if engine.engine != "postgresql" and not index_dir(settings).is_dir():
        fail(f"检索索引尚未建立（{index_dir(settings)}）：请先归档案件或运行 gongu index rebuild")
    backend = open_index(settings)
    try:
        results = backend.search(q)
    except SearchUnavailableError as exc:
        fail(str(exc))
    if results.total == 0 and backend.count() == 0:
        # An empty index usually means a fresh switch of engine in gongu.toml, not an empty archive.
        err_console.print("检索索引为空：若档案中已有案件（或刚在 gongu.toml 中切换了检索引擎），请运行 gongu index rebuild")
    missing = resolve_hits(settings, results)
    if not as_json:  # --json carries it as "package_missing"
        from gongu.pipeline.archiving import missing_package_advice

        advice = missing_package_advice(settings) if missing else ""
        for path in missing:
            err_console.print(f"[red]档案包不在磁盘上[/]：{escape(f'{path}（{advice}）')}")
    if as_json:
        sys.stdout.write(json.dumps(results.as_dict(), ensure_ascii=False, indent=2) + "\n")
        return
    _print_results(results)


def _print_results(results: SearchResults) -> None:
    from index.extract import STATUS_TITLES
    from index.highlight import mark_to_rich
    from index.query import KIND_TITLES

    q = results.query
    console.print(f"共 [bold]{results.total}[/] 件，第 {q.page}/{results.pages} 页"
                  f"（{'按出险日期' if q.sort == 'date' else '按相关度'}排序）")
    for rank, hit in enumerate(results.hits, start=(q.page - 1) * q.page_size + 1):
        f = hit.fields
        status = str(f.get("status") or "")
        colour = {"archived": "green", "held": "yellow", "disposed": "red"}.get(status, "white")
        console.rule(f"[bold]{rank}. {f.get('case_id')}[/]  {f.get('case_name') or ''}", align="left")
        table = Table.grid(padding=(0, 2))
        whole_column(table, "", style="dim")
        text_column(table)  # mixed: amounts, dates and ids are separated by spaces, so they wrap whole
        table.add_row("报告编号", f"{f.get('report_number')}    状态 [{colour}]{STATUS_TITLES.get(status, status)}[/]"
                      f"    类型 {KIND_TITLES.get(str(f.get('kind')), f.get('kind'))}")
        if f.get("kind") == "forensic_appraisal":
            table.add_row("鉴定机构", str(f.get("institution") or "—"))
            table.add_row("鉴定人", "、".join(map(str, f.get("appraisers") or [])) or "—")
            table.add_row("当事人", "、".join(map(str, f.get("parties") or [])) or "—")
            table.add_row("鉴定意见", "；".join(map(str, f.get("result") or [])) or "—")
            table.add_row("日期", f"出具 {f.get('report_date') or '—'}    保管至 {f.get('retention_end') or '—'}")
        else:
            table.add_row("保险人", str(f.get("insurer") or "—"))
            table.add_row("被保险人", str(f.get("insured") or "—"))
            table.add_row("日期", f"出险 {f.get('loss_date') or '—'}    报告 {f.get('report_date') or '—'}"
                          f"    保管至 {f.get('retention_end') or '—'}")
            table.add_row("金额（元）", f"索赔 {_fen_text(f.get('claimed_fen'))}    理算 {_fen_text(f.get('adjusted_fen'))}")
        table.add_row("档案包", str(f.get("package_path") or "—")
                      + ("  [red]不在磁盘上（事故，见 gongu archive audit）[/]" if f.get("package_missing") else ""))
        for snippet in hit.snippets:
            table.add_row("片段", "…" + mark_to_rich(snippet) + "…")
        if status == "disposed":
            table.add_row("", "[red]档案已按程序销毁：全文已移出索引，仅保留著录信息[/]")
        print_table(table)
    if results.total and not results.hits:
        console.print(f"[yellow]第 {q.page} 页没有结果（共 {results.pages} 页）[/]")


def demo_search(settings: Settings) -> int:
    """`make demo`, last step: rebuild the index from the archived examples, then search it."""
    from gongu.pipeline.archiving import archive_root_and_catalog_path, open_catalog
    from gongu.pipeline.indexing import index_dir, open_index
    from index.maintenance import archive_documents
    from index.query import parse_query

    root, _ = archive_root_and_catalog_path(settings)
    errors: list[str] = []
    with open_catalog(settings) as catalog:
        count = open_index(settings).rebuild(archive_documents(root, catalog, errors=errors))
    console.print(f"[green]✓[/] 检索索引：{count} 件（{index_dir(settings)}）")
    for problem in errors:
        err_console.print(f"[yellow]跳过[/] {problem}")
    shown = 0
    for text in ('"边坡坍塌"', "免赔额 暴雨", "被保险人:四川 出险日期:2025"):
        console.print(f"[bold]gongu search {text}[/]")
        results = open_index(settings).search(parse_query(text, page_size=3))
        for hit in results.hits:
            hit.fields["package_path"] = str(root / str(hit.fields.get("package_path") or ""))
        _print_results(results)
        shown += results.total
    return shown
