"""The search backend interface (like pyHanko's `TimeStamper`: one small ABC, swappable engines).

Everything crossing it is engine-independent data: `IndexDocument` in, `SearchQuery` in,
`SearchResults` out. Each engine module (`index.tantivy_backend`, `index.whoosh_backend`,
`index.postgres_backend`) implements `SearchBackend` and imports it from here; which engine a home
uses is decided in `index.api`, which imports the engines — never the other way round.
"""

from __future__ import annotations

import multiprocessing as mp
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from index.extract import IndexDocument
from index.query import SearchQuery, SearchResults

T = TypeVar("T")


class SearchUnavailableError(RuntimeError):
    """A search server (index/postgres_backend.py: PostgreSQL) could not be reached (after one retry);
    the message says which and why. Defined here so that a caller can catch it without loading the
    server's driver."""


def analysed_in_order(docs: Iterable[IndexDocument], analyse: Callable[[IndexDocument], T],
                      procs: int) -> Iterator[tuple[IndexDocument, T]]:
    """Each document with `analyse(doc)`, in the order given; with `procs` > 1 the analysis (jieba, the
    bulk of a rebuild) runs in forked worker processes. Only the analysis crosses back from a worker:
    the document itself (10 KB of text) waits here, in order — imap keeps the order it was given."""
    from index.analysis import segmenter

    # A bulk build segments with the whole dictionary (faster per lookup than the memory-mapped one short
    # texts use; same words), loaded here once, before the workers fork, so they share it.
    segmenter()
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
