"""Chinese analysis: the two defects of the stock jieba ChineseAnalyzer, and how ours fixes them."""

from __future__ import annotations

import jieba
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jieba.analyse import ChineseAnalyzer
from whoosh import query as wq
from whoosh.fields import ID, TEXT, Schema
from whoosh.filedb.filestore import RamStorage

from index.analysis import bigram_spans, domain_terms, query_words, segmenter, word_spans
from index.query import parse_query
from index.whoosh_backend import bigram_analyzer, build_schema, to_whoosh, word_analyzer

TEXT_1 = "2025年7月11日，K42右侧路堑边坡受大暴雨影响发生边坡坍塌，锚杆框架梁及截水沟受损，每次事故免赔额为人民币5万元。"


def _ram_index(schema: Schema, docs: dict[str, str]):  # noqa: ANN202 — a whoosh index
    ix = RamStorage().create_index(schema)
    w = ix.writer()
    for doc_id, text in docs.items():
        fields = {"body": text, "body_bg": text} if "body_bg" in schema else {"body": text}
        w.add_document(doc_id=doc_id, **fields)
    w.commit()
    return ix


def test_domain_dictionary_ships_the_terms_of_the_issue_and_150_more() -> None:
    terms = domain_terms()
    required = {"免赔额", "边坡坍塌", "桩基础", "涌水", "推定全损", "施救费用", "应保金额", "投保比例", "塌孔", "隧道塌方",
                "锚杆框架梁", "浆砌片石", "截水沟", "保险金额", "残值", "理算", "公估", "保险竞合", "重复保险", "被保险人"}
    assert required <= set(terms)
    assert len(set(terms)) >= len(required) + 150
    assert len(terms) == len(set(terms)), "no duplicate entries"


def test_domain_terms_are_single_tokens() -> None:
    # The whole point of the dictionary: each term survives segmentation as one word.
    for term in ("免赔额", "边坡坍塌", "推定全损", "施救费用", "应保金额", "投保比例", "锚杆框架梁"):
        assert query_words(term) == [term]


def test_word_positions_are_consecutive_and_offsets_point_at_the_word() -> None:
    tokens = [(t.text, t.pos, t.startchar, t.endchar) for t in word_analyzer()(TEXT_1, positions=True, chars=True)]
    assert [pos for _, pos, _, _ in tokens] == list(range(len(tokens)))
    for text, _, start, end in tokens:
        assert TEXT_1[start:end].lower() == text
    assert ("边坡坍塌", TEXT_1.index("边坡坍塌"), TEXT_1.index("边坡坍塌") + 4) in {(t, s, e) for t, _, s, e in tokens}
    # Separators (，。) are never tokens.
    assert not any(t in "，。" for t, *_ in tokens)


def test_bigram_positions_are_consecutive_and_cover_every_adjacent_pair() -> None:
    tokens = [(t.text, t.pos, t.startchar, t.endchar) for t in bigram_analyzer()("边坡坍塌，K42", positions=True, chars=True)]
    assert [t[1] for t in tokens] == list(range(len(tokens)))
    # 边坡 坡坍 坍塌 + trailing 塌, then k4 42 + trailing 2 — nothing across the comma.
    assert [t[0] for t in tokens] == ["边坡", "坡坍", "坍塌", "塌", "k4", "42", "2"]
    assert tokens[1][2:] == (1, 3)


def test_query_side_bigrams_leave_out_the_trailing_unigram() -> None:
    assert [g for g, _, _ in bigram_spans("坍塌", trailing_unigram=False)] == ["坍塌"]


def test_stock_analyzer_positions_are_char_offsets_so_its_phrases_find_nothing() -> None:
    # Defect (a): jieba.analyse.ChineseAnalyzer sets token.pos to the character offset.
    stock = ChineseAnalyzer()
    positions = [t.pos for t in stock("边坡坍塌", positions=True)]
    words = [t.text for t in stock("边坡坍塌", positions=True)]
    assert words == ["边坡", "坍塌"], "jieba's own dictionary splits the term into two words"
    assert positions == [0, 2]  # character offsets, not 0, 1

    text = "路堑发生边坡坍塌，造成锚杆框架梁受损。"
    stock_ix = _ram_index(Schema(doc_id=ID(stored=True), body=TEXT(analyzer=stock, phrase=True)), {"d1": text})
    with stock_ix.searcher() as s:
        assert len(s.search(wq.Phrase("body", ["边坡", "坍塌"]))) == 0, "stock analyzer: phrase misses"
        assert len(s.search(wq.And([wq.Term("body", "边坡"), wq.Term("body", "坍塌")]))) == 1

    ours = _ram_index(build_schema(), {"d1": text})
    with ours.searcher() as s:
        assert [h["doc_id"] for h in s.search(to_whoosh(parse_query('"边坡坍塌"')))] == ["d1"]
        # Our word tokenizer with consecutive positions makes a genuine two-word phrase work too.
        assert [h["doc_id"] for h in s.search(wq.Phrase("body", ["发生", "边坡坍塌"]))] == ["d1"]


