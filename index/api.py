"""The search backend interface (like pyHanko's `TimeStamper`: one small ABC, swappable engines).

Everything crossing it is engine-independent data: `IndexDocument` in, `SearchQuery` in,
`SearchResults` out. Three engines implement it: tantivy, the default for a new home
(`index.tantivy_backend`), Whoosh, the pure-Python one (`index.whoosh_backend`), and PostgreSQL for
a firm whose offices share a database server (`index.postgres_backend`). Which one a home uses is
decided here (`choose_engine`), so the application and the bench ask one place.
"""

from __future__ import annotations

import multiprocessing as mp
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from index.extract import IndexDocument
from index.query import SearchQuery, SearchResults

T = TypeVar("T")


def analysed_in_order(docs: Iterable[IndexDocument], analyse: Callable[[IndexDocument], T],
                      procs: int) -> Iterator[tuple[IndexDocument, T]]:
    """Each document with `analyse(doc)`, in the order given; with `procs` > 1 the analysis (jieba, the
    bulk of a rebuild) runs in forked worker processes. Only the analysis crosses back from a worker:
    the document itself (10 KB of text) waits here, in order — imap keeps the order it was given."""
    sent: deque[IndexDocument] = deque()

    def feed() -> Iterator[IndexDocument]:
        for doc in docs:
            sent.append(doc)
            yield doc

    pool = mp.get_context("fork").Pool(procs) if procs > 1 else None
    analysed = pool.imap(analyse, feed(), chunksize=8) if pool is not None else map(analyse, feed())
    try:
        for result in analysed:
            yield sent.popleft(), result
    finally:
        if pool is not None:
            pool.terminate()

Progress = Callable[[IndexDocument], None]


class SearchBackend(ABC):
    """An index of archived packages. Writes may come from several processes at once; a backend
    serialises them itself and never makes a reader wait."""

    @abstractmethod
    def add(self, doc: IndexDocument) -> None:
        """Index a new package (replaces a stale entry with the same `doc_id`)."""

    @abstractmethod
    def update(self, doc: IndexDocument) -> None:
        """Replace the entry of `doc.doc_id` (status change, tombstone after disposal …)."""

    @abstractmethod
    def delete(self, doc_id: str) -> None:
        """Remove the entry entirely (not used for disposal: a disposed package keeps a tombstone)."""

    @abstractmethod
    def search(self, query: SearchQuery) -> SearchResults:
        """Ranked (or date-sorted) hits of one page, with highlighted snippets."""

    @abstractmethod
    def rebuild(self, docs: Iterable[IndexDocument], progress: Progress | None = None) -> int:
        """Drop everything and index `docs` (read from the packages on disk); returns the count."""

    @abstractmethod
    def get(self, doc_id: str) -> IndexDocument | None:
        """The stored entry of one package, text included when it is kept."""

    @abstractmethod
    def doc_ids_for_case(self, case_id: str) -> list[str]:
        """The entries of every package of one case (holds and disposal act on a whole case)."""

    @abstractmethod
    def count(self) -> int:
        """How many entries (tombstones included) the index holds."""


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


def backend_for(index_dir: Path, backend_name: Engine | None, store_url: str | None = None, *,
                procs: int = 1, rebuilding: bool = False, connect_timeout: int = 10,
                statement_timeout: int = 0) -> SearchBackend:
    """The backend of a home: `index_dir` is GONGU_HOME/index, `backend_name` gongu.toml `[index]
    backend` (None: not set), `store_url` gongu.toml `[store] url` (None: the SQLite store); the
    timeouts (seconds) are `[store]`'s too and apply to the PostgreSQL engine."""
    engine = choose_engine(index_dir, backend_name, store_url, rebuilding=rebuilding).engine
    if engine == "postgresql":
        if store_url is None:
            raise ValueError("[index] backend = \"postgresql\" 需要 gongu.toml 中的 [store] url = \"postgresql://…\"")
        from index.postgres_backend import PostgresBackend

        return PostgresBackend(store_url, procs=procs, connect_timeout=connect_timeout,
                               statement_timeout=statement_timeout)
    if engine == "tantivy":
        from index.tantivy_backend import TantivyBackend

        return TantivyBackend(index_dir / TANTIVY_FOLDER, procs=procs)
    from index.whoosh_backend import WhooshBackend

    return WhooshBackend(index_dir, procs=procs)


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
