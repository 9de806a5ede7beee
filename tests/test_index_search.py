"""The Whoosh backend: field queries, ranges, status, pagination, sorting, highlighting, tombstones,
concurrent writers and unblocked readers."""

from __future__ import annotations

import json
import multiprocessing as mp
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from generator.loading import load_case
from index.extract import IndexDocument, case_text, document_from_case
from index.query import parse_query
from index.whoosh_backend import WhooshBackend

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "slope-collapse" / "case.json"


def _doc(n: int, **kw: object) -> IndexDocument:
    base = IndexDocument(
        doc_id=f"2024/GC-{n}/R-{n}",
        case_id=f"GC-{n}",
        report_number=f"R-{n}",
        kind="car_survey",
        case_name=f"测试案件{n}",
        insurer="中国平安财产保险股份有限公司昆明分公司",
        insured="云南交投建设有限公司",
        project="昆明绕城高速公路第三标段",
        province="云南省",
        city="昆明市",
        loss_date=date(2024, 1, n),
        report_date=date(2024, 3, n),
        claimed_fen=100_000 * n,
        adjusted_fen=50_000 * n,
        handlers=("李明", "周红"),
        package_path=f"/archive/2024/GC-{n}/R-{n}",
        text=f"本次公估涉及隧道涌水，掌子面突发涌水涌砂。损失项目{n}：初期支护受损。",
    )
    return replace(base, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def example_doc() -> IndexDocument:
    loaded = load_case(EXAMPLE)
    return document_from_case(loaded.case, doc_id="2025/SAGC-2025-0712/SA-GC-20250905-017",
                              text=case_text(json.loads(loaded.raw)), package_path="/archive/example")


def sample_docs(example_doc: IndexDocument) -> list[IndexDocument]:
    """The small archive every engine's behavioural tests search (test_index_tantivy, test_index_postgres)."""
    return [
        example_doc,
        _doc(1),
        _doc(2, status="held"),
        _doc(3, insurer="中国太平洋财产保险股份有限公司贵阳分公司", province="贵州省", city="贵阳市",
             loss_date=date(2023, 6, 30), text="山洪冲毁钢板桩围堰，施救费用经核定为合理必要。"),
        _doc(4, loss_date=date(2022, 12, 31), text="每次事故免赔额为人民币1万元，<script>alert(1)</script>。"),
        _doc(5, text="钻孔灌注桩施工中发生塌孔，桩基础损失按推定全损处理。"),
    ]


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory, example_doc: IndexDocument) -> WhooshBackend:
    b = WhooshBackend(tmp_path_factory.mktemp("ix"))
    b.rebuild(sample_docs(example_doc))
    return b


def _ids(backend: WhooshBackend, text: str, **kw: object) -> list[str]:
    q = parse_query(text, page_size=100, **kw)  # type: ignore[arg-type]
    return [h.doc_id for h in backend.search(q).hits]


def test_example_document_fields_come_from_the_case(example_doc: IndexDocument) -> None:
    assert example_doc.case_id == "SAGC-2025-0712"
    assert example_doc.province == "四川省" and example_doc.loss_date == date(2025, 7, 11)
    # The example claims 1,168,000.00 yuan: 116,800,000 fen, an int, exact.
    assert example_doc.claimed_fen == 116_800_000 and isinstance(example_doc.claimed_fen, int)


def test_field_queries_in_chinese(backend: WhooshBackend, example_doc: IndexDocument) -> None:
    assert _ids(backend, "被保险人:雅康") == [example_doc.doc_id]
    assert sorted(_ids(backend, "保险人:太平洋")) == ["2024/GC-3/R-3"]
    # 保险人:雅康 must not match through 被保险人 (the insured is 雅康, the insurer 人保).
    assert _ids(backend, "保险人:雅康") == []
    assert sorted(_ids(backend, "省份:云南 城市:昆明")) == [f"2024/GC-{n}/R-{n}" for n in (1, 2, 4, 5)]
    assert _ids(backend, "案件编号:SAGC-2025") == [example_doc.doc_id]
    assert _ids(backend, "报告编号:SA-GC-20250905-017") == [example_doc.doc_id]
    assert _ids(backend, "项目:康定高速公路") == [example_doc.doc_id]
    assert _ids(backend, "insured:雅康") == [example_doc.doc_id]


