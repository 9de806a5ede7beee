"""Which search engine a home uses, and the backend that opens it.

Three engines implement `index.backend.SearchBackend`: tantivy, the default for a new home
(`index.tantivy_backend`), Whoosh, the pure-Python one (`index.whoosh_backend`), and PostgreSQL for
a firm whose offices share a database server (`index.postgres_backend`). Which one a home uses is
decided here (`choose_engine`), so the application and the bench ask one place; `backend_for` opens
it from the table `ENGINES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from index.backend import SearchBackend

Engine = Literal["tantivy", "whoosh", "postgresql"]
DEFAULT_ENGINE: Engine = "tantivy"  # p95 12 ms and 1.24× jieba at 20,000 (docs/search.md)
TANTIVY_FOLDER = "tantivy"  # GONGU_HOME/index/tantivy; Whoosh's files sit in GONGU_HOME/index itself


@dataclass(frozen=True)
class EngineChoice:
    """The engine a home searches with, and why; `note` is for the user when it is not the obvious one."""

    engine: Engine
    reason: Literal["configured", "store", "existing", "default"]
    note: str | None = None


def engine_on_disk(index_dir: Path) -> Engine | None:
    """The embedded engine whose index is in `index_dir` (tantivy wins: a rebuild made it after Whoosh)."""
    if (index_dir / TANTIVY_FOLDER / "meta.json").is_file():
        return "tantivy"
    if any(index_dir.glob("_MAIN_*.toc")):  # Whoosh's table of contents (FileStorage, index name MAIN)
        return "whoosh"
    return None


def choose_engine(index_dir: Path, configured: Engine | None, store_url: str | None = None, *,
                  rebuilding: bool = False) -> EngineChoice:
    """gongu.toml `[index] backend` when set; else PostgreSQL when the store is PostgreSQL; else the
    engine that built the home's existing index (a home made before tantivy became the default keeps
    Whoosh until `gongu index rebuild`, and is told so); else tantivy. A rebuild without a configured
    engine builds with the default."""
    if configured is not None:
        return EngineChoice(configured, "configured")
    if store_url is not None and store_url.startswith(("postgresql:", "postgres:")):
        return EngineChoice("postgresql", "store")
    if not rebuilding and engine_on_disk(index_dir) == "whoosh":
        return EngineChoice("whoosh", "existing",
                            "此 GONGU_HOME 的检索索引由 Whoosh 建立，继续使用 Whoosh；新建档案库的默认引擎已是 tantivy："
                            "运行 gongu index rebuild 改用 tantivy，或在 gongu.toml 写明 [index] backend = \"whoosh\" 保留")
    return EngineChoice(DEFAULT_ENGINE, "default")


def _postgres(index_dir: Path, store_url: str | None, procs: int, connect_timeout: int,
              statement_timeout: int) -> SearchBackend:
    if store_url is None:
        raise ValueError("[index] backend = \"postgresql\" 需要 gongu.toml 中的 [store] url = \"postgresql://…\"")
    from index.postgres_backend import PostgresBackend

    return PostgresBackend(store_url, procs=procs, connect_timeout=connect_timeout,
                           statement_timeout=statement_timeout)


def _tantivy(index_dir: Path, store_url: str | None, procs: int, connect_timeout: int,
             statement_timeout: int) -> SearchBackend:
    from index.tantivy_backend import TantivyBackend

    return TantivyBackend(index_dir / TANTIVY_FOLDER, procs=procs)


def _whoosh(index_dir: Path, store_url: str | None, procs: int, connect_timeout: int,
            statement_timeout: int) -> SearchBackend:
    from index.whoosh_backend import WhooshBackend

    return WhooshBackend(index_dir, procs=procs)


# How each engine is opened: (index_dir, store_url, procs, connect_timeout, statement_timeout) → backend.
# An engine module is imported only when its engine is chosen (psycopg, tantivy and Whoosh load on demand).
ENGINES: dict[Engine, Callable[[Path, str | None, int, int, int], SearchBackend]] = {
    "tantivy": _tantivy,
    "whoosh": _whoosh,
    "postgresql": _postgres,
}


def backend_for(index_dir: Path, backend_name: Engine | None, store_url: str | None = None, *,
                procs: int = 1, rebuilding: bool = False, connect_timeout: int = 10,
                statement_timeout: int = 0) -> SearchBackend:
    """The backend of a home: `index_dir` is GONGU_HOME/index, `backend_name` gongu.toml `[index]
    backend` (None: not set), `store_url` gongu.toml `[store] url` (None: the SQLite store); the
    timeouts (seconds) are `[store]`'s too and apply to the PostgreSQL engine."""
    engine = choose_engine(index_dir, backend_name, store_url, rebuilding=rebuilding).engine
    return ENGINES[engine](index_dir, store_url, procs, connect_timeout, statement_timeout)


def remove_whoosh_files(index_dir: Path) -> int:
    """Delete a Whoosh index that a rebuild with another engine replaced (its files only: the TOC,
    segments and lock, all named after the index MAIN); returns how many files went."""
    gone = 0
    for path in index_dir.iterdir() if index_dir.is_dir() else ():
        if path.is_file() and "MAIN" in path.name:
            path.unlink()
            gone += 1
    return gone


def default_backend(index_dir: Path) -> SearchBackend:
    """The engine a home at `index_dir` (GONGU_HOME/index) searches with when gongu.toml names none."""
    return backend_for(index_dir, None)
