"""Presenting amounts: round half-up to the fen, thousands separators, Chinese uppercase (大写).

Hand-written because no maintained library on PyPI formats 大写金额 to the PBOC rules
(中国人民银行《正确填写票据和结算凭证的基本规定》): one 零 for a run of zeros, 整 after 元,
no 整 after 分. Engine results keep full precision; only these functions round.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")
_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ("仟", "佰", "拾", "")
_SECTIONS = ("", "万", "亿", "万亿")


def to_fen(value: Decimal) -> Decimal:
    """Round half-up to 0.01 — the only rounding an amount ever gets, at presentation."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def format_amount(value: Decimal) -> str:
    """1234567.891 → '1,234,567.89'"""
    return f"{to_fen(value):,.2f}"


def format_ratio(value: Decimal, places: int = 2) -> str:
    """0.8 → '80.00%' (half-up)."""
    pct = (value * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{pct}%"


def _four_digits(n: int) -> str:
    """0 < n < 10000 → e.g. 1001 → 壹仟零壹, 1010 → 壹仟零壹拾."""
    out = ""
    zero = False
    for unit, digit in zip(_UNITS, f"{n:04d}", strict=True):
        d = int(digit)
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[d] + unit
    return out


def _integer_uppercase(n: int) -> str:
    if n == 0:
        return ""
    groups: list[int] = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    if len(groups) > len(_SECTIONS):
        raise ValueError("amount too large for Chinese uppercase")
    out = ""
    pending_zero = False
    for idx in range(len(groups) - 1, -1, -1):
        g = groups[idx]
        if g == 0:
            pending_zero = bool(out)
            continue
        if out and (pending_zero or g < 1000):
            out += "零"
        out += _four_digits(g) + _SECTIONS[idx]
        pending_zero = False
    return out


def chinese_uppercase(value: Decimal) -> str:
    """Decimal → 大写金额 without the 人民币 prefix: 10.50 → 壹拾元伍角, 0 → 零元整."""
    fen_total = int(to_fen(abs(value)) * 100)
    sign = "负" if value < 0 and fen_total else ""
    yuan, rest = divmod(fen_total, 100)
    jiao, fen = divmod(rest, 10)
    head = _integer_uppercase(yuan)
    if yuan == 0 and rest == 0:
        return "零元整"
    out = head + "元" if yuan else ""
    if rest == 0:
        return sign + out + "整"
    if jiao:
        out += _DIGITS[jiao] + "角"
    if fen:
        if yuan and not jiao:
            out += "零"
        out += _DIGITS[fen] + "分"
    return sign + out


def rmb_uppercase(value: Decimal) -> str:
    """'人民币壹拾元伍角' — as a report states a final amount."""
    return "人民币" + chinese_uppercase(value)
