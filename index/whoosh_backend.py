"""The embedded default backend: a Whoosh index in GONGU_HOME/index.

Each package is one Whoosh document with the fields of index/fields.py:
- `body` (jieba words, consecutive positions) and `body_bg` (character bigrams) of the report text;
- `meta_bg`: bigrams of the descriptive fields, so a tombstone (text removed) stays findable;
- one bigram field per descriptive field for field queries (substring semantics: 保险人:平安);
- `kind` / `status` keywords, dates, and amounts in fen as 64-bit integers (exact, never float);
- `record`: the whole `IndexDocument`, zlib-compressed JSON, for results and snippets.

Whoosh allows one writer per index: every write takes the index's own file lock with a retrying
timeout (`writer(timeout=…)`), so concurrent ingests from several processes wait their turn instead of
failing with LockError. Readers open the last committed generation and never wait.
"""

from __future__ import annotations

import threading
import time as time_module
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh import matching
from whoosh import query as wq
from whoosh.analysis import Analyzer, Token, Tokenizer
from whoosh.fields import DATETIME, ID, NUMERIC, STORED, TEXT, Schema
from whoosh.index import LockError
from whoosh.writing import CLEAR, IndexWriter

from index.analysis import bigram_spans, query_bigrams, query_words, word_spans
from index.backend import Progress, SearchBackend
from index.extract import IndexDocument
from index.fields import AMOUNT_FIELDS, DATE_FIELDS, TEXT_FIELDS, as_datetime, field_values
from index.highlight import snippets
from index.locking import file_lock
from index.query import FIELDS, Match, Range, SearchHit, SearchQuery, SearchResults, words_may_widen
from index.records import document_from_record, record_of


class IndexBusyError(RuntimeError):
    """The index stayed locked by another writer for longer than the timeout."""


# ─────────────────────────── analysis: index/analysis.py spans as Whoosh tokens ───────────────────────────


