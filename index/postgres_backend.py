"""The shared engine: PostgreSQL full-text search, for a firm whose offices share one database server.

The analysis is the SAME as the embedded engines' (index/analysis.py: jieba words with the domain
dictionary, overlapping character bigrams with a trailing unigram per run). It runs in Python; the
tokens are written as `tsvector` literals with their positions (`'免赔':3,17 '赔额':4,18 …`), which
PostgreSQL stores as they are: no text-search parser or dictionary of PostgreSQL ever touches the
Chinese text. Queries are `tsquery` literals built from index/query.py's parse: a substring is its
bigrams chained with `<->` (a lone character: a prefix `'塌':*`, complete thanks to the trailing
unigram), words in order are `'~边坡' <-> '~坍塌'`. One GIN index over every row answers them all.

Lexeme namespaces in one column (so one GIN index serves every field):
- body and descriptive bigrams as they are (`边坡`), so a free-text match is one tsquery over all
  the rows of a document (its text and its descriptive fields, which keeps tombstones findable);
- words prefixed `~` (`~免赔额`): they rank, and match for a typed phrase of several words;
- the bigrams of one descriptive field prefixed `|<field number>|` (`|4|平安`) for field queries.
A query token is a run of word characters, so it never starts with `~` or `|`: a one-character
prefix query cannot reach another namespace.

PostgreSQL's limits, and how a long report stays fully searchable:
- a position is at most 16,383 and a lexeme keeps at most 256 positions (the rest are dropped
  silently), and a tsvector is at most 1 MB;
- so each stream of tokens (bigrams, words, descriptive fields) is cut into chunks, one row each,
  that stay under all three (`chunk_streams`), and consecutive chunks overlap by OVERLAP tokens.
  A query is at most MAX_QUERY_CHARS characters, so its bigram (or word) phrase spans at most that
  many tokens and lies whole inside some chunk: nothing that crosses a cut is lost. A document
  matches a query when every group of it matches some row of the document (EXISTS per match).
- pg_trgm is not used: its index cannot answer a two-character term, the commonest Chinese word.

Queries are set operations over documents, not per-row EXISTS tests: each term is the set of
(doc_id, loss_date) of the chunk rows its tsquery matches (one index scan), a group of OR'ed terms
a UNION (or one tsquery with `|`), the terms together an INTERSECT, exclusions EXCEPT. PostgreSQL
hashes these sets, where a correlated EXISTS per matching document (the first design) probed the
chunk rows of each of thousands of matches and re-read their tsvectors: 0.8 s for a common phrase
at 20,000 reports. loss_date is copied into every chunk row so that ranking and the date sort
never join the doc table for the whole match; only the page's rows are read from it.

The index over the tsvectors is RUM (Debian `postgresql-15-rum`) when the server has that
extension, else GIN. GIN keeps no positions, so every `<->` phrase (and a substring of three or
more characters is one) is checked by reading the row's tsvector from the heap (TOAST): 0.3 s for
a phrase 13,000 reports contain. RUM keeps the positions in the index and answers the phrase there
(40 ms). Both give the same results; `PostgresBackend.index_method` says which one a home uses.

Tables live in their own schema (`gongu_search`), made by this module: the index is rebuilt from
the packages, never migrated. A rebuild fills a fresh schema and swaps it in with a rename in one
short transaction, so readers see the old index or the new one, never an empty one. Writers of
one document are serialised with a transaction-level advisory lock; readers never wait (MVCC).
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from itertools import repeat
from operator import add
from typing import Any, Literal, TypeVar

import psycopg
from psycopg import sql

from index.analysis import WORD_RUN, query_bigrams, query_words, word_spans
from index.backend import Progress, SearchBackend, SearchUnavailableError, analysed_in_order
from index.extract import DEFAULT_KIND, IndexDocument
from index.fields import TEXT_FIELDS
from index.highlight import snippets
from index.query import (
    FIELDS,
    MAX_QUERY_CHARS,
    Match,
    Range,
    SearchHit,
    SearchQuery,
    SearchResults,
    words_may_widen,
)
from index.records import document_from_record, record_of

T = TypeVar("T")
SCHEMA = "gongu_search"
MAX_POSITION = 16_383  # PostgreSQL's largest tsvector position
MAX_POSITIONS_PER_LEXEME = 256  # more are dropped silently by tsvector input
MAX_TSVECTOR_BYTES = 900_000  # under the 1 MB limit, with room for the header
OVERLAP = MAX_QUERY_CHARS  # a query spans at most this many tokens (one per word character)
MAX_WORD_CHARS = 64  # a longer "word" (a run jieba could not split) is left out of the word stream
WORD = "~"
POSITIONS = [str(i) for i in range(1, MAX_POSITION + 1)]  # tsvector positions as text, made once
FIELD_NO = {name: i for i, name in enumerate(TEXT_FIELDS)}
# Per search session: the match set and each ranking word's documents are hashed, and a hash that
# outgrows work_mem makes PostgreSQL fall back to a per-row subplan (about 70,000 ids at 100,000 reports).
SEARCH_WORK_MEM = "64MB"


# ─────────────────────────── documents → token streams → chunked tsvectors ───────────────────────────


def _field_prefix(name: str) -> str:
    return f"|{FIELD_NO[name]}|"


def _grams(text: str, prefix: str = "") -> list[str | None]:
    """index/analysis.bigram_spans with the trailing unigram, lowercased, without the spans: the
    same tokens, built with C-level string operations (a third of the analysis time otherwise).
    Lowercasing a run keeps its length: WORD_RUN holds only characters that lower one to one."""
    out: list[str | None] = []
    for run in WORD_RUN.findall(text):
        run = run.lower()
        if len(run) > 1:
            out.extend(map(add, repeat(prefix), map(add, run[:-1], run[1:])) if prefix else map(add, run[:-1], run[1:]))
        out.append(prefix + run[-1])
    return out


def token_streams(doc: IndexDocument) -> list[list[str | None]]:
    """Each stream is a sequence of lexemes at consecutive positions (None: an empty position)."""
    streams: list[list[str | None]] = []
    if doc.text:
        streams.append(_grams(doc.text))
        streams.append([WORD + w.lower() if len(w) <= MAX_WORD_CHARS else None for w, _, _ in word_spans(doc.text)])
    meta: list[str | None] = []
    descriptive = []
    for name in TEXT_FIELDS:
        raw = getattr(doc, name)
        value = "\n".join(raw) if isinstance(raw, tuple) else str(raw or "")
        if value:
            descriptive.append(value)
            meta.extend(_grams(value, _field_prefix(name)))
    # meta_bg (every descriptive field) before the per-field lexemes, as the embedded engines' meta_bg
    streams.append(_grams("\n".join(descriptive)) + meta)
    return [s for s in streams if s]


def _fits_whole(tokens: Sequence[str | None]) -> bool:
    """The common case, checked with a C-level Counter: one window holds the whole stream."""
    if len(tokens) > MAX_POSITION:
        return False
    counts = Counter(tokens)
    counts.pop(None, None)
    if counts and max(counts.values()) > MAX_POSITIONS_PER_LEXEME:
        return False
    size = sum(8 + len(lex.encode()) for lex in counts) + 2 * (sum(counts.values()) - len(counts))  # as below
    return size <= MAX_TSVECTOR_BYTES


def _chunk_bounds(tokens: Sequence[str | None]) -> list[tuple[int, int]]:
    """[start, end) windows over `tokens`: each within PostgreSQL's limits, each starting OVERLAP
    tokens before the previous one ended (half the previous window when that is shorter: only a
    text repeating one lexeme hundreds of times within OVERLAP characters makes windows that short)."""
    if _fits_whole(tokens):
        return [(0, len(tokens))]
    out: list[tuple[int, int]] = []
    n, start = len(tokens), 0
    while True:
        counts: dict[str, int] = {}
        size, end = 0, start
        while end < n and end - start < MAX_POSITION:
            lex = tokens[end]
            if lex is not None:
                c = counts.get(lex, 0)
                cost = 2 if c else 8 + len(lex.encode())
                if c >= MAX_POSITIONS_PER_LEXEME or size + cost > MAX_TSVECTOR_BYTES:
                    break
                counts[lex] = c + 1
                size += cost
            end += 1
        out.append((start, end))
        if end >= n:
            return out
        start = max(end - OVERLAP, start + max(1, (end - start) // 2))


def _quote(lexeme: str) -> str:
    if "'" in lexeme or "\\" in lexeme:  # never from our analysis (word characters only); kept safe
        lexeme = lexeme.replace("\\", "\\\\").replace("'", "''")
    return "'" + lexeme + "'"


def tsvector_literal(tokens: Sequence[str | None]) -> str:
    """`'lex':1,5 'lex2':2 …` — positions from 1, as tsvector input takes them (no parser involved)."""
    if len(tokens) > MAX_POSITION:
        raise ValueError(f"{len(tokens)} tokens: a tsvector holds positions up to {MAX_POSITION} (chunk first)")
    positions: defaultdict[str, list[str]] = defaultdict(list)
    for pos, lex in zip(POSITIONS, tokens, strict=False):  # POSITIONS is the longer (checked above)
        if lex is not None:
            positions[lex].append(pos)
    return " ".join([f"{_quote(lex)}:{','.join(p)}" for lex, p in positions.items()])


def chunks_of(doc: IndexDocument) -> list[str]:
    """The tsvector literals of every row of `doc`."""
    return [tsvector_literal(stream[s:e]) for stream in token_streams(doc) for s, e in _chunk_bounds(stream)]


def prepare(doc: IndexDocument) -> tuple[tuple[Any, ...], list[str]]:
    """The document row and its chunk literals (plain data: made in worker processes in a rebuild)."""
    row = (doc.doc_id, doc.case_id, doc.kind or DEFAULT_KIND, doc.status, doc.loss_date, doc.report_date,
           doc.retention_end, doc.claimed_fen, doc.assessed_fen, doc.adjusted_fen, record_of(doc))
    return row, chunks_of(doc)


DOC_COLUMNS = ("doc_id", "case_key", "kind", "status", "loss_date", "report_date", "retention_end",
               "claimed_fen", "assessed_fen", "adjusted_fen", "record")
LOSS_DATE = DOC_COLUMNS.index("loss_date")


def _ddl(schema: str) -> list[sql.Composed]:
    s = sql.Identifier(schema)
    return [
        sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(s),
        sql.SQL("""CREATE TABLE IF NOT EXISTS {}.doc (
            doc_id text PRIMARY KEY, case_key text NOT NULL, kind text NOT NULL, status text NOT NULL,
            loss_date date, report_date date, retention_end date,
            claimed_fen bigint, assessed_fen bigint, adjusted_fen bigint, record bytea NOT NULL)""").format(s),
        # loss_date: the document's, copied so that ranking a match never joins doc (see above)
        sql.SQL("""CREATE TABLE IF NOT EXISTS {}.chunk (
            doc_id text NOT NULL REFERENCES {}.doc ON DELETE CASCADE, loss_date date,
            tsv tsvector NOT NULL)""").format(s, s),
    ]


IndexMethod = Literal["auto", "rum", "gin"]


def _indexes(schema: str, method: str) -> list[sql.Composed]:
    s = sql.Identifier(schema)
    tsv = "rum (tsv rum_tsvector_ops)" if method == "rum" else "gin (tsv)"
    return [
        sql.SQL("CREATE INDEX IF NOT EXISTS chunk_tsv ON {}.chunk USING " + tsv).format(s),
        sql.SQL("CREATE INDEX IF NOT EXISTS chunk_doc ON {}.chunk (doc_id)").format(s),
        sql.SQL("CREATE INDEX IF NOT EXISTS doc_case ON {}.doc (case_key)").format(s),
        sql.SQL("CREATE INDEX IF NOT EXISTS doc_loss_date ON {}.doc (loss_date DESC NULLS LAST, doc_id)").format(s),
    ]


# ─────────────────────────── query translation (same semantics as to_whoosh / to_tantivy) ───────────────────────────


def _chain(lexemes: list[str]) -> str:
    return " <-> ".join(_quote(x) for x in lexemes)


def substring_tsquery(text: str, prefix: str = "") -> str | None:
    """`text` occurs as a substring: each run's bigrams chained (a lone character: a prefix query)."""
    parts = []
    for grams in query_bigrams("".join(text.split())):
        if len(grams) == 1 and len(grams[0]) == 1:
            parts.append(f"{_quote(prefix + grams[0])}:*")
        else:
            parts.append("(" + _chain([prefix + g for g in grams]) + ")")
    return " & ".join(parts) if parts else None


