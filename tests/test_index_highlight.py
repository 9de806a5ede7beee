"""Snippets (index/highlight.py): whole terms marked, fragments chosen and ordered, text escaped."""

from __future__ import annotations

import re

from index.highlight import mark_to_rich, snippets

FILLER = "本段为与检索词无关的叙述文字，" * 8  # 120 characters with no needle in them


def _plain(snippet: str) -> str:
    return re.sub(r"</?mark>", "", snippet)


def test_a_piece_of_a_word_marks_the_whole_word() -> None:
    # jieba segments 路基 / 边坡坍塌 / 严重 (边坡坍塌 is in the domain dictionary); the query 坡坍 lies inside it.
    (snip,) = snippets("本次事故路基边坡坍塌严重。", ["坡坍"])
    assert "<mark>边坡坍塌</mark>" in snip and "<mark>坡坍</mark>" not in snip


def test_fragments_showing_more_needles_win_and_keep_document_order() -> None:
    text = FILLER + "仅涉及暴雨。" + FILLER + "暴雨导致边坡坍塌。" + FILLER + "边坡坍塌又一次。" + FILLER
    out = snippets(text, ["暴雨", "坍塌"], top=2)
    # Three fragments, 120+ characters apart: the middle one shows both needles (rank 1); of the two
    # with one needle each, the earlier (暴雨 alone) wins the tie. Shown in document order.
    assert len(out) == 2
    assert "仅涉及<mark>暴雨</mark>" in out[0]
    assert "<mark>暴雨</mark>导致<mark>边坡坍塌</mark>" in out[1]
    assert all("又一次" not in s for s in out)


def test_context_is_at_most_surround_characters_either_side() -> None:
    text = "甲" * 50 + "免赔额" + "乙" * 50
    (snip,) = snippets(text, ["免赔额"], surround=10)
    assert _plain(snip) == "甲" * 10 + "免赔额" + "乙" * 10


def test_case_text_is_escaped_and_matching_ignores_case() -> None:
    (snip,) = snippets("保单号PCAB2024<script>x</script>免赔额", ["pcab", "免赔额"])
    assert "<mark>PCAB2024</mark>" in snip or "<mark>PCAB</mark>" in snip
    assert "<script>" not in snip and "&lt;script&gt;" in snip
    assert "<mark>免赔额</mark>" in snip


def test_no_occurrence_no_snippet() -> None:
    assert snippets("本次公估涉及隧道涌水。", ["桩基础"]) == []
    assert snippets("", ["桩基础"]) == []


def test_mark_to_rich_unescapes_and_highlights() -> None:
    assert mark_to_rich("a &lt;b&gt; <mark>免赔额</mark> [x]") == "a <b> [bold black on yellow]免赔额[/] \\[x]"