def test_stock_analyzer_without_domain_dictionary_misses_the_deductible() -> None:
    # Defect (b): jieba's general dictionary has no 免赔额; it yields 免 / 赔额, so a term query misses.
    jieba.setLogLevel(60)
    stock = ChineseAnalyzer()
    text = "每次事故免赔额为人民币5000元。"
    assert "免赔额" not in {t.text for t in stock(text)}
    stock_ix = _ram_index(Schema(doc_id=ID(stored=True), body=TEXT(analyzer=stock, phrase=True)), {"d1": text})
    with stock_ix.searcher() as s:
        assert len(s.search(wq.Term("body", "免赔额"))) == 0
    ours = _ram_index(build_schema(), {"d1": text})
    with ours.searcher() as s:
        assert len(s.search(wq.Term("body", "免赔额"))) == 1
        assert len(s.search(to_whoosh(parse_query("免赔额")))) == 1


def test_context_changes_segmentation_and_the_bigram_field_still_finds_it() -> None:
    # Even with the domain dictionary, a substring is segmented differently in context:
    # 路堑边坡 and 边坡坍塌 are both dictionary words, and in 路堑边坡坍塌 jieba can only keep one.
    doc = "现场查勘发现路堑边坡坍塌约三百立方米。"
    doc_words = [w for w, _, _ in word_spans(doc)]
    assert "边坡坍塌" not in doc_words or "路堑边坡" not in doc_words
    missing_word = "边坡坍塌" if "边坡坍塌" not in doc_words else "路堑边坡"
    ix = _ram_index(build_schema(), {"d1": doc})
    with ix.searcher() as s:
        assert len(s.search(wq.Term("body", missing_word))) == 0, "the word field alone misses"
        assert [h["doc_id"] for h in s.search(to_whoosh(parse_query(missing_word)))] == ["d1"]


def test_segmenter_is_loaded_once_per_process() -> None:
    assert segmenter() is segmenter()


# Text drawn from CAR vocabulary plus single characters, so jieba meets both dictionary words
# and odd runs; hypothesis then picks any 2–4 character substring inside a run of word characters.
_VOCAB = ["边坡", "坍塌", "边坡坍塌", "免赔额", "锚杆框架梁", "截水沟", "浆砌片石", "涌水", "桩基础", "推定全损", "施救费用",
          "被保险人", "保险人", "应保金额", "投保比例", "理算", "残值", "路堑", "暴雨", "的", "了", "受", "发生", "K42", "3号"]
_PIECE = st.one_of(st.sampled_from(_VOCAB), st.text(alphabet="坍塌边坡额免赔金保险人水沟锚杆梁", min_size=1, max_size=3))
_DOC = st.lists(st.one_of(_PIECE, st.sampled_from(["，", "。"])), min_size=3, max_size=30).map("".join)


@pytest.fixture(scope="module")
def schema() -> Schema:
    return build_schema()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=_DOC, data=st.data())
def test_any_substring_of_two_to_four_characters_is_found(schema: Schema, doc: str, data: st.DataObject) -> None:
    runs = [r for r in doc.replace("。", "，").split("，") if len(r) >= 2]
    if not runs:
        return
    run = data.draw(st.sampled_from(runs))
    length = data.draw(st.integers(min_value=2, max_value=min(4, len(run))))
    start = data.draw(st.integers(min_value=0, max_value=len(run) - length))
    needle = run[start : start + length]
    ix = _ram_index(schema, {"hit": doc, "other": "与本案无关的文字"})
    with ix.searcher() as s:
        found = {h["doc_id"] for h in s.search(to_whoosh(parse_query(needle)), limit=None)}
        assert "hit" in found, (needle, doc, [w for w, _, _ in word_spans(doc)])
        # And the phrase form too.
        found = {h["doc_id"] for h in s.search(to_whoosh(parse_query(f'"{needle}"')), limit=None)}
        assert "hit" in found