Sql = tuple[str, list[Any]]


def match_tsquery(match: Match) -> str | None:
    """The tsquery of a free-text or text-field term (None: nothing can match it)."""
    if match.field is not None:
        return substring_tsquery(match.text, _field_prefix(match.field))
    found = substring_tsquery(match.text)
    if found is not None and words_may_widen(match):
        words = query_words(match.text)
        if words:
            found = f"({found}) | ({_chain([WORD + w for w in words])})"
    return found


def group_set(schema: str, group: Sequence[Match]) -> Sql:
    """(doc_id, loss_date) of the documents matching any term of `group`: the text terms together
    are one tsquery (`|`), so one index scan; a keyword field is a UNION over the doc table."""
    tsqueries: list[str] = []
    parts: list[Sql] = []
    for m in group:
        if m.field is not None and FIELDS[m.field].kind == "keyword":
            parts.append((f"SELECT doc_id, loss_date FROM {schema}.doc WHERE {m.field} = %s", [m.text]))
        elif (q := match_tsquery(m)) is not None:
            tsqueries.append(q)
    if tsqueries:
        combined = " | ".join(f"({q})" for q in tsqueries) if len(tsqueries) > 1 else tsqueries[0]
        parts.insert(0, (f"SELECT doc_id, loss_date FROM {schema}.chunk WHERE tsv @@ %s::tsquery", [combined]))
    if not parts:
        return f"SELECT doc_id, loss_date FROM {schema}.doc WHERE FALSE", []
    return " UNION ".join(f"({t})" for t, _ in parts), [p for _, ps in parts for p in ps]