def test_free_text_and_phrase(backend: WhooshBackend, example_doc: IndexDocument) -> None:
    assert _ids(backend, '"边坡坍塌"') == [example_doc.doc_id]
    assert _ids(backend, "塌孔 桩基础") == ["2024/GC-5/R-5"]
    assert sorted(_ids(backend, "塌孔 OR 围堰")) == ["2024/GC-3/R-3", "2024/GC-5/R-5"]
    assert "2024/GC-5/R-5" not in _ids(backend, "涌水 -塌孔")


@pytest.fixture
def new_backend() -> type:
    return WhooshBackend


def test_free_text_is_a_substring_across_separators(new_backend: type, tmp_path: Path) -> None:
    b = new_backend(tmp_path / "ix")
    b.rebuild([
        _doc(1, text="合同约定：每次事故免赔额为1万元。"),
        _doc(2, text="每次事故，免赔额另行约定。"),  # a comma inside
        _doc(3, text="每次。事故免赔额未约定。"),  # a full stop right after the first two characters
    ])
    one, two, three = (f"2024/GC-{n}/R-{n}" for n in (1, 2, 3))
    # Free text is a substring of the text: the separators in 2 and 3 break it, whatever the words.
    assert _ids(b, "每次事故免赔额") == [one]
    assert sorted(_ids(b, "每次事故")) == [one, two]
    assert sorted(_ids(b, "事故免赔额")) == [one, three]
    # A typed phrase with a space means these words in this order; separators may fall between them.
    assert sorted(_ids(b, '"每次事故 免赔额"')) == [one, two, three]


def test_date_range(backend: WhooshBackend) -> None:
    # Inclusive at both ends: 2022-12-31 and 2023-06-30 are the edges.
    assert sorted(_ids(backend, "出险日期:2022-12-31..2023-06-30")) == ["2024/GC-3/R-3", "2024/GC-4/R-4"]
    assert sorted(_ids(backend, "出险日期:2023")) == ["2024/GC-3/R-3"]
    assert _ids(backend, "出险日期:2022-01..2022-11") == []


def test_amount_range_in_fen(backend: WhooshBackend) -> None:
    # adjusted = 500.00 yuan × n: 1,000.00..1,500.00 yuan covers n = 2 and 3 exactly.
    assert sorted(_ids(backend, "理算金额:1000..1500")) == ["2024/GC-2/R-2", "2024/GC-3/R-3"]
    assert sorted(_ids(backend, "理算金额:1000.01..1500")) == ["2024/GC-3/R-3"]


def test_status_filter(backend: WhooshBackend) -> None:
    assert _ids(backend, "状态:保全中") == ["2024/GC-2/R-2"]
    assert len(_ids(backend, "状态:archived")) == 5


def test_pagination_and_date_sort(backend: WhooshBackend) -> None:
    everything = _ids(backend, "", sort="date")
    assert len(everything) == 6
    pages = [backend.search(parse_query("", sort="date", page=p, page_size=4)) for p in (1, 2, 3)]
    assert [len(p.hits) for p in pages] == [4, 2, 0]
    assert pages[0].total == 6 and pages[0].pages == 2
    assert [h.doc_id for p in pages for h in p.hits] == everything
    # Newest loss first: the 2025 example, then 2024-01-05 … 2024-01-01 (n = 5, 2, 1), 2023, 2022.
    dates = [h.fields["loss_date"] for p in pages for h in p.hits]
    assert dates == sorted(dates, reverse=True)
    assert dates[0] == "2025-07-11" and dates[-1] == "2022-12-31"


