"""Check codes: 20 Crockford characters, random, read back as people type them."""

from __future__ import annotations

from generator.check_code import ALPHABET, check_url, grouped, new_check_code, normalize_check_code


def test_codes_are_twenty_crockford_characters_and_do_not_repeat() -> None:
    codes = {new_check_code() for _ in range(2000)}
    assert len(codes) == 2000  # 100 bits: a repeat in 2,000 draws would mean a broken source
    for code in codes:
        assert len(code) == 20 and set(code) <= set(ALPHABET)
        assert not set(code) & set("ILOU")
    # every character position varies (no fixed prefix or check digit hiding a short secret)
    for i in range(20):
        assert len({c[i] for c in codes}) > 20


def test_typed_forms_normalize_and_bad_ones_are_refused() -> None:
    code = "0123456789ABCDEFGHJK"
    assert grouped(code) == "0123-4567-89AB-CDEF-GHJK"
    assert normalize_check_code("0123-4567-89ab-cdef-ghjk") == code
    assert normalize_check_code("O123 4567 89AB CDEF GHJK") == code  # O read as 0
    assert normalize_check_code("0I23456789ABCDEFGHJK") == code  # I read as 1
    assert normalize_check_code("0123456789ABCDEFGHJ") is None  # 19 characters
    assert normalize_check_code("0123456789ABCDEFGHJKM") is None  # 21
    assert normalize_check_code("0123456789ABCDEFGHJU") is None  # U is not in the alphabet
    assert normalize_check_code("../../etc/passwd") is None
    assert normalize_check_code("A" * 1000) is None


def test_url_joins_without_double_slash() -> None:
    assert check_url("http://127.0.0.1:8000/", "0123456789ABCDEFGHJK") == "http://127.0.0.1:8000/v/0123456789ABCDEFGHJK"
    assert check_url("https://gongu.example.cn", "X" * 20) == "https://gongu.example.cn/v/" + "X" * 20