def range_condition(rng: Range) -> Sql:
    parts, params = [], []
    if rng.low is not None:
        parts.append(f"d.{rng.field} >= %s")
        params.append(rng.low)
    if rng.high is not None:
        parts.append(f"d.{rng.field} <= %s")
        params.append(rng.high)
    return " AND ".join(parts) or "TRUE", params


def document_set(schema: str, query: SearchQuery) -> Sql:
    """SQL for (doc_id, loss_date) of every document `query` matches, each once: the groups'
    sets INTERSECTed, the ranges one more set, the exclusions EXCEPTed. Column names come from
    index/query.py's FIELDS, never from the user; values are parameters."""
    sets = [group_set(schema, g) for g in query.groups]
    if query.ranges:
        conds = [range_condition(r) for r in query.ranges]
        sets.append((f"SELECT doc_id, loss_date FROM {schema}.doc d WHERE " + " AND ".join(c for c, _ in conds),
                     [p for _, ps in conds for p in ps]))
    if not sets:
        sets.append((f"SELECT doc_id, loss_date FROM {schema}.doc", []))
    params = [p for _, ps in sets for p in ps]
    if len(sets) == 1 and not query.excluded:
        # chunk rows repeat a document (several rows match): the set operators dedupe, a lone set must
        return f"SELECT DISTINCT doc_id, loss_date FROM ({sets[0][0]}) x", params
    text = " INTERSECT ".join(f"({t})" for t, _ in sets)
    for m in query.excluded:
        t, ps = group_set(schema, [m])
        text = f"({text}) EXCEPT ({t})"
        params += ps
    return text, params


