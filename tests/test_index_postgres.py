"""The PostgreSQL backend passes the same behavioural checks as the embedded engines, against a real
PostgreSQL 15 server (tests/pgkit.py), plus the checks of its own limits: a report longer than a
tsvector's 16,383 positions (a phrase across the chunk cut is found) and a report over 1 MB of text.

The engine-independent tests of tests/test_index_search.py are imported here, so pytest collects them
again in this module, where `backend`, `corpus_backend` and `new_backend` are PostgreSQL indexes.
The read-only fixtures are built once per module (one database each)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from test_index_search import (  # noqa: F401  (collected again here, against PostgreSQL)
    _doc,
    _ids,
    example_doc,
    sample_docs,
    test_amount_range_in_fen,
    test_concurrent_writers_from_several_processes_never_fail,
    test_date_range,
    test_disposal_keeps_a_findable_tombstone,
    test_field_queries_in_chinese,
    test_free_text_and_phrase,
    test_free_text_is_a_substring_across_separators,
    test_highlight_marks_the_whole_term,
    test_pagination_and_date_sort,
    test_snippets_escape_case_text,
    test_status_filter,
    test_total_counts_every_match_not_only_the_top_page,
)

from index.extract import IndexDocument
from index.postgres_backend import (
    MAX_POSITION,
    MAX_POSITIONS_PER_LEXEME,
    OVERLAP,
    PostgresBackend,
    SearchUnavailableError,
    _chunk_bounds,
    token_streams,
)
from index.query import parse_query


@pytest.fixture(scope="module")
def backend(pg_cluster, example_doc: IndexDocument) -> PostgresBackend:  # type: ignore[no-untyped-def]  # noqa: F811
    b = PostgresBackend(pg_cluster.create_database())
    b.rebuild(sample_docs(example_doc))
    return b


@pytest.fixture(scope="module")
def corpus_backend(pg_cluster) -> tuple[PostgresBackend, list[IndexDocument]]:  # type: ignore[no-untyped-def]
    from bench.corpus import report

    docs = [report(11, i) for i in range(120)]
    b = PostgresBackend(pg_cluster.create_database(), procs=2)  # the worker-process analysis path
    assert b.rebuild(docs) == 120
    return b, docs


class _PgFactory:
    """`new_backend(path)` of the shared tests: one database per path, named after it, so every
    process calling with the same path (the concurrent-writers test forks four) opens the same one."""

    def __init__(self, cluster) -> None:  # type: ignore[no-untyped-def]
        self.cluster = cluster

    def __call__(self, path: Path) -> PostgresBackend:
        import hashlib

        import psycopg

        name = "p_" + hashlib.sha1(str(path).encode()).hexdigest()[:16]
        try:
            self.cluster.create_database(name)
        except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
            pass  # made by another process a moment ago
        return PostgresBackend(self.cluster.url(name))


@pytest.fixture
def new_backend(pg_cluster) -> _PgFactory:  # type: ignore[no-untyped-def]
    return _PgFactory(pg_cluster)


def test_substring_inside_a_word_found_through_bigrams(backend: PostgresBackend, example_doc: IndexDocument) -> None:  # noqa: F811
    assert _ids(backend, "坡坍") == [example_doc.doc_id]
    assert "2024/GC-5/R-5" in _ids(backend, "孔")
    assert _ids(backend, '"坍塌边坡"') == []


def test_no_text_search_parser_touches_the_chinese(pg_url: str) -> None:
    # The 'simple' or 'english' configurations would split or stem; the stored lexemes are exactly
    # our bigrams and ~words, with our positions.
    b = PostgresBackend(pg_url)
    b.add(_doc(1, text="边坡坍塌。"))
    import psycopg

    with psycopg.connect(pg_url) as conn:
        rows = [r[0] for r in conn.execute("SELECT tsv::text FROM gongu_search.chunk ORDER BY tsv::text").fetchall()]
    assert "'坍塌':3 '坡坍':2 '塌':4 '边坡':1" in rows
    assert "'~边坡坍塌':1" in rows  # one word: 边坡坍塌 is in the domain dictionary


def _long_text(tokens: int, seed: int) -> str:
    """`tokens` word characters from a small alphabet (so lexemes repeat: the 256-position cap bites),
    in runs of 20 separated by full stops."""
    rng = random.Random(seed)
    chars = "损失工程边坡保险赔付金额核定施工现场查勘报告"
    out = []
    for i in range(tokens):
        out.append(rng.choice(chars))
        if i % 20 == 19:
            out.append("。")
    return "".join(out)


def test_chunks_overlap_by_a_query_and_stay_within_postgresql_limits() -> None:
    doc = _doc(1, text=_long_text(40_000, 1))
    grams = token_streams(doc)[0]
    bounds = _chunk_bounds(grams)
    assert len(bounds) > 2
    for (s1, e1), (s2, _) in zip(bounds, bounds[1:], strict=False):
        assert e1 - s1 <= MAX_POSITION
        assert e1 - s2 == OVERLAP, "each cut is covered by the next chunk's first OVERLAP tokens"
    for s, e in bounds:
        window = [t for t in grams[s:e] if t is not None]
        assert max(window.count(t) for t in set(window)) <= MAX_POSITIONS_PER_LEXEME
    assert bounds[0][0] == 0 and bounds[-1][1] == len(grams)


@pytest.mark.parametrize("text", [
    "", "塌", "a", "边坡坍塌，锚杆框架梁开裂。", "ＡＢｃ１２ 边坡 K\u212a 大写ABC", "a-b c.d 边,坡 x",
    "免赔额" * 6_000,  # one lexeme far over 256 positions: several windows
])
def test_fast_analysis_paths_match_the_reference_ones(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """_grams builds bigrams with string operations and _chunk_bounds skips its loop when a stream fits
    whole: both must give exactly what the plain definitions give."""
    import index.postgres_backend as pb
    from index.analysis import bigram_spans

    assert pb._grams(text) == [g.lower() for g, _, _ in bigram_spans(text, trailing_unigram=True)]
    assert pb._grams(text, "|3|") == ["|3|" + g.lower() for g, _, _ in bigram_spans(text, trailing_unigram=True)]
    streams = token_streams(_doc(1, text=text))
    fast = [_chunk_bounds(stream) for stream in streams]
    monkeypatch.setattr(pb, "_fits_whole", lambda tokens: False)  # the windowing loop alone
    assert fast == [_chunk_bounds(stream) for stream in streams]


def test_a_phrase_across_the_chunk_cut_is_found(pg_url: str) -> None:
    # 20,000 positions of distinct-enough text (no lexeme reaches 256 before 16,383 positions), then
    # a phrase placed across the first cut, which falls at position 16,383.
    filler = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(16_376))
    phrase = "钢栈桥被洪水冲毁后抢修完毕"  # 13 characters at 16,376 … 16,388: the cut (16,383) is inside it
    text = filler + phrase + "".join(chr(0x4E00 + (i * 104729) % 20000) for i in range(5_000))
    doc = _doc(1, text=text)
    grams = token_streams(doc)[0]
    (s0, e0), *rest = _chunk_bounds(grams)
    assert s0 == 0 and e0 == MAX_POSITION and rest, "the phrase straddles the first chunk's end"
    assert 16_376 < e0 < 16_376 + len(phrase)
    b = PostgresBackend(pg_url)
    b.add(doc)
    b.add(_doc(2, text="钢栈桥。被洪水冲毁后抢修完毕。"))
    assert _ids(b, phrase) == [doc.doc_id]
    assert _ids(b, f'"{phrase}"') == [doc.doc_id]
    (hit,) = b.search(parse_query(phrase)).hits
    assert "<mark>" in " ".join(hit.snippets)


def test_a_report_over_one_megabyte_of_text_is_indexed(pg_url: str) -> None:
    text = _long_text(400_000, 2) + "本案特有的终结语句位于全文末尾"
    assert len(text.encode()) > 1_000_000
    b = PostgresBackend(pg_url)
    b.add(_doc(1, text=text))
    b.add(_doc(2, text="无关的短报告。"))
    assert _ids(b, "终结语句位于全文末尾") == ["2024/GC-1/R-1"]
    assert _ids(b, "无关") == ["2024/GC-2/R-2"]
    stored = b.get("2024/GC-1/R-1")
    assert stored is not None and stored.text == text


def test_recall_against_a_substring_scan(corpus_backend: tuple[PostgresBackend, list[IndexDocument]]) -> None:
    backend, docs = corpus_backend
    for text in ("免赔额", "坡坍", "锚杆框架梁", "涌", "隧道掌子面突发涌水"):
        expected = sorted(d.doc_id for d in docs if text in d.text)
        assert backend.doc_ids(parse_query(text)) == expected, text


def test_an_unreachable_server_is_a_clear_error() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    b = PostgresBackend(f"postgresql://postgres:secret@127.0.0.1:{port}/x", connect_timeout=2)
    with pytest.raises(SearchUnavailableError) as err:
        b.count()
    assert "无法连接检索数据库" in str(err.value) and "secret" not in str(err.value)


def test_rum_and_gin_answer_alike(pg_cluster, corpus_backend: tuple[PostgresBackend, list[IndexDocument]]) -> None:  # type: ignore[no-untyped-def]
    """The same corpus under a RUM index (Makefile installs postgresql-15-rum) and under GIN (a server
    without the extension): every query gives the same documents, the same total and the same page."""
    from bench.search_bench import QUERIES

    rum, docs = corpus_backend
    gin = PostgresBackend(pg_cluster.create_database(), index_method="gin")
    gin.rebuild(docs)
    assert (rum.index_method, gin.index_method) == ("rum", "gin")
    queries = [q for qs in QUERIES.values() for q in qs] + [
        "暴雨 OR 山洪 -隧道", "状态:archived 免赔额", "出险日期:2024..", "-免赔额", "省份:四川 OR 涌水", ""]
    for q in queries:
        assert rum.doc_ids(parse_query(q)) == gin.doc_ids(parse_query(q)), q
        a, b = rum.search(parse_query(q)), gin.search(parse_query(q))
        assert (a.total, [h.doc_id for h in a.hits]) == (b.total, [h.doc_id for h in b.hits]), q
    # and both agree with a substring scan where the query is one substring
    for text in ("核损单价", "免赔额"):
        assert gin.doc_ids(parse_query(text)) == sorted(d.doc_id for d in docs if text in d.text)


def test_an_index_made_before_chunks_carried_the_date_is_upgraded(pg_url: str) -> None:
    """Chunk rows carry loss_date for ranking; an index built before that gets the column on open."""
    import psycopg

    docs = [_doc(i, loss_date=date(2023, 1, i)) for i in range(1, 4)]
    PostgresBackend(pg_url).rebuild(docs)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE gongu_search.chunk DROP COLUMN loss_date")
    b = PostgresBackend(pg_url)
    assert b.search(parse_query("出险日期:2023-01-02..")).total == 2
    by_date = b.search(replace(parse_query("测试案件"), sort="date"))
    assert [h.doc_id for h in by_date.hits] == [d.doc_id for d in reversed(docs)]  # newest loss first
    with psycopg.connect(pg_url) as conn:
        dates = conn.execute("SELECT DISTINCT c.loss_date = d.loss_date FROM gongu_search.chunk c "
                             "JOIN gongu_search.doc d USING (doc_id)").fetchall()
    assert dates == [(True,)]


def test_a_lost_connection_is_retried_once_and_a_slow_statement_is_a_clear_error(pg_url: str) -> None:
    """[store] statement_timeout applies to search; a connection the server dropped is replaced once."""
    import psycopg

    b = PostgresBackend(pg_url, statement_timeout=1)
    b.rebuild([_doc(1), _doc(2, text="山洪冲毁钢板桩围堰。")])
    first = b.search(parse_query("围堰"))
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [b._conn.info.backend_pid])  # type: ignore[union-attr]
        again = b.search(parse_query("围堰"))  # on a new connection, the same answer
        assert (again.total, [h.doc_id for h in again.hits]) == (first.total, [h.doc_id for h in first.hits]) == (
            1, ["2024/GC-2/R-2"])
        with admin.transaction():  # someone holds the table: the search waits past its limit
            admin.execute("LOCK TABLE gongu_search.doc IN ACCESS EXCLUSIVE MODE")
            with pytest.raises(SearchUnavailableError) as err:
                b.search(parse_query("围堰"))
    assert "statement_timeout" in str(err.value) and "1 秒" in str(err.value)
    assert b.search(parse_query("围堰")).total == 1  # and the next one works


def test_a_rebuild_is_not_cut_short_by_the_statement_limit(pg_url: str) -> None:
    """Swapping the rebuilt index in waits for readers of the old one; that wait (like indexing 100,000
    reports) may exceed [store] statement_timeout, which is for searches, not for a rebuild."""
    import threading
    import time

    import psycopg

    b = PostgresBackend(pg_url, statement_timeout=1)
    b.rebuild([_doc(1)])
    reading = threading.Event()

    def long_reader() -> None:  # a search transaction that holds the old index for 2 s
        with psycopg.connect(pg_url) as conn:
            conn.execute("SELECT count(*) FROM gongu_search.doc")
            reading.set()
            time.sleep(2)

    reader = threading.Thread(target=long_reader)
    reader.start()
    reading.wait(10)
    try:
        assert b.rebuild([_doc(i) for i in range(1, 4)]) == 3  # its DROP SCHEMA waited ~2 s for the reader
    finally:
        reader.join()
    assert b.count() == 3
    row = b._run(lambda conn: conn.execute("SHOW statement_timeout").fetchone())
    assert row == ("1s",)  # the limit is back for the searches that follow
