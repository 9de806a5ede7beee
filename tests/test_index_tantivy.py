"""The tantivy backend passes the same behavioural checks as the Whoosh one.

The engine-independent tests of tests/test_index_search.py are imported here, so pytest collects them
a second time in this module, where the `backend` and `corpus_backend` fixtures are tantivy indexes
(fixtures resolve from the module that collects the test). Tests that reach into Whoosh itself
(its writer lock) have tantivy counterparts below."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_index_archive import CASE, REPORTS, prepared  # noqa: F401  (the archive-backed home; kit is in conftest)
from test_index_search import (  # noqa: F401  (collected again here, against tantivy)
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

from gongu.settings import Settings, parse_config
from index.extract import IndexDocument
from index.query import parse_query
from index.tantivy_backend import LAYOUT_FILE, TantivyBackend, sparse_grams


@pytest.fixture(scope="module")
def store_kind() -> str:
    """The archive-backed home borrowed from test_index_archive runs there on both catalogs; here the
    embedded engines are under test, so only on the embedded (SQLite) home."""
    return "sqlite"


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory, example_doc: IndexDocument) -> TantivyBackend:  # noqa: F811

    b = TantivyBackend(tmp_path_factory.mktemp("tix"))
    b.rebuild(sample_docs(example_doc))
    return b


@pytest.fixture(scope="module")
def corpus_backend(tmp_path_factory: pytest.TempPathFactory) -> tuple[TantivyBackend, list[IndexDocument]]:
    from bench.corpus import report

    docs = [report(11, i) for i in range(120)]
    b = TantivyBackend(tmp_path_factory.mktemp("tcorpus"), procs=2)  # the worker-process analysis path
    assert b.rebuild(docs) == 120
    return b, docs


@pytest.fixture
def new_backend() -> type:
    return TantivyBackend


def test_sparse_bigram_phrase_names_every_other_bigram_and_the_last() -> None:
    # 每次事故免赔额 has six bigrams 每次 次事 事故 故免 免赔 赔额 (offsets 0–5): 0, 2, 4 and the last, 5.
    assert sparse_grams(["每次", "次事", "事故", "故免", "免赔", "赔额"]) == [(0, "每次"), (2, "事故"), (4, "免赔"), (5, "赔额")]
    # An odd count ends on an even offset already: 核损单价 → 核损 损单 单价 → 0 and 2.
    assert sparse_grams(["核损", "损单", "单价"]) == [(0, "核损"), (2, "单价")]


def test_an_index_without_the_gap_layout_is_searched_with_every_bigram(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import index.tantivy_backend as tb

    docs = [_doc(1, text="每次。事故。"), _doc(2, text="每次事故。")]
    # An index built before the gaps existed: runs follow each other with no empty position.
    with_gaps = tb._bigrams
    with monkeypatch.context() as m:
        m.setattr(tb, "_bigrams", lambda text: with_gaps(text).replace(f" {tb.GAP}", ""))
        m.setattr(tb.TantivyBackend, "_mark_layout", lambda self: None)
        TantivyBackend(tmp_path / "ix").rebuild(docs)
    legacy = TantivyBackend(tmp_path / "ix")
    assert legacy.count() == 2 and legacy.sparse is False
    # Why the marker matters: there 每次@0 事故@2 also matches 每次。事故 (次 then 事故 follow 每次).
    s = legacy._searcher()
    wrong = s.search(tb.to_tantivy(legacy.schema, parse_query("每次事故"), sparse=True), limit=10)
    assert wrong.count == 2
    assert _ids(legacy, "每次事故") == ["2024/GC-2/R-2"]
    # A rebuild writes the gaps and the marker; then the sparse phrase is exact.
    legacy.rebuild(docs)
    assert legacy.sparse and (tmp_path / "ix" / LAYOUT_FILE).is_file()
    assert _ids(legacy, "每次事故") == ["2024/GC-2/R-2"]
    reopened = TantivyBackend(tmp_path / "ix")
    assert reopened.count() == 2 and reopened.sparse


def test_substring_inside_a_word_found_through_bigrams(
    backend: TantivyBackend, example_doc: IndexDocument  # noqa: F811
) -> None:
    # 坡坍 straddles the jieba words 边坡 | 坍塌: only the bigram field can find it; one character too.
    assert _ids(backend, "坡坍") == [example_doc.doc_id]
    assert "2024/GC-5/R-5" in _ids(backend, "孔")
    # A phrase keeps its order: 坍塌边坡 does not occur.
    assert _ids(backend, '"坍塌边坡"') == []


def test_readers_are_not_blocked_by_a_writer(tmp_path: Path) -> None:
    b = TantivyBackend(tmp_path / "ix")
    b.add(_doc(1))
    writer = b._index().writer(heap_size=15_000_000, num_threads=1)  # holds tantivy's write lock
    try:
        assert _ids(b, "涌水") == ["2024/GC-1/R-1"]
    finally:
        writer.rollback()
        writer.wait_merging_threads()


def test_gongu_toml_selects_the_engine(tmp_path: Path) -> None:
    from gongu.output import GonguError
    from gongu.pipeline.indexing import open_index
    from index.whoosh_backend import WhooshBackend

    # issue 16 §1: a new home searches with tantivy; Whoosh and PostgreSQL are chosen in gongu.toml.
    default = open_index(Settings(home=tmp_path))
    assert isinstance(default, TantivyBackend) and default.index_dir == tmp_path / "index" / "tantivy"
    whoosh = open_index(Settings(home=tmp_path, toml=parse_config('[index]\nbackend = "whoosh"\n')))
    assert isinstance(whoosh, WhooshBackend)
    with pytest.raises(GonguError, match=r"\[store\] url"):
        open_index(Settings(home=tmp_path, toml=parse_config('[index]\nbackend = "postgresql"\n')))
    chosen = open_index(Settings(home=tmp_path, toml=parse_config('[index]\nbackend = "tantivy"\n')))
    assert isinstance(chosen, TantivyBackend) and chosen.index_dir == tmp_path / "index" / "tantivy"
    with pytest.raises(GonguError, match="index.backend") as refused:
        parse_config('[index]\nbackend = "lucene"\n')
    assert "whoosh" in str(refused.value) and "lucene" in str(refused.value)


def test_archive_listener_and_cli_follow_the_tantivy_engine(
    prepared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """End to end with gongu.toml choosing tantivy: `gongu index rebuild` from the packages, `gongu
    search`, then a hold placed through the archive reaches the tantivy index via the listener."""
    from typer.testing import CliRunner

    from archive.holds import place_hold
    from gongu.cli.app import app
    from gongu.pipeline.archiving import build_archive
    from gongu.pipeline.indexing import open_index
    from gongu.settings import load_settings

    home = tmp_path / "home"
    shutil.copytree(prepared, home)
    with open(home / "gongu.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[index]\nbackend = "tantivy"\n')
    monkeypatch.setenv("GONGU_HOME", str(home))
    monkeypatch.setenv("GONGU_FIRM_KEY_PASSPHRASE", "gongu-demo")
    runner = CliRunner()

    def search(*args: str) -> dict:
        result = runner.invoke(app, ["search", *args, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    assert isinstance(open_index(load_settings(home)), TantivyBackend)
    result = runner.invoke(app, ["index", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "索引已重建：2" in result.output
    found = search("边坡坍塌")
    assert sorted(h["doc_id"] for h in found["hits"]) == REPORTS
    assert any("<mark>边坡坍塌</mark>" in s for h in found["hits"] for s in h["snippets"])
    with build_archive(load_settings(home)) as archive:
        place_hold(archive, CASE, kind="litigation", reason="保险合同纠纷诉讼", reference="(2026)川01民初1号", by="法务甲")
        assert archive.listener_failures == []
    assert sorted(h["doc_id"] for h in search("状态:保全中")["hits"]) == REPORTS
    assert search("边坡坍塌", "--status", "archived")["total"] == 0


def test_a_home_with_a_whoosh_index_keeps_whoosh_until_rebuild_and_says_so(
    prepared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """issue 16 §1: tantivy is the default for new homes; a home whose index Whoosh built keeps
    Whoosh (told on every search) until `gongu index rebuild`, which builds tantivy and removes
    the Whoosh files."""
    from typer.testing import CliRunner

    from gongu.cli.app import app
    from gongu.pipeline.indexing import index_engine, open_index
    from gongu.settings import load_settings
    from index.maintenance import archive_documents
    from index.whoosh_backend import WhooshBackend

    home = tmp_path / "home"
    shutil.copytree(prepared, home)
    monkeypatch.setenv("GONGU_HOME", str(home))
    # An index made before the default changed: Whoosh files in GONGU_HOME/index, nothing else.
    for path in (home / "index").glob("*") if (home / "index").exists() else ():
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    WhooshBackend(home / "index").rebuild(archive_documents(home / "archive" / "packages"))
    settings = load_settings(home)
    assert index_engine(settings).engine == "whoosh" and index_engine(settings).reason == "existing"
    assert isinstance(open_index(settings), WhooshBackend)
    runner = CliRunner()
    found = runner.invoke(app, ["search", "边坡坍塌", "--json"])
    assert found.exit_code == 0, found.output
    said = found.output.replace("\n", "")
    assert "由 Whoosh 建立，继续使用 Whoosh" in said and "gongu index rebuild 改用 tantivy" in said
    rebuilt = runner.invoke(app, ["index", "rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "索引已重建：2" in rebuilt.output and "由 whoosh 改为默认的 tantivy" in rebuilt.output.replace("\n", "")
    assert not any((home / "index").glob("*MAIN*")), "the replaced Whoosh index is gone"
    assert index_engine(load_settings(home)).engine == "tantivy"
    after = runner.invoke(app, ["search", "边坡坍塌", "--json"])
    assert after.exit_code == 0 and "Whoosh" not in after.output
    assert sorted(h["doc_id"] for h in json.loads(after.output)["hits"]) == REPORTS