def score_expression(schema: str, query: SearchQuery) -> Sql:
    """Relevance over the match set `m`: how many of the query's jieba words the report holds as words
    (the embedded engines' ranking terms). Each word's documents are one index scan that PostgreSQL
    hashes (an uncorrelated IN in the select list): no tsvector is read to score a match."""
    words = list(dict.fromkeys(WORD + w for g in query.groups for m in g if m.field is None for w in query_words(m.text)))
    if not words:
        return "0", []
    part = f"(m.doc_id IN (SELECT doc_id FROM {schema}.chunk WHERE tsv @@ %s::tsquery))::int"
    return " + ".join([part] * len(words)), [_quote(w) for w in words]


# ─────────────────────────── the backend ───────────────────────────


class PostgresBackend(SearchBackend):
    """The index in the database at `url` (`[store] url` of gongu.toml), schema `gongu_search`."""

    def __init__(self, url: str, *, procs: int = 1, connect_timeout: int = 10, statement_timeout: int = 0,
                 schema: str = SCHEMA, index_method: IndexMethod = "auto") -> None:
        """`connect_timeout` and `statement_timeout` (seconds, 0: none) are gongu.toml's [store] ones;
        a rebuild runs without the statement limit (indexing 100,000 reports takes minutes).
        `index_method`: "auto" uses RUM when the server has the extension (or lets us create it),
        else GIN; "gin" and "rum" insist (the tests run both; "rum" without it is an error)."""
        self.url = url
        self.requested_method = index_method
        self.procs = procs
        self.connect_timeout = connect_timeout
        self.statement_timeout = statement_timeout
        if not schema.isidentifier() or not schema.isascii():
            raise ValueError(f"schema name {schema!r}: letters, digits and _ only")
        self.schema = schema
        self._conn: psycopg.Connection[Any] | None = None
        self._lock = threading.RLock()
        self._ready = False

    # connections: one per backend object; a lost connection is retried once, then reported

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=self.connect_timeout)
            conn.execute(f"SET work_mem = '{SEARCH_WORK_MEM}'")
            conn.execute(f"SET statement_timeout = {int(self.statement_timeout) * 1000}")
            return conn
        except psycopg.OperationalError as exc:
            raise SearchUnavailableError(f"无法连接检索数据库（PostgreSQL）{safe_url(self.url)}：{_first_line(exc)}") from None

    def _run(self, work: Callable[[psycopg.Connection[Any]], T], *, retry: bool = True) -> T:
        """`work` on this backend's connection. A connection found broken is replaced and `work` run
        once more (each `work` is one read, or one transaction the server rolled back with the lost
        connection); a second loss, or a statement over statement_timeout, is a SearchUnavailableError
        with what happened — never a traceback. (A loop around a context manager's `yield` cannot
        run its body twice, which is why this takes a function.)"""
        with self._lock:
            for attempt in (1, 2):
                if self._conn is None or self._conn.closed:
                    self._conn = self._connect()
                try:
                    if not self._ready:
                        self._create(self._conn)
                    return work(self._conn)
                except psycopg.errors.QueryCanceled as exc:
                    raise SearchUnavailableError(
                        f"检索数据库（PostgreSQL）未在 {self.statement_timeout} 秒内完成（[store] statement_timeout）："
                        f"{_first_line(exc)}；请加条件缩小范围后重试") from None
                except psycopg.OperationalError as exc:
                    broken = self._conn is None or self._conn.closed or self._conn.broken
                    if self._conn is not None:
                        self._conn.close()
                    self._conn = None
                    if attempt == 2 or not broken or not retry:
                        raise SearchUnavailableError(
                            f"检索数据库（PostgreSQL）连接中断 {safe_url(self.url)}：{_first_line(exc)}") from None
        raise AssertionError("unreachable: the second attempt returns or raises")

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _create(self, conn: psycopg.Connection[Any]) -> None:
        """The tables, made once. Only when they are missing: CREATE INDEX IF NOT EXISTS still takes
        a SHARE lock, which would deadlock with a concurrent writer of another process. A session
        advisory lock lets one process make them while the others wait, then find them made.
        An index made before chunk rows carried loss_date gets the column here, filled from doc."""
        last = f"{self.schema}.doc_loss_date"
        if conn.execute("SELECT to_regclass(%s)::text", [last]).fetchone() == (None,) or not self._has_loss_date(conn):
            conn.execute("SELECT pg_advisory_lock(hashtext('gongu_search.create'))")
            try:
                if conn.execute("SELECT to_regclass(%s)::text", [last]).fetchone() == (None,):
                    method = self._method(conn)
                    with conn.transaction():
                        for stmt in (*_ddl(self.schema), *_indexes(self.schema, method)):
                            conn.execute(stmt)
                elif not self._has_loss_date(conn):
                    with conn.transaction():
                        conn.execute(self._sql("ALTER TABLE {s}.chunk ADD COLUMN loss_date date"))
                        conn.execute(self._sql("UPDATE {s}.chunk c SET loss_date = d.loss_date FROM {s}.doc d "
                                               "WHERE d.doc_id = c.doc_id"))
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext('gongu_search.create'))")
        self._ready = True

    def _has_loss_date(self, conn: psycopg.Connection[Any]) -> bool:
        return conn.execute("SELECT 1 FROM information_schema.columns WHERE table_schema = %s "
                            "AND table_name = 'chunk' AND column_name = 'loss_date'", [self.schema]).fetchone() is not None

    def _method(self, conn: psycopg.Connection[Any]) -> str:
        """The index access method a new index gets: RUM when the extension is there or we may create
        it (a superuser, or a DBA ran `CREATE EXTENSION rum` once), else GIN."""
        if self.requested_method == "gin":
            return "gin"
        if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'rum'").fetchone() is None:
            try:
                with conn.transaction():
                    conn.execute("CREATE EXTENSION IF NOT EXISTS rum")
            except psycopg.Error as exc:
                if self.requested_method == "rum":
                    raise SearchUnavailableError(
                        f"检索数据库（PostgreSQL）没有 RUM 扩展（postgresql-15-rum）：{_first_line(exc)}") from None
                return "gin"  # not installed, or not ours to create: same results, slower phrases
        return "rum"

    @property
    def index_method(self) -> str:
        """The access method of the index in use ("rum" or "gin"; "" before one is made)."""
        row = self._run(lambda conn: conn.execute(
            "SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam WHERE c.oid = to_regclass(%s)",
            [f"{self.schema}.chunk_tsv"]).fetchone())
        return str(row[0]) if row else ""

    def _sql(self, text: str) -> sql.Composed:
        return sql.SQL(text).format(s=sql.Identifier(self.schema))

    # writes

    def add(self, doc: IndexDocument) -> None:
        self.update(doc)

    def update(self, doc: IndexDocument) -> None:
        row, chunks = prepare(doc)

        def replace(conn: psycopg.Connection[Any]) -> None:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"gongu_search:{doc.doc_id}"])
                conn.execute(self._sql("DELETE FROM {s}.doc WHERE doc_id = %s"), [doc.doc_id])
                self._write(conn, self.schema, [(row, chunks)])

        self._run(replace)

    def _write(self, conn: psycopg.Connection[Any], schema: str, items: list[tuple[tuple[Any, ...], list[str]]]) -> None:
        s = sql.Identifier(schema)
        cols = sql.SQL(", ").join(map(sql.Identifier, DOC_COLUMNS))
        with conn.cursor() as cur:
            with cur.copy(sql.SQL("COPY {}.doc ({}) FROM STDIN").format(s, cols)) as copy:
                for row, _ in items:
                    copy.write_row(row)
            with cur.copy(sql.SQL("COPY {}.chunk (doc_id, loss_date, tsv) FROM STDIN").format(s)) as copy:
                for row, chunks in items:
                    for literal in chunks:
                        copy.write_row((row[0], row[LOSS_DATE], literal))

    def delete(self, doc_id: str) -> None:
        self._run(lambda conn: conn.execute(self._sql("DELETE FROM {s}.doc WHERE doc_id = %s"), [doc_id]))

    def rebuild(self, docs: Iterable[IndexDocument], progress: Progress | None = None) -> int:
        """A fresh schema filled with COPY, indexed once at the end (faster than keeping a GIN index
        current row by row), then swapped in by renaming: readers never see an empty index."""
        return self._run(lambda conn: self._rebuild(conn, docs, progress), retry=False)  # `docs` is read once

    def _rebuild(self, conn: psycopg.Connection[Any], docs: Iterable[IndexDocument], progress: Progress | None) -> int:
        fresh = f"{self.schema}_next"
        count = 0
        conn.execute("SET statement_timeout = 0")
        try:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(fresh)))
            for stmt in _ddl(fresh):
                conn.execute(stmt)
            batch: list[tuple[tuple[Any, ...], list[str]]] = []
            for doc, item in analysed_in_order(docs, prepare, self.procs):
                batch.append(item)
                count += 1
                if progress is not None:
                    progress(doc)
                if len(batch) >= 500:
                    with conn.transaction():
                        self._write(conn, fresh, batch)
                    batch = []
            with conn.transaction():
                self._write(conn, fresh, batch)
            conn.execute("SET maintenance_work_mem = '256MB'")
            for stmt in _indexes(fresh, self._method(conn)):
                conn.execute(stmt)
            conn.execute(sql.SQL("ANALYZE {}.doc").format(sql.Identifier(fresh)))
            conn.execute(sql.SQL("ANALYZE {}.chunk").format(sql.Identifier(fresh)))
            with conn.transaction():
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.schema)))
                conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(sql.Identifier(fresh),
                                                                              sql.Identifier(self.schema)))
        finally:
            if not (conn.closed or conn.broken):
                conn.execute(f"SET statement_timeout = {int(self.statement_timeout) * 1000}")
        return count

    # reads

    def get(self, doc_id: str) -> IndexDocument | None:
        row = self._run(lambda conn: conn.execute(self._sql("SELECT record FROM {s}.doc WHERE doc_id = %s"),
                                                  [doc_id]).fetchone())
        return document_from_record(bytes(row[0])) if row else None

    def doc_ids_for_case(self, case_id: str) -> list[str]:
        rows = self._run(lambda conn: conn.execute(
            self._sql("SELECT doc_id FROM {s}.doc WHERE case_key = %s ORDER BY doc_id"), [case_id]).fetchall())
        return [r[0] for r in rows]

    def count(self) -> int:
        row = self._run(lambda conn: conn.execute(self._sql("SELECT count(*) FROM {s}.doc")).fetchone())
        return int(row[0]) if row else 0

    def doc_ids(self, query: SearchQuery | None = None) -> list[str]:
        """Every document `query` matches (all of them, not one page), sorted."""
        found, params = document_set(self.schema, query or SearchQuery())
        rows = self._run(lambda conn: conn.execute(f"SELECT doc_id FROM ({found}) x", params).fetchall())  # type: ignore[call-overload]
        return sorted(r[0] for r in rows)

    def search(self, query: SearchQuery, *, with_snippets: bool = True) -> SearchResults:
        s = self.schema
        found, fparams = document_set(s, query)
        offset = (query.page - 1) * query.page_size
        if query.sort == "date":
            score, sparams = "0", []
            order = "loss_date DESC NULLS LAST, doc_id"
        else:
            score, sparams = score_expression(s, query)
            order = "score DESC, loss_date DESC NULLS LAST, doc_id"
        # The match set once (MATERIALIZED: read twice, computed once): its size is the exact total;
        # every match is scored from hashed word sets to find the page, and only the page's records
        # (with the text) are read from doc.
        stmt = (f"WITH m AS MATERIALIZED ({found}), "
                f"page AS (SELECT m.doc_id, m.loss_date, {score} AS score FROM m ORDER BY {order} LIMIT %s OFFSET %s) "
                f"SELECT (SELECT count(*) FROM m), p.score, doc.record FROM page p JOIN {s}.doc doc USING (doc_id) "
                f"ORDER BY " + ", ".join(f"p.{o}" for o in order.split(", ")))

        def page_and_total(conn: psycopg.Connection[Any]) -> tuple[list[Any], int]:
            rows = conn.execute(stmt, [*fparams, *sparams, query.page_size, offset]).fetchall()  # type: ignore[call-overload]
            if rows:
                return rows, int(rows[0][0])
            row = conn.execute(f"SELECT count(*) FROM ({found}) x", fparams).fetchone()  # type: ignore[call-overload]
            return rows, int(row[0]) if row else 0

        rows, total = self._run(page_and_total)
        hits = []
        for _, score_value, record in rows:
            doc = document_from_record(bytes(record))
            fields = doc.as_dict()
            fields.pop("text")
            found_snippets = snippets(doc.text, query.terms) if with_snippets and doc.text else []
            hits.append(SearchHit(doc.doc_id, float(score_value) if query.sort == "score" else 0.0, fields,
                                  tuple(found_snippets)))
        return SearchResults(query=query, total=total, hits=tuple(hits))


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def safe_url(url: str) -> str:
    """The URL without its password (shown in messages)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url
