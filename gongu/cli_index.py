"""`gongu index sync`: bring the search index into line with the archive catalog.

Index work is queued in the catalog with each change it follows (archive/catalog.py, index_queue);
any archive command applies what is queued, and this command also compares every catalogued package
with the index and re-indexes what is missing or shows another status."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape

from gongu.cli_archive import opened
from gongu.cli_search import index_app
from gongu.indexing import sync_index
from gongu.output import console, err_console
from gongu.settings import load_settings


@index_app.command("sync")
def sync_cmd(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """补做中断留下的索引更新，并按目录核对检索索引（已归档的档案包都能检索到）。"""
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
