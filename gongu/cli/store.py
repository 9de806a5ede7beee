"""`gongu store migrate --to postgresql://…`: move a home's SQLite catalog (catalog, event log,
accounts — every table) into an empty PostgreSQL database, verify that the log's root hash and every
table's row count are unchanged, and rebuild the search index for the target (docs/deployment.md).

Nothing is written to gongu.toml unless `--switch` asks: then `[store] url` is set, and from the next
command on every office with that setting uses the server. The SQLite file is left as it was (a
backup of the moment of the move; Gongu no longer reads it once `[store] url` is set)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from gongu.output import GonguError, console, err_console

if TYPE_CHECKING:
    from gongu.settings import Settings

commands = typer.Typer()  # this module's commands; gongu.cli.app adds them to the root

store_app = typer.Typer(help="目录数据库（SQLite 或 PostgreSQL 服务器）：迁移、并入另一办公室的档案", no_args_is_help=True)
commands.add_typer(store_app, name="store")


def target_settings(settings: Settings, url: str) -> Settings:
    """`settings` with `[store] url` set to the target (pool and timeouts as configured)."""
    from gongu.settings import Settings, StoreSettings

    store = StoreSettings(url=url, pool_size=settings.store.pool_size, connect_timeout=settings.store.connect_timeout,
                          statement_timeout=settings.store.statement_timeout)
    return Settings(home=settings.home, toml=settings.toml.model_copy(update={"store": store}))


def rebuild_search_index_in_target(target: Settings) -> int:
    """The search-index part of a move: the index is rebuilt from the packages — the
    source of truth — for the target settings, through the same `open_index` every command uses. With a
    server-side engine (index/postgres_backend.py, chosen by open_index for a PostgreSQL store) this
    fills the index in the target database; with an embedded engine it rebuilds the local index, which
    changes nothing a search returns. Returns the number of reports indexed; raises GonguError naming
    every package that could not be read."""
    from gongu.pipeline.archiving import archive_root_and_catalog_path, open_catalog
    from gongu.pipeline.indexing import open_index
    from index.maintenance import archive_documents

    root, _ = archive_root_and_catalog_path(target)
    errors: list[str] = []
    with open_catalog(target) as catalog:
        count = open_index(target).rebuild(archive_documents(root, catalog, errors=errors))
    if errors:
        raise GonguError("目录已迁移，但以下档案包未能读取、未进入检索索引（gongu archive audit 核查后运行 "
                         "gongu index rebuild）：" + "；".join(errors))
    return count


def _switch(settings: Settings, url: str) -> None:
    """Set `[store] url` in gongu.toml, keeping every other line as the firm wrote it."""
    import tomllib

    from generator.atomic import atomic_write
    from gongu.settings import CONFIG_NAME

    path = settings.home / CONFIG_NAME
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    line = f"url = {json.dumps(url)}"
    if "store" in tomllib.loads(text):
        lines = text.splitlines()
        at = next((i for i, raw in enumerate(lines) if raw.strip().replace(" ", "") == "[store]"), None)
        if at is None:  # e.g. an inline table `store = {…}`: not ours to rewrite
            raise GonguError(f"目录已迁移，但无法自动改写 {path} 的 [store]：请手工写入 {line}")
        lines.insert(at + 1, line)
        new = "\n".join(lines) + "\n"
    else:
        new = text + ("" if not text or text.endswith("\n") else "\n") + f"\n[store]\n{line}\n"
    atomic_write(path, new.encode("utf-8"))


@store_app.command("migrate")
def migrate_cmd(
    to: Annotated[str, typer.Option("--to", help="目标：空的 PostgreSQL 数据库 postgresql://用户@主机:端口/库名")],
    switch: Annotated[bool, typer.Option("--switch", help="迁移并核对无误后，在 gongu.toml 中写入 [store] url")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """把本地 SQLite 目录（档案目录、事件日志、账户等全部表）迁移到空的 PostgreSQL 数据库，核对日志根哈希与行数不变。"""
    from archive.catalog import Catalog, CatalogError
    from archive.catalog_copy import copy_catalog
    from archive.catalog_server import is_server_url, redact
    from archive.firmcert import PinError, add_pin, pin_file, pinned_certificates
    from gongu.settings import load_settings

    settings = load_settings()
    if settings.store.url is not None:
        raise GonguError(f"本数据目录已使用数据库服务器 {redact(settings.store.url)}（gongu.toml [store] url），无需迁移")
    if not is_server_url(to):
        raise GonguError(f"--to 须为 postgresql://用户@主机:端口/库名，而不是 {redact(to)}")
    target = target_settings(settings, to)
    if switch and target.store.url and _has_password(to):
        raise GonguError("--switch 不把口令写入 gongu.toml：请去掉地址中的口令，改用环境变量 PGPASSWORD 或 ~/.pgpass"
                         "（docs/deployment.md）")
    server = target.server_store()
    assert server is not None
    source_path = settings.resolve(settings.archive.catalog)
    if not source_path.is_file():
        raise GonguError(f"没有可迁移的目录：{source_path} 不存在")
    try:
        source = Catalog(source_path)
        try:
            report = copy_catalog(source, server)
        finally:
            source.close()
    except CatalogError as exc:
        raise GonguError(str(exc)) from None
    # The firm certificate pinned for the log's checkpoints moves with the catalog: into the shared
    # package tree, where every office reads it (archive/firmcert.py).
    old_pin, new_pin = pin_file(source_path.parent), pin_file(server.files_dir)
    try:
        for cert in pinned_certificates(old_pin):
            add_pin(new_pin, cert)
    except (PinError, OSError) as exc:
        raise GonguError(f"目录已迁移，但未能复制固定的机构证书：{exc}") from None
    indexed = rebuild_search_index_in_target(target)
    # procrastinate's tables (the queue `gongu worker` takes jobs from) beside the catalog's, now that
    # the catalog is there; a worker would also create them at its first start.
    from gongu.jobs.pg_worker import ensure_schema

    ensure_schema(to)
    if switch:
        _switch(settings, to)
    if as_json:
        console.print_json(json.dumps({**report.as_dict(), "target": redact(to), "indexed": indexed,
                                       "switched": switch}, ensure_ascii=False))
        return
    console.print(f"[green]✓[/] 已迁移到 {escape(redact(to))}（结构版本 {report.revision}）")
    for table, rows in report.rows.items():
        console.print(f"  {escape(table)}：{rows} 行（与源一致）")
    console.print(f"  事件日志：{report.tree_size} 条，根哈希 {report.root_hash}（与源一致）")
    console.print(f"  检索索引：已从档案包重建 {indexed} 件")
    console.print("  后台任务队列（procrastinate）：已建表")
    if switch:
        console.print(f"[green]✓[/] gongu.toml 已写入 [store] url；源文件 {escape(str(source_path))} 保留未动（不再使用）")
    else:
        err_console.print(escape("gongu.toml 未改动：确认后在 [store] 中写入 url（或重新运行并加 --switch）即切换到数据库服务器"))


def _has_password(url: str) -> bool:
    from sqlalchemy.engine import make_url

    return make_url(url).password is not None


@store_app.command("join")
def join_cmd(
    source: Annotated[Path, typer.Option("--from", help="要并入的办公室的数据目录（GONGU_HOME，SQLite 目录）")],
    by: Annotated[str, typer.Option("--by", help="操作人（gongu.toml people.names 中登记的写法）")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """把另一办公室原有的 SQLite 档案并入本处共用的 PostgreSQL 档案：档案包原样复制并登记，原事件日志原样保存于共享目录 joined/ 并可核验。"""
    from archive.errors import ArchiveError
    from archive.join import join_archive
    from gongu.pipeline.archiving import build_archive
    from gongu.settings import load_settings

    settings = load_settings()
    if settings.store.url is None:
        raise GonguError("并入须在使用共用数据库服务器的数据目录中运行（gongu.toml [store] url）；"
                         "单一办公室改用服务器请用 gongu store migrate")
    other = load_settings(source)
    if other.store.url is not None:
        raise GonguError(f"{other.home} 已使用数据库服务器（[store] url）：它的档案已在服务器上，无需并入")
    person = settings.people.require(by)
    with build_archive(settings, write=True, catch_up=False) as archive:
        try:
            report = join_archive(archive, other.resolve(other.archive.catalog), other.resolve(other.archive.root),
                                  by=person, checkpoint_dir=other.resolve(other.archive.checkpoint_dir))
        except ArchiveError as exc:
            raise GonguError(str(exc)) from None
        failures = list(archive.listener_failures)
    if as_json:
        console.print_json(json.dumps({"joined_id": report.joined_id, "tree_size": report.tree_size,
                                       "root_hash": report.root_hash, "copied": report.copied,
                                       "already": report.already}, ensure_ascii=False))
    else:
        console.print(f"[green]✓[/] 已并入 {escape(str(other.home))}：档案包 {len(report.copied)} 个"
                      + (f"（另有 {len(report.already)} 个已在共享档案中）" if report.already else ""))
        console.print(f"  原事件日志 {report.tree_size} 条，根哈希 {report.root_hash}，保存于 joined/{report.joined_id}/"
                      "（gongu archive log verify 一并核验）")
    for failure in failures:
        err_console.print(f"[yellow]检索索引未能同步[/]：{escape(failure)}（运行 gongu index sync）")
