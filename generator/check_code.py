"""Check codes of issued documents: 20 characters of Crockford base32 (100 random bits) printed on every
page of an issued document with a QR code of `<[web] public_url>/v/<code>`, so anyone holding a copy
can ask the firm whether it is the document issued and whether it is still current.

A code is drawn from the operating system's random source, never derived from the case (a code made
from a report number and date could be guessed, and the public page would tell a stranger that a
report exists). Crockford base32 is written out here: twelve lines, and the few maintained packages
that do it decode to integers, not to the 100-bit strings with hyphens that people type back.
"""

from __future__ import annotations

import io
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
CODE_CHARS = 20  # 100 bits, 5 bits a character
CODE_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{20}$"
_CODE = re.compile(CODE_PATTERN)
_TYPED = str.maketrans({"I": "1", "L": "1", "O": "0"})  # Crockford decoding: what people misread
LABEL = "校验码"
# The printed line 「校验码：ABCD-EFGH-JKMN-PQRS-TVWX」 as text extraction gives it back (spaces or line ends may
# fall between the groups; the colon may come out half-width).
_PRINTED = re.compile(LABEL + r"\s*[:：]\s*([0-9A-Z]{4}(?:\s*-\s*[0-9A-Z]{4}){4})")


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


def printed(code: str) -> str:
    """The line printed on the documents: 校验码：ABCD-EFGH-JKMN-PQRS-TVWX."""
    return f"{LABEL}：{grouped(code)}"


@dataclass(frozen=True)
class DocumentCodes:
    """The check codes to print on the documents of one issuance (document key → code: "report" for a survey,
    "opinion", "commission" … for a forensic case) and the public address their QR codes point at."""

    public_url: str
    codes: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        bad = [k for k, c in self.codes.items() if not _CODE.fullmatch(c)]
        if bad:  # printed into HTML, CSS and DOCX: only the code alphabet may get there
            raise ValueError(f"not a check code for {', '.join(bad)}")

    def code(self, key: str) -> str | None:
        return self.codes.get(key)


def qr_svg(text: str) -> str:
    """The QR code of `text` as an inline SVG element (segno, error correction M, 2-module quiet zone): drawn by
    WeasyPrint from the page itself, nothing fetched."""
    import segno

    return segno.make(text, error="m", micro=False, boost_error=False).svg_inline(scale=1, border=2, omitsize=True)


def qr_png(text: str, *, scale: int = 8) -> bytes:
    """The same QR code as a PNG (for the Word copy): `scale` pixels a module, 4-module quiet zone."""
    import segno

    out = io.BytesIO()
    segno.make(text, error="m", micro=False, boost_error=False).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def code_in_text(text: str) -> str | None:
    """The first printed check code in extracted text, normalized; None when there is none."""
    found = _PRINTED.search(text)
    return normalize_check_code(found.group(1)) if found else None


def code_in_pdf(data: bytes) -> str | None:
    """The check code printed on a PDF (its first page's text, where the cover and the footer carry it),
    normalized; None when the first page carries none or the file cannot be read as a PDF."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if not reader.pages:
            return None
        text = reader.pages[0].extract_text() or ""
    except (PdfReadError, ValueError, KeyError, TypeError, OSError):
        return None
    return code_in_text(text)
