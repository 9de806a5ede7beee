"""The search language: free text, phrases, Chinese field names, OR / NOT, date and amount ranges."""

from __future__ import annotations

from datetime import date

import pytest

from index.query import MAX_QUERY_CHARS, Match, QueryError, Range, parse_query


def test_free_text_terms_are_all_required() -> None:
    q = parse_query("边坡坍塌 暴雨")
    assert q.groups == ((Match("边坡坍塌"),), (Match("暴雨"),))
    assert q.terms == ["边坡坍塌", "暴雨"]


def test_quoted_phrase_keeps_its_spaces_and_is_marked_phrase() -> None:
    q = parse_query('"锚杆框架梁 破坏" 截水沟')
    assert q.groups[0] == (Match("锚杆框架梁 破坏", phrase=True),)
    # Chinese quotation marks work too.
    assert parse_query("“边坡坍塌”").groups == ((Match("边坡坍塌", phrase=True),),)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("被保险人:四川雅康", "insured"),
        ("保险人:人保", "insurer"),  # not confused with 被保险人
        ("案件编号:SAGC-2025", "case_id"),
        ("报告编号:SA-GC", "report_number"),
        ("项目:雅康高速", "project"),
        ("省份:四川", "province"),
        ("城市:雅安", "city"),
        ("insured:四川", "insured"),
        ("Insurer:人保", "insurer"),
        ("投保人：四川", "policyholder"),  # full-width colon
    ],
)
def test_field_names_in_chinese_and_english(text: str, field: str) -> None:
    (group,) = parse_query(text).groups
    assert group[0].field == field


def test_status_and_kind_values_accept_chinese() -> None:
    q = parse_query("状态:已销毁 类型:建筑工程一切险")
    assert q.groups == ((Match("disposed", "status"),), (Match("car_survey", "kind"),))
    assert parse_query("status:held").groups[0][0].text == "held"
    with pytest.raises(QueryError, match="状态"):
        parse_query("状态:丢失")


def test_or_and_exclusion() -> None:
    q = parse_query("暴雨 OR 山洪 -设计错误 涌水")
    assert q.groups == ((Match("暴雨"), Match("山洪")), (Match("涌水"),))
    assert q.excluded == (Match("设计错误"),)


def test_date_ranges_cover_whole_years_and_months() -> None:
    q = parse_query("出险日期:2025-07..2025")
    assert q.ranges == (Range("loss_date", date(2025, 7, 1), date(2025, 12, 31)),)
    # February of a leap year ends on the 29th.
    assert parse_query("日期:2024-02").ranges == (Range("loss_date", date(2024, 2, 1), date(2024, 2, 29)),)
    assert parse_query("报告日期:..2025-09-05").ranges == (Range("report_date", None, date(2025, 9, 5)),)
    with pytest.raises(QueryError, match="起点晚于终点"):
        parse_query("出险日期:2025..2024")
    with pytest.raises(QueryError, match="不是有效日期"):
        parse_query("出险日期:2025-02-30")


def test_amounts_are_exact_fen() -> None:
    # 6,310,711.15 yuan = 631,071,115 fen; 1.5万 = 15,000 yuan = 1,500,000 fen.
    assert parse_query("理算金额:1.5万..6310711.15").ranges == (Range("adjusted_fen", 1_500_000, 631_071_115),)
    with pytest.raises(QueryError, match="两位"):
        parse_query("索赔金额:0.001..")


def test_amount_range_reversed_is_refused() -> None:
    with pytest.raises(QueryError, match="起点晚于终点"):
        parse_query("理算金额:100..99.99")


def test_unknown_field_lists_the_known_ones() -> None:
    with pytest.raises(QueryError, match="未知字段 '颜色'.*被保险人"):
        parse_query("颜色:红")


def test_unbalanced_quote_and_dangling_or_are_errors() -> None:
    with pytest.raises(QueryError, match="引号"):
        parse_query('"边坡坍塌')
    with pytest.raises(QueryError, match="OR"):
        parse_query("暴雨 OR")
    with pytest.raises(QueryError, match="页码"):
        parse_query("暴雨", page=0)


# ─────────── issue 12 item 13: hostile queries are bounded before any engine sees them ───────────


def test_query_length_is_bounded() -> None:
    assert parse_query("边" * MAX_QUERY_CHARS).groups == ((Match("边" * MAX_QUERY_CHARS),),)
    with pytest.raises(QueryError, match="查询过长：1,001 个字符"):
        parse_query("边" * (MAX_QUERY_CHARS + 1))
    with pytest.raises(QueryError, match="查询过长"):
        parse_query(" ".join(["暴雨"] * 5000))  # the query that blew Whoosh's recursion limit


def test_number_of_terms_is_bounded() -> None:
    # 50 terms: 48 words, one exclusion and one range; a 51st word is one too many.
    text = " ".join(f"词{i}" for i in range(48)) + " -设计错误 出险日期:2025"
    q = parse_query(text)
    assert len(q.groups) == 48 and len(q.excluded) == 1 and len(q.ranges) == 1
    with pytest.raises(QueryError, match="查询词过多：51 个，最多 50 个"):
        parse_query(text + " 词48")
    with pytest.raises(QueryError, match="查询词过多"):
        parse_query(" OR ".join(f"词{i}" for i in range(51)))  # alternatives count one by one


def test_result_window_is_bounded() -> None:
    assert parse_query("暴雨", page=1000, page_size=10).page == 1000  # 10,000th result: the last one allowed
    with pytest.raises(QueryError, match="前 10,000 条"):
        parse_query("暴雨", page=1001, page_size=10)
    with pytest.raises(QueryError, match="第 1,000,000,000,000 页"):
        parse_query("暴雨", page=10**12)  # the page that made tantivy abort allocating 160 TB


def test_amount_syntax_and_range_are_validated() -> None:
    for bad in ("1e400", "1E5", "NaN", "Infinity", "0x10", "1.2.3", "--5"):
        with pytest.raises(QueryError, match="不是金额"):
            parse_query(f"理算金额:{bad}..")
    # 10^15 yuan is the largest amount; one fen more is out of range (10^15 yuan = 10^17 fen < 2^63).
    assert parse_query("理算金额:1000000000000000").ranges[0].high == 10**17
    with pytest.raises(QueryError, match="超出范围"):
        parse_query("理算金额:1000000000000000.01..")
    with pytest.raises(QueryError, match="超出范围"):
        parse_query("理算金额:100000000001万")  # 10^15 + 10^4 yuan


def test_date_ranges_need_one_end_and_a_year_the_engines_store() -> None:
    with pytest.raises(QueryError, match="至少要有一端"):
        parse_query("出险日期:..")
    for bad in ("0001", "9999", "1899-12-31", "2200"):
        with pytest.raises(QueryError, match="1900–2199"):
            parse_query(f"出险日期:{bad}")
    assert parse_query("出险日期:1900..2199").ranges == (Range("loss_date", date(1900, 1, 1), date(2199, 12, 31)),)