def test_highlight_marks_the_whole_term(backend: WhooshBackend) -> None:
    (hit,) = backend.search(parse_query("边坡坍塌")).hits
    joined = " ".join(hit.snippets)
    assert "<mark>边坡坍塌</mark>" in joined
    assert "<mark>边坡</mark>" not in joined and "<mark>坍塌</mark>" not in joined
    # A query for a piece of the term (matched through bigrams) still marks the whole term.
    (hit,) = backend.search(parse_query("坡坍")).hits
    assert "<mark>边坡坍塌</mark>" in " ".join(hit.snippets)


def test_snippets_escape_case_text(backend: WhooshBackend) -> None:
    (hit,) = backend.search(parse_query("免赔额 案件编号:GC-4")).hits
    joined = " ".join(hit.snippets)
    assert "<mark>免赔额</mark>" in joined
    assert "<script>" not in joined and "&lt;script&gt;" in joined


def test_disposal_keeps_a_findable_tombstone(new_backend: type, tmp_path: Path) -> None:
    b = new_backend(tmp_path / "ix")
    doc = _doc(7, text="本案独有的文字：钢栈桥被洪水冲毁。")
    b.add(doc)
    assert _ids(b, "钢栈桥") == [doc.doc_id]
    b.update(doc.tombstone())
    assert _ids(b, "钢栈桥") == [], "the text leaves the index"
    assert _ids(b, "状态:已销毁") == [doc.doc_id]
    (hit,) = b.search(parse_query("GC-7")).hits
    assert hit.fields["status"] == "disposed" and hit.snippets == ()
    stored = b.get(doc.doc_id)
    assert stored is not None and stored.text == "" and stored.case_id == "GC-7"
    assert b.count() == 1 and b.doc_ids_for_case("GC-7") == [doc.doc_id]
    b.delete(doc.doc_id)
    assert b.count() == 0 and b.get(doc.doc_id) is None


def _write_many(backend: type, index_dir: str, worker: int, n: int) -> None:
    b = backend(Path(index_dir))
    for i in range(n):
        b.add(_doc(1, doc_id=f"w{worker}/{i}", case_id=f"W{worker}-{i}", text=f"并发写入第{worker}号进程第{i}件"))


def test_concurrent_writers_from_several_processes_never_fail(new_backend: type, tmp_path: Path) -> None:
    # Whoosh and tantivy allow one writer each (tantivy's lock fails at once): writers wait their turn.
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_write_many, args=(new_backend, str(tmp_path / "ix"), w, 5)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(180)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    b = new_backend(tmp_path / "ix")
    assert b.count() == 20
    assert _ids(b, "第3号进程第4件") == ["w3/4"]


def test_readers_are_not_blocked_by_a_writer(tmp_path: Path) -> None:
    b = WhooshBackend(tmp_path / "ix")
    b.add(_doc(1))
    writer = b._index().writer()  # holds the write lock
    try:
        assert _ids(b, "涌水") == ["2024/GC-1/R-1"]
    finally:
        writer.cancel()


@pytest.fixture(scope="module")
def corpus_backend(tmp_path_factory: pytest.TempPathFactory) -> tuple[WhooshBackend, list[IndexDocument]]:
    from bench.corpus import report

    docs = [report(11, i) for i in range(120)]
    b = WhooshBackend(tmp_path_factory.mktemp("corpus"))
    b.rebuild(docs)
    return b, docs


@pytest.mark.parametrize("text", ["免赔额 暴雨", "锚杆框架梁 开裂", "推定全损 OR 涌水", '"核损单价" 挡土墙'])
def test_total_counts_every_match_not_only_the_top_page(
    corpus_backend: tuple[WhooshBackend, list[IndexDocument]], text: str
) -> None:
    # Whoosh's top-N collector prunes union branches that cannot reach page 1; the total must still
    # count every matching report. Ground truth: a substring scan of the same texts.
    backend, docs = corpus_backend
    q = parse_query(text, page_size=5)
    groups = [[m.text for m in g] for g in q.groups]
    expected = sum(1 for d in docs if all(any(t in d.text for t in g) for g in groups))
    result = backend.search(q)
    assert result.total == expected
    assert expected > 5, "the query must match more than one page for the check to mean anything"