class _SpanTokenizer(Tokenizer):
    """Whoosh tokens from (text, start, end) spans: consecutive positions (0, 1, 2 …) and character
    offsets — what phrase queries and whole-term highlighting need (the stock ChineseAnalyzer gives
    character offsets as positions)."""

    def spans(self, value: str, mode: str) -> list[tuple[str, int, int]]:
        raise NotImplementedError

    def __call__(  # type: ignore[override]
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        spans = self.spans(value, mode) if tokenize else [(value, 0, len(value))]
        for i, (text, start, end) in enumerate(spans):
            t.text = text.lower()  # lowercasing here, not in a filter: one generator less per token
            t.boost = 1.0
            if keeporiginal:
                t.original = text
            t.stopped = False
            if positions:
                t.pos = start_pos + i
            if chars:
                t.startchar, t.endchar = start_char + start, start_char + end
            yield t


class JiebaTokenizer(_SpanTokenizer):
    """jieba words with the domain dictionary."""

    def spans(self, value: str, mode: str) -> list[tuple[str, int, int]]:
        return word_spans(value)


class BigramTokenizer(_SpanTokenizer):
    """Character bigrams; see `bigram_spans`."""

    def spans(self, value: str, mode: str) -> list[tuple[str, int, int]]:
        return bigram_spans(value, trailing_unigram=mode != "query")


def word_analyzer() -> Analyzer:
    """Index and query analyzer of the word field (lowercased words). No stop words: phrases must
    keep every position. A bare tokenizer is a valid Whoosh analyzer."""
    return JiebaTokenizer()


def bigram_analyzer() -> Analyzer:
    return BigramTokenizer()


def build_schema() -> Schema:
    words, grams = word_analyzer(), bigram_analyzer()
    spec: dict[str, Any] = {
        "doc_id": ID(unique=True, stored=True),
        "case_key": ID(),  # the exact case id (holds and disposal act on a whole case)
        "body": TEXT(analyzer=words, phrase=True),
        "body_bg": TEXT(analyzer=grams, phrase=True),
        "meta_bg": TEXT(analyzer=grams, phrase=True),
        "kind": ID(stored=True),
        "status": ID(stored=True),
        "record": STORED(),
    }
    for name in TEXT_FIELDS:
        spec[name] = TEXT(analyzer=grams, phrase=True)
    for name in DATE_FIELDS:
        spec[name] = DATETIME(sortable=True)
    for name in AMOUNT_FIELDS:
        spec[name] = NUMERIC(numtype=int, bits=64, signed=True, sortable=True)
    return Schema(**spec)


# ─────────────────────────── documents ⇄ Whoosh fields ───────────────────────────


def whoosh_fields(doc: IndexDocument) -> dict[str, Any]:
    """The engine-neutral field values (index/fields.py) plus the stored record; Whoosh analyses the
    text fields itself with the tokenizers above."""
    return {**field_values(doc), "record": record_of(doc)}


# ─────────────────────────── query translation ───────────────────────────


class ExactPhrase(wq.Phrase):
    """A phrase of consecutive positions (slop 0), checked with set arithmetic on the decoded
    positions. Whoosh's own Phrase goes through SpanNear2, which builds a Python object per position
    and dominated query time on bigram phrases of common terms (免赔额 occurs ~20× in a report)."""

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        reader = searcher.reader()
        field = searcher.schema[self.fieldname]
        subs = []
        for word in self.words:
            key = field.to_bytes(word)
            if (self.fieldname, key) not in reader:
                return matching.NullMatcher()
            subs.append(wq.Term(self.fieldname, word).matcher(searcher, context))
        child = subs[0]
        for sub in subs[1:]:
            child = matching.IntersectionMatcher(child, sub)
        return _PhraseMatcher(child, subs)


class _PhraseMatcher(matching.WrappingMatcher):
    def __init__(self, child: Any, terms: list[Any]) -> None:
        super().__init__(child)
        self._terms = terms
        self._find_next()

    def copy(self) -> _PhraseMatcher:
        # Intersections keep their leaves positioned together; a copy rebuilds from copied leaves.
        terms = [t.copy() for t in self._terms]
        child = terms[0]
        for t in terms[1:]:
            child = matching.IntersectionMatcher(child, t)
        return _PhraseMatcher(child, terms)

    def replace(self, minquality: float = 0) -> Any:
        return self if self.is_active() else matching.NullMatcher()

    def supports_block_quality(self) -> bool:
        return False

    def _here(self) -> bool:
        starts = set(self._terms[0].value_as("positions"))
        for offset, term in enumerate(self._terms[1:], start=1):
            starts.intersection_update(p - offset for p in term.value_as("positions"))
            if not starts:
                return False
        return True

    def _find_next(self) -> None:
        child = self.child
        while child.is_active() and not self._here():
            child.next()

    def next(self) -> None:
        self.child.next()
        self._find_next()

    def skip_to(self, id: int) -> None:
        self.child.skip_to(id)
        self._find_next()

    def all_ids(self) -> Iterator[int]:
        while self.is_active():
            yield self.id()
            self.next()


def _bigram_query(field: str, text: str) -> wq.Query | None:
    """`text` occurs in `field` as a substring: each run's bigrams as a phrase (a lone character:
    a prefix over the bigrams, which the index-time trailing unigram makes complete)."""
    parts: list[wq.Query] = []
    for grams in query_bigrams("".join(text.split())):
        if len(grams) == 1 and len(grams[0]) == 1:
            parts.append(wq.Prefix(field, grams[0]))
        elif len(grams) == 1:
            parts.append(wq.Term(field, grams[0]))
        else:
            parts.append(ExactPhrase(field, grams))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else wq.And(parts)


def _word_query(text: str) -> wq.Query | None:
    words = query_words(text)
    if not words:
        return None
    return wq.Term("body", words[0]) if len(words) == 1 else ExactPhrase("body", words)


def _or(parts: list[wq.Query]) -> wq.Query:
    """A union that skips: Whoosh's automatic choice for small unions (ArrayUnionMatcher) scores
    every document in blocks, which defeats skip_to when the union sits inside an And."""
    q = wq.Or(parts)
    q.matcher_type = wq.Or.DEFAULT_MATCHER
    return q


def match_query(match: Match) -> wq.Query:
    if match.field is None:
        # Bigrams guarantee recall (substring semantics), meta keeps tombstones and the descriptive
        # fields findable; the jieba words rank, and for a typed multi-word phrase also match.
        substring = [q for q in (_bigram_query("body_bg", match.text), _bigram_query("meta_bg", match.text)) if q is not None]
        if not substring:
            return wq.NullQuery
        if not words_may_widen(match):
            words = [wq.Term("body", w) for w in dict.fromkeys(query_words(match.text))]
            found = substring[0] if len(substring) == 1 else _or(substring)
            return wq.AndMaybe(found, _or(words)) if words else found
        word_q = _word_query(match.text)
        return _or([word_q, *substring] if word_q is not None else substring)
    spec = FIELDS[match.field]
    if spec.kind == "keyword":
        return wq.Term(match.field, match.text)
    q = _bigram_query(match.field, match.text)
    return q if q is not None else wq.NullQuery


def range_query(rng: Range) -> wq.Query:
    if FIELDS[rng.field].kind == "date":
        low = as_datetime(rng.low) if isinstance(rng.low, date) else None
        high = datetime.combine(rng.high, time.max) if isinstance(rng.high, date) else None
        return wq.DateRange(rng.field, low, high)
    return wq.NumericRange(rng.field, rng.low, rng.high)


class _Unpruned(wq.WrappingQuery):
    """Keeps Whoosh's top-N collector from pruning: it calls matcher.replace(minscore) every few
    documents, and a binary union then drops a branch whose best score cannot reach the top N — the
    top hits stay right, but the documents skipped are missing from the total."""

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        return _UnprunedMatcher(self.child.matcher(searcher, context))


class _UnprunedMatcher(matching.WrappingMatcher):
    def replace(self, minquality: float = 0) -> Any:
        return self if self.is_active() else matching.NullMatcher()

    def supports_block_quality(self) -> bool:
        return False

    def copy(self) -> _UnprunedMatcher:
        return _UnprunedMatcher(self.child.copy())


def to_whoosh(query: SearchQuery) -> wq.Query:
    return _Unpruned(_to_whoosh(query))


def _to_whoosh(query: SearchQuery) -> wq.Query:
    parts: list[wq.Query] = []
    for group in query.groups:
        alts = [match_query(m) for m in group]
        parts.append(alts[0] if len(alts) == 1 else _or(alts))
    parts.extend(range_query(r) for r in query.ranges)
    positive: wq.Query = wq.And(parts) if parts else wq.Every()
    if query.excluded:
        return wq.AndNot(positive, _or([match_query(m) for m in query.excluded]))
    return positive


# ─────────────────────────── the backend ───────────────────────────


class WhooshBackend(SearchBackend):
    def __init__(self, index_dir: Path, *, lock_timeout: float = 300.0, procs: int = 1) -> None:
        self.index_dir = Path(index_dir)
        self.lock_timeout = lock_timeout
        self.procs = procs
        self._ix: whoosh_index.Index | None = None
        self._searcher: Any = None
        self._search_lock = threading.Lock()

    # Creation races (two ingests into a fresh GONGU_HOME) are settled by an flock of our own:
    # Whoosh's write lock lives inside the index, which does not exist yet.
    def _index(self) -> whoosh_index.Index:
        if self._ix is None:
            self.index_dir.mkdir(parents=True, exist_ok=True)
            with file_lock(self.index_dir / ".create.lock"):
                # Opening reads the newest TOC file without Whoosh's reader retry; a commit in another
                # process may delete that file between listing and reading it. Retry, as Whoosh's
                # own reader() does.
                for attempt in range(40):
                    try:
                        if whoosh_index.exists_in(str(self.index_dir)):
                            self._ix = self._upgraded(whoosh_index.open_dir(str(self.index_dir)))
                        else:
                            self._ix = whoosh_index.create_in(str(self.index_dir), build_schema())
                        break
                    except FileNotFoundError:
                        if attempt == 39:
                            raise
                        time_module.sleep(0.05)
        assert self._ix is not None
        return self._ix

    def _upgraded(self, ix: whoosh_index.Index) -> whoosh_index.Index:
        """An index made before some field of index/fields.py existed (the forensic fields) gets the
        field added in place: the entries it holds have no value for it anyway, so nothing needs
        re-indexing, and queries on it find only what is indexed from now on."""
        schema = build_schema()
        missing = [name for name in schema.names() if name not in ix.schema]
        if not missing:
            return ix
        try:
            writer = ix.writer(timeout=self.lock_timeout, delay=0.05)
        except LockError:
            raise IndexBusyError(f"检索索引 {self.index_dir} 被其他写入进程占用超过 {self.lock_timeout:.0f} 秒") from None
        missing = [name for name in schema.names() if name not in writer.schema]  # another process may have
        if not missing:
            writer.cancel()
            return whoosh_index.open_dir(str(self.index_dir))
        for name in missing:
            writer.add_field(name, schema[name])
        writer.commit()
        return whoosh_index.open_dir(str(self.index_dir))

    @contextmanager
    def _reading(self) -> Iterator[Any]:
        """One searcher kept open while no commit happened since (reopening every segment file per
        query costs several ms); reopened after a commit. Never waits for a writer."""
        with self._search_lock:
            # Not Searcher.refresh(): with `reuse` whoosh-reloaded 2.7.5 adds the old reader's
            # segments back to the new ones, so replaced documents would come back.
            if self._searcher is not None and not self._searcher.up_to_date():
                self._searcher.close()
                self._searcher = None
            if self._searcher is None:
                self._searcher = self._index().searcher()
            yield self._searcher

    @contextmanager
    def _writer(self, **kwargs: Any) -> Iterator[IndexWriter]:
        try:
            writer = self._index().writer(timeout=self.lock_timeout, delay=0.05, **kwargs)
        except LockError:
            raise IndexBusyError(f"检索索引 {self.index_dir} 被其他写入进程占用超过 {self.lock_timeout:.0f} 秒") from None
        try:
            yield writer
        except BaseException:
            writer.cancel()
            raise

    def add(self, doc: IndexDocument) -> None:
        self.update(doc)

    def update(self, doc: IndexDocument) -> None:
        with self._writer() as w:
            w.update_document(**whoosh_fields(doc))
            w.commit()

    def delete(self, doc_id: str) -> None:
        with self._writer() as w:
            w.delete_by_term("doc_id", doc_id)
            w.commit()

    def rebuild(self, docs: Iterable[IndexDocument], progress: Progress | None = None) -> int:
        """All old segments are replaced in one commit (CLEAR), so readers see either the old or the
        new index, never an empty one."""
        count = 0
        kwargs: dict[str, Any] = {"limitmb": 256}
        if self.procs > 1:
            kwargs.update(procs=self.procs, multisegment=True)
        with self._writer(**kwargs) as w:
            for doc in docs:
                w.add_document(**whoosh_fields(doc))
                count += 1
                if progress is not None:
                    progress(doc)
            w.commit(mergetype=CLEAR)
        return count

    def get(self, doc_id: str) -> IndexDocument | None:
        with self._reading() as s:
            stored = s.document(doc_id=doc_id)
        return document_from_record(stored["record"]) if stored else None

    def doc_ids_for_case(self, case_id: str) -> list[str]:
        with self._reading() as s:
            return sorted(s.stored_fields(n)["doc_id"] for n in s.document_numbers(case_key=case_id))

    def count(self) -> int:
        with self._reading() as s:
            return s.doc_count()

    def search(self, query: SearchQuery, *, with_snippets: bool = True) -> SearchResults:
        q = to_whoosh(query)
        with self._reading() as s:
            if query.sort == "date":
                page = s.search_page(q, query.page, pagelen=query.page_size, sortedby="loss_date", reverse=True)
            else:
                page = s.search_page(q, query.page, pagelen=query.page_size)
            total = page.total
            hits = []
            # search_page clamps a page past the end to the last page; an empty page is clearer.
            if (query.page - 1) * query.page_size < total:
                for hit in page:
                    doc = document_from_record(hit["record"])
                    fields = doc.as_dict()
                    fields.pop("text")
                    found = snippets(doc.text, query.terms) if with_snippets and doc.text else []
                    hits.append(SearchHit(doc.doc_id, float(hit.score or 0.0), fields, tuple(found)))
        return SearchResults(query=query, total=total, hits=tuple(hits))

    def doc_ids(self, predicate: Callable[[IndexDocument], bool] | None = None) -> list[str]:
        with self._reading() as s:
            out = []
            for stored in s.all_stored_fields():
                if predicate is None or predicate(document_from_record(stored["record"])):
                    out.append(stored["doc_id"])
        return sorted(out)
