"""The search backend interface (like pyHanko's `TimeStamper`: one small ABC, swappable engines).

Everything crossing it is engine-independent data: `IndexDocument` in, `SearchQuery` in,
`SearchResults` out. Two embedded engines implement it: Whoosh, the default (`index.whoosh_backend`),
and tantivy (`index.tantivy_backend`). A PostgreSQL backend for multi-office firms does not exist
yet; it would implement the same methods.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from pathlib import Path

from index.extract import IndexDocument
from index.query import SearchQuery, SearchResults

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


def default_backend(index_dir: Path) -> SearchBackend:
    """The embedded engine at `index_dir` (GONGU_HOME/index)."""
    from index.whoosh_backend import WhooshBackend

    return WhooshBackend(index_dir)
