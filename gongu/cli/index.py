"""`gongu index rebuild` and `gongu index sync`: keep the search index in line with the archive.

`rebuild` makes the index anew from the packages on disk (they are the one source of truth); `sync`
brings it into line with the archive catalog.

Index work is queued in the catalog with each change it follows (archive/catalog.py, index_queue);
any archive command applies what is queued, and this command also compares every catalogued package
with the index and re-indexes what is missing or shows another status."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from gongu.cli.archive import opened
from gongu.output import console, err_console, fail

if TYPE_CHECKING:
    from index.extract import IndexDocument

commands = typer.Typer()  # this module's commands; gongu.cli.app adds them to the root
index_app = typer.Typer(help="检索索引维护", no_args_is_help=True)
commands.add_typer(index_app, name="index")


@index_app.command("rebuild")
def rebuild(
    procs: Annotated[int, typer.Option("--procs", help="并行分词进程数")] = 1,
    background: Annotated[bool, typer.Option("--background", help="作为后台任务执行：立即返回任务编号（gongu jobs show 查看，gongu worker 执行）")] = False,
) -> None:
    """从磁盘上的档案包重建检索索引（档案包是唯一真实来源）。"""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from gongu.pipeline.archiving import archive_root_and_catalog_path, open_catalog
    from gongu.pipeline.indexing import index_dir, index_engine, open_index
    from gongu.settings import load_settings

    settings = load_settings()
    if background:
        from gongu.cli.jobs import start_background

        start_background("index_rebuild", {"procs": max(1, procs)}, settings=settings)
    root, _ = archive_root_and_catalog_path(settings)
    if not root.is_dir():
        fail(escape(f"档案根目录 {root} 不存在：共享目录似乎未挂载，或 [archive] root 指向了错误的路径"
                    "（check the mount）"))
    from index.maintenance import archive_documents
    before, after = index_engine(settings), index_engine(settings, rebuilding=True)
    backend = open_index(settings, procs=max(1, procs), rebuilding=True)
    errors: list[str] = []
    with open_catalog(settings) as catalog:
        from archive.identity import ArchiveRootError, require_root
        from archive.package import iter_bags

        if catalog is not None:  # an unmounted share would rebuild an empty index: refuse first
            try:
                require_root(catalog, root)
            except ArchiveRootError as exc:
                fail(escape(str(exc)))

        total = sum(1 for _ in iter_bags(root))
        with Progress(TextColumn("重建索引"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TextColumn("{task.description}"), console=err_console) as bar:
            task = bar.add_task("", total=total or None)

            def step(doc: IndexDocument) -> None:
                if doc.status != "disposed":
                    bar.update(task, advance=1, description=doc.case_id)

            count = backend.rebuild(archive_documents(root, catalog, errors=errors), progress=step)
    for problem in errors:
        err_console.print(f"[yellow]跳过[/] {problem}")
    from index.postgres_backend import PostgresBackend, safe_url

    where = (f"{backend.index_method.upper()} 索引，{safe_url(backend.url)}" if isinstance(backend, PostgresBackend)
             else str(index_dir(settings)))
    console.print(f"[green]✓[/] 索引已重建：{count} 件（{after.engine}，{where}）")
    if before.reason == "existing" and after.engine != before.engine:
        from index.api import remove_whoosh_files

        remove_whoosh_files(index_dir(settings))
        console.print(f"检索引擎已由 {before.engine} 改为默认的 {after.engine}（原 {before.engine} 索引文件已删除）")
    if errors:  # nothing silent: every package left out of search is named, and the exit says so
        err_console.print(f"[red]{len(errors)} 个档案包未能读取，未进入检索索引[/]（见上；gongu archive audit 核查）")
        raise typer.Exit(2)


@index_app.command("sync")
def sync_cmd(as_json: Annotated[bool, typer.Option("--json")] = False,
             background: Annotated[bool, typer.Option("--background", help="作为后台任务执行：立即返回任务编号（gongu jobs show 查看，gongu worker 执行）")] = False,) -> None:
    """补做中断留下的索引更新，并按目录核对检索索引（已归档的档案包都能检索到）。"""
    from gongu.pipeline.indexing import sync_index
    from gongu.settings import load_settings

    if background:
        from gongu.cli.jobs import start_background

        start_background("index_sync", {})
    # the queue is drained by sync itself, and reported; the index follows the root, which must be this archive's
    with opened(catch_up=False, write=True) as archive:
        drift, repaired, failures = sync_index(archive, load_settings())
    if as_json:
        console.print_json(json.dumps({"found": drift.lines(), "repaired": repaired, "failures": failures},
                                      ensure_ascii=False))
    else:
        for line in drift.lines():
            console.print(f"[yellow]发现[/]：{escape(line)}")
        for line in repaired:
            console.print(f"[green]修复[/]：{escape(line)}")
        for line in failures:
            err_console.print(f"[red]未能修复[/]：{escape(line)}")
        console.print("检索索引与目录一致" if drift.clean else
                      ("已同步" if not failures else "部分未能同步（请运行 gongu archive audit / fsck）"))
    if failures:
        raise typer.Exit(1)
