"""How a person's name is compared: typed names are the only identity until the web
workspace brings accounts, so `Alice` must be `alice` and `b\u200bob` must be `bob` — otherwise one person
approves their own proposal, or holds two review levels, by spelling their name twice."""

from __future__ import annotations

import unicodedata


def person_key(name: str) -> str:
    """NFKC, case-folded, Unicode format characters (category Cf: U+200B, U+200D, U+FEFF, bidi
    controls …) removed, outer white space stripped."""
    text = unicodedata.normalize("NFKC", name)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return unicodedata.normalize("NFKC", text.casefold()).strip()


def same_person(a: str, b: str) -> bool:
    return person_key(a) == person_key(b)
