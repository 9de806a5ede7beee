"""The second embedded engine: tantivy (Rust, via tantivy-py), selected with `[index] backend = "tantivy"`.

Why: Whoosh is pure Python and misses the search speed targets (docs/search.md). The analysis is
the SAME as the Whoosh backend's (index/analysis.py: jieba words with the domain dictionary, and
overlapping character bigrams): we tokenize in Python and hand tantivy the tokens joined by spaces,
into text fields whose analyzer only splits on whitespace and lowercases. Tokens never contain
whitespace (they are runs of word characters), so tantivy's positions are our consecutive token
numbers and phrase queries work on the word and the bigram fields exactly as in Whoosh.

Fields are those of index/fields.py, shared with the Whoosh backend (this module never imports
Whoosh): `body` / `body_bg` / `meta_bg`, one bigram field per descriptive field, raw keyword fields (`doc_id`, `case_key`, `kind`, `status`), dates and amounts
(fen, 64-bit integers, never float) as fast fields for ranges and sorting, and `record` — the whole
`IndexDocument` as compressed JSON (index/records.py, the same bytes in both engines).

Bigram fields leave a one-position gap after every run of word characters (a filler token that the
field's analyzer drops, keeping its position). Then a bigram phrase need not name every bigram: every
other one, plus the last, pins the text down exactly (`sparse_grams`), and a long phrase over the whole
archive reads about half the positions. Indexes built before the gap existed have no LAYOUT_FILE and
are searched with every bigram until `gongu index rebuild`.

An index made before a field of index/fields.py existed (the forensic fields) cannot gain the field in
place (tantivy fixes a schema at creation): a query on the field finds nothing, writing an entry with a
value for it is refused with the advice to run `gongu index rebuild`, and the rebuild creates the
index anew with the full schema.

tantivy allows one IndexWriter per index (its own lock file fails at once when taken); every write
here first takes an flock of ours, so concurrent ingests wait their turn instead of failing. Readers
search the last committed generation and never wait.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import tantivy

from index.analysis import WORD_RUN, query_bigrams, query_words, word_spans
from index.backend import Progress, SearchBackend, analysed_in_order
from index.extract import IndexDocument
from index.fields import AMOUNT_FIELDS, DATE_FIELDS, KEYWORD_FIELDS, TEXT_FIELDS, field_values
from index.highlight import snippets
from index.locking import file_lock
from index.query import FIELDS, Match, Range, SearchHit, SearchQuery, SearchResults, words_may_widen
from index.records import document_from_record, record_of

TOKENS = "gongu_tokens"  # whitespace split + lowercase: the tokens were made by index/analysis.py
GAP = "|"  # ends every run in a bigram field; dropped by the analyzer, its position stays empty
LAYOUT_FILE = "gongu-layout"  # holds LAYOUT once every document has the gaps
LAYOUT = "2"
Q = tantivy.Query


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    for name in KEYWORD_FIELDS:
        sb.add_text_field(name, stored=name != "case_key", tokenizer_name="raw")
    for name in ("body", "body_bg", "meta_bg", *TEXT_FIELDS):
        sb.add_text_field(name, tokenizer_name=TOKENS)
    for name in DATE_FIELDS:
        sb.add_date_field(name, indexed=True, fast=True)
    for name in AMOUNT_FIELDS:
        sb.add_integer_field(name, indexed=True, fast=True)
    sb.add_bytes_field("record", stored=True)
    return sb.build()


def has_field(schema: tantivy.Schema, name: str) -> bool:
    try:
        Q.term_query(schema, name, "")
    except ValueError:
        return False
    return True


class IndexOutdatedError(RuntimeError):
    """The index was made before a field the entry needs; `gongu index rebuild` makes it anew."""


def _tokens_analyzer() -> tantivy.TextAnalyzer:
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.custom_stopword([GAP])).build())


# ─────────────────────────── documents → tantivy fields ───────────────────────────


def _words(text: str) -> str:
    return " ".join(w for w, _, _ in word_spans(text))


def _bigrams(text: str) -> str:
    """index.analysis.bigram_spans (overlapping bigrams and the trailing unigram of each run), plus the
    GAP after each run; built here because tantivy needs no character offsets."""
    out: list[str] = []
    for m in WORD_RUN.finditer(text):
        run = m.group()
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
        out.append(run[-1])
        out.append(GAP)
    return " ".join(out)


def prepare(doc: IndexDocument) -> dict[str, Any]:
    """The analysed fields of `doc` (plain data: made in worker processes during a rebuild): the
    engine-neutral field values (index/fields.py), with the text ones turned into our tokens."""
    values = {**field_values(doc), "record": record_of(doc)}
    if doc.text:
        values["body"] = _words(doc.text)
        values["body_bg"] = _bigrams(doc.text)
    for name in TEXT_FIELDS:
        if name in values:
            values[name] = _bigrams(values[name])
    values["meta_bg"] = " ".join(values[name] for name in TEXT_FIELDS if name in values)
    return values


def to_document(values: dict[str, Any]) -> tantivy.Document:
    out = tantivy.Document()
    for name, value in values.items():
        if name == "record":
            out.add_bytes(name, value)
        elif name in DATE_FIELDS:
            out.add_date(name, value)
        elif name in AMOUNT_FIELDS:
            out.add_integer(name, value)
        elif value:
            out.add_text(name, value)
    return out


# ─────────────────────────── query translation (same semantics as to_whoosh) ───────────────────────────


def _sequence(schema: tantivy.Schema, field: str, tokens: list[str]) -> tantivy.Query:
    # tantivy panics on a one-term phrase: a single token is a term query.
    if len(tokens) == 1:
        return Q.term_query(schema, field, tokens[0])
    return Q.phrase_query(schema, field, tokens)


def _all(parts: list[tantivy.Query]) -> tantivy.Query:
    return parts[0] if len(parts) == 1 else Q.boolean_query([(tantivy.Occur.Must, p) for p in parts])


def _any(parts: list[tantivy.Query]) -> tantivy.Query:
    return parts[0] if len(parts) == 1 else Q.boolean_query([(tantivy.Occur.Should, p) for p in parts])


def sparse_grams(grams: list[str]) -> list[tuple[int, str]]:
    """Every other bigram of a run, and the last, with their offsets: 每次事故免赔额 → 每次@0 事故@2 免赔@4
    赔额@5. Exact with the GAP layout: after a bigram, the next position is either the next bigram of
    the same run or the run's last character, and the one after that is the next-but-one bigram of the
    same run or the gap — never another run's bigram. So consecutive chosen bigrams (at most two
    apart) sit in one run at their query offsets, and between them they cover every character."""
    offsets = list(range(0, len(grams), 2))
    if offsets[-1] != len(grams) - 1:
        offsets.append(len(grams) - 1)
    return [(o, grams[o]) for o in offsets]


def _bigram_query(schema: tantivy.Schema, field: str, text: str, sparse: bool = False) -> tantivy.Query | None:
    """`text` occurs in `field` as a substring: each run's bigrams as a phrase (a lone character: a
    prefix over the bigrams, which the index-time trailing unigram makes complete)."""
    parts = []
    for grams in query_bigrams("".join(text.split())):
        if len(grams) == 1 and len(grams[0]) == 1:
            parts.append(Q.phrase_prefix_query(schema, field, grams))
        elif sparse and len(grams) > 2:
            parts.append(Q.phrase_query(schema, field, sparse_grams(grams)))
        else:
            parts.append(_sequence(schema, field, grams))
    return _all(parts) if parts else None


def match_query(schema: tantivy.Schema, match: Match, sparse: bool = False) -> tantivy.Query:
    if match.field is None:
        words = query_words(match.text)
        substring = [q for q in (_bigram_query(schema, "body_bg", match.text, sparse),
                                 _bigram_query(schema, "meta_bg", match.text, sparse)) if q is not None]
        if not substring:
            return Q.empty_query()
        if not words_may_widen(match):
            # The bigrams decide; the words only rank (see words_may_widen).
            return Q.boolean_query([(tantivy.Occur.Must, _any(substring)),
                                    *((tantivy.Occur.Should, Q.term_query(schema, "body", w)) for w in dict.fromkeys(words))])
        return _any([_sequence(schema, "body", words), *substring])
    if FIELDS[match.field].kind == "keyword":
        return Q.term_query(schema, match.field, match.text)
    if not has_field(schema, match.field):
        return Q.empty_query()  # an index made before the field: nothing is indexed under it
    q = _bigram_query(schema, match.field, match.text, sparse)
    return q if q is not None else Q.empty_query()


def range_query(schema: tantivy.Schema, rng: Range) -> tantivy.Query:
    if FIELDS[rng.field].kind == "date":
        low = datetime.combine(rng.low, time()) if isinstance(rng.low, date) else None
        # The whole last day: everything before the next midnight.
        high = datetime.combine(rng.high + timedelta(days=1), time()) if isinstance(rng.high, date) else None
        # an open end must be passed as inclusive (tantivy refuses an exclusive unbounded side)
        return Q.range_query(schema, rng.field, tantivy.FieldType.Date, low, high, include_upper=high is None)
    return Q.range_query(schema, rng.field, tantivy.FieldType.Integer, rng.low, rng.high)


def to_tantivy(schema: tantivy.Schema, query: SearchQuery, *, sparse: bool = False) -> tantivy.Query:
    """`sparse`: the index has the GAP layout (see sparse_grams)."""
    parts = [_any([match_query(schema, m, sparse) for m in group]) for group in query.groups]
    parts.extend(range_query(schema, r) for r in query.ranges)
    positive = _all(parts) if parts else Q.all_query()
    if not query.excluded:
        return positive
    return Q.boolean_query([(tantivy.Occur.Must, positive),
                            *((tantivy.Occur.MustNot, match_query(schema, m, sparse)) for m in query.excluded)])


# ─────────────────────────── the backend ───────────────────────────


class TantivyBackend(SearchBackend):
    def __init__(self, index_dir: Path, *, procs: int = 1, heap_mb: int = 128) -> None:
        self.index_dir = Path(index_dir)
        self.procs = procs
        self.heap_mb = heap_mb
        self._ix: tantivy.Index | None = None
        self._lock = threading.Lock()
        self.sparse = False  # set on open: the index has the GAP layout throughout
        self.missing_fields: tuple[str, ...] = ()  # set on open: fields of build_schema() the index lacks

    def _index(self) -> tantivy.Index:
        if self._ix is None:
            self.index_dir.mkdir(parents=True, exist_ok=True)
            with file_lock(self.index_dir / ".create.lock"):
                if tantivy.Index.exists(str(self.index_dir)):
                    ix = tantivy.Index.open(str(self.index_dir))
                else:
                    ix = tantivy.Index(build_schema(), path=str(self.index_dir))
                    self._mark_layout()
                self.sparse = self._layout_path().is_file() and self._layout_path().read_text().strip() == LAYOUT
            # A custom analyzer is not stored in the index: register it on every open.
            ix.register_tokenizer(TOKENS, _tokens_analyzer())
            self.missing_fields = tuple(name for name in TEXT_FIELDS if not has_field(ix.schema, name))
            self._ix = ix
        return self._ix

    def _layout_path(self) -> Path:
        return self.index_dir / LAYOUT_FILE

    def _mark_layout(self) -> None:
        self._layout_path().write_text(LAYOUT + "\n")
        self.sparse = True

    @property
    def schema(self) -> tantivy.Schema:
        return self._index().schema

    def _searcher(self) -> tantivy.Searcher:
        ix = self._index()
        ix.reload()  # see commits from this and other processes at once (the default policy lags)
        return ix.searcher()

    @contextmanager
    def _writer(self) -> Iterator[tantivy.IndexWriter]:
        """One writer at a time across processes (tantivy's own lock fails instead of waiting)."""
        ix = self._index()
        with self._lock, file_lock(self.index_dir / ".write.lock"):
            writer = ix.writer(heap_size=self.heap_mb * 2**20, num_threads=1)
            try:
                yield writer
                writer.commit()
            except BaseException:
                writer.rollback()
                raise
            finally:
                writer.wait_merging_threads()  # releases tantivy's writer lock before ours

    def add(self, doc: IndexDocument) -> None:
        self.update(doc)

    def update(self, doc: IndexDocument) -> None:
        values = prepare(doc)
        self._index()
        lacking = [name for name in self.missing_fields if name in values]
        if lacking:
            raise IndexOutdatedError(f"检索索引 {self.index_dir} 建于字段 {', '.join(lacking)} 之前，"
                                     "无法收录此档案：请运行 gongu index rebuild")
        with self._writer() as w:
            w.delete_documents_by_term("doc_id", doc.doc_id)
            w.add_document(to_document(values))

    def delete(self, doc_id: str) -> None:
        with self._writer() as w:
            w.delete_documents_by_term("doc_id", doc_id)

    def rebuild(self, docs: Iterable[IndexDocument], progress: Progress | None = None) -> int:
        """Everything is replaced in one commit, so readers see either the old or the new index.
        With `procs` > 1 the analysis (jieba, the bulk of the work) runs in worker processes."""
        count = 0
        if self._index() is not None and self.missing_fields:
            self._recreate()
        with self._writer() as w:
            w.delete_all_documents()
            for doc, values in analysed_in_order(docs, prepare, self.procs):
                w.add_document(to_document(values))
                count += 1
                if progress is not None:
                    progress(doc)
        self._mark_layout()  # every document now has the gaps
        return count

    def _recreate(self) -> None:
        """Make the index anew with today's schema (a rebuild of an index that lacks fields): every file
        of the old index goes, our lock files stay."""
        with self._lock, file_lock(self.index_dir / ".write.lock"):
            self._ix = None
            for path in self.index_dir.iterdir():
                if path.name in (".write.lock", ".create.lock"):
                    continue
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()
        self.missing_fields = ()
        self._index()

    def _stored(self, field: str, value: str, limit: int) -> list[tantivy.Document]:
        s = self._searcher()
        res = s.search(Q.term_query(self.schema, field, value), limit=max(1, limit))
        return [s.doc(addr) for _, addr in res.hits]

    def get(self, doc_id: str) -> IndexDocument | None:
        found = self._stored("doc_id", doc_id, 1)
        return document_from_record(found[0]["record"][0]) if found else None

    def doc_ids_for_case(self, case_id: str) -> list[str]:
        return sorted(d["doc_id"][0] for d in self._stored("case_key", case_id, 10_000))

    def count(self) -> int:
        return self._searcher().num_docs

    def search(self, query: SearchQuery, *, with_snippets: bool = True) -> SearchResults:
        s = self._searcher()
        q = to_tantivy(self.schema, query, sparse=self.sparse)
        offset = (query.page - 1) * query.page_size
        if query.sort == "date":
            res = s.search(q, limit=query.page_size, offset=offset, count=True, order_by_field="loss_date",
                           order=tantivy.Order.Desc)
        else:
            res = s.search(q, limit=query.page_size, offset=offset, count=True)
        hits = []
        for score, addr in res.hits:
            doc = document_from_record(s.doc(addr)["record"][0])
            fields = doc.as_dict()
            fields.pop("text")
            found = snippets(doc.text, query.terms) if with_snippets and doc.text else []
            # A date sort yields the date as the "score": report the relevance only for score sorts.
            hits.append(SearchHit(doc.doc_id, float(score) if query.sort == "score" else 0.0, fields, tuple(found)))
        return SearchResults(query=query, total=res.count or 0, hits=tuple(hits))

    def doc_ids(self) -> list[str]:
        s = self._searcher()
        res = s.search(Q.all_query(), limit=max(1, s.num_docs))
        return sorted(s.doc(addr)["doc_id"][0] for _, addr in res.hits)
