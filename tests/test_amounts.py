"""Presenting amounts: half-up rounding to the fen, thousands separators, Chinese uppercase (大写).

Uppercase values follow 中国人民银行《正确填写票据和结算凭证的基本规定》: one 零 for a run of zeros
between digits, 整 after 元 when there are no 角/分, 零 before 分 when 角 is zero.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from generator.amounts import chinese_uppercase, format_amount, format_ratio, rmb_uppercase, to_fen


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # the known values
        ("0.05", "伍分"),
        ("10", "壹拾元整"),
        ("10.50", "壹拾元伍角"),
        ("1000001.01", "壹佰万零壹元零壹分"),
        ("100000000", "壹亿元整"),
        ("0", "零元整"),
        ("1234567.89", "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分"),
        # internal zeros
        ("1010", "壹仟零壹拾元整"),
        ("100010001", "壹亿零壹万零壹元整"),
        ("10.05", "壹拾元零伍分"),
        ("60070", "陆万零柒拾元整"),
        ("20000300", "贰仟万零叁佰元整"),
        ("100000100", "壹亿零壹佰元整"),
        ("6007000", "陆佰万柒仟元整"),
        ("105000", "壹拾万伍仟元整"),
        ("10000.01", "壹万元零壹分"),
        ("100.10", "壹佰元壹角"),
        ("0.50", "伍角"),
        ("1000000000000", "壹万亿元整"),
        ("630711.15", "陆拾叁万零柒佰壹拾壹元壹角伍分"),
    ],
)
def test_chinese_uppercase_known_values(value: str, expected: str) -> None:
    assert chinese_uppercase(D(value)) == expected


def test_uppercase_rounds_half_up_to_the_fen() -> None:
    assert chinese_uppercase(D("0.005")) == "壹分"
    assert chinese_uppercase(D("0.0049")) == "零元整"
    assert chinese_uppercase(D("9.995")) == "壹拾元整"


def test_rmb_prefix() -> None:
    assert rmb_uppercase(D("10")) == "人民币壹拾元整"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.005", "0.01"), ("0.0049", "0.00"), ("2.675", "2.68"), ("1.005", "1.01"), ("1.004999", "1.00"),
     ("2756426.666666666666666666666666666666666666666666667", "2756426.67")],
)
def test_to_fen_half_up(value: str, expected: str) -> None:
    # 2.675 and 1.005 are the classic cases float rounding gets wrong (2.67, 1.0).
    assert to_fen(D(value)) == D(expected)
    assert str(to_fen(D(value))) == expected


def test_format_amount_thousands_and_fen() -> None:
    assert format_amount(D("1234567.891")) == "1,234,567.89"
    assert format_amount(D("0")) == "0.00"
    assert format_amount(D("999.995")) == "1,000.00"
    assert format_amount(D("100000000")) == "100,000,000.00"


def test_format_ratio_percent_half_up() -> None:
    assert format_ratio(D("48000000") / D("52000000")) == "92.31%"
    assert format_ratio(D("1")) == "100.00%"
    assert format_ratio(D("0.8")) == "80.00%"
    assert format_ratio(D("0.123450")) == "12.35%"
