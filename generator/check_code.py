"""Check codes of issued documents: 20 characters of Crockford base32 (100 random bits) printed on every
page of an issued document with a QR code of `<[web] public_url>/v/<code>`, so anyone holding a copy
can ask the firm whether it is the document issued and whether it is still current.

A code is drawn from the operating system's random source, never derived from the case (a code made
from a report number and date could be guessed, and the public page would tell a stranger that a
report exists). Crockford base32 is written out here: twelve lines, and the few maintained packages
that do it decode to integers, not to the 100-bit strings with hyphens that people type back.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
CODE_CHARS = 20  # 100 bits, 5 bits a character
CODE_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{20}$"
_CODE = re.compile(CODE_PATTERN)
_TYPED = str.maketrans({"I": "1", "L": "1", "O": "0"})  # Crockford decoding: what people misread


def new_check_code() -> str:
    """A fresh code: 100 bits from `secrets`, as 20 Crockford characters."""
    value = secrets.randbits(5 * CODE_CHARS)
    return "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(CODE_CHARS)))


def normalize_check_code(text: str) -> str | None:
    """A code as typed or scanned (any case, hyphens or spaces between groups, I/L for 1, O for 0) in its
    canonical 20-character form; None when it cannot be a code (wrong length or alphabet)."""
    if len(text) > 40:
        return None
    code = re.sub(r"[\s-]", "", text).upper().translate(_TYPED)
    return code if _CODE.fullmatch(code) else None


def grouped(code: str) -> str:
    """The printed form, groups of four: ABCD-EFGH-JKMN-PQRS-TVWX."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def check_url(public_url: str, code: str) -> str:
    """The URL in the QR code: the public check page of this code."""
    return f"{public_url.rstrip('/')}/v/{code}"
