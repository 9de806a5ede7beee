"""Characters that make a text display differently from what it stores.

Bidirectional controls (U+202A–U+202E embeddings and overrides, U+2066–U+2069 isolates, U+200E/U+200F
marks, U+061C Arabic letter mark) reorder what a reader sees: `photo‮gpj.exe` shows as `photoexe.jpg`.
A file name carrying one is refused when the case is validated; in free text they are flagged by the
review (generator/rules/text_safety.py) and shown in the report as a visible code, never obeyed.
C0/C1 control characters (other than tab and line feed) cannot be stored in a Word file at all and
show nothing in a PDF; the report shows them the same way.
"""

from __future__ import annotations

import re

BIDI_CONTROLS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)] + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u200e", "\u200f", "\u061c"]
)
# Zero-width space / non-joiner / joiner, word joiner, BOM: invisible, yet they make two names differ.
ZERO_WIDTH = frozenset(["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"])
_INVISIBLE = re.compile("[" + "".join(sorted(BIDI_CONTROLS | ZERO_WIDTH)) + "]")
_BIDI = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")
# Controls a report must not carry invisibly: C0 except \t \n, DEL, C1, and the bidi controls.
_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f" + "".join(sorted(BIDI_CONTROLS)) + "]")


def bidi_controls_in(text: str) -> list[str]:
    """The bidi controls in `text`, as 'U+202E' codes in order of appearance (empty when none)."""
    return [f"U+{ord(ch):04X}" for ch in _BIDI.findall(text)]


def invisible_controls_in(text: str) -> list[str]:
    """The bidi and zero-width controls in `text`, as 'U+200B' codes in order of appearance."""
    return [f"U+{ord(ch):04X}" for ch in _INVISIBLE.findall(text)]


def neutralise(text: str) -> str:
    """`text` with each hidden control replaced by a visible code, e.g. '〔U+202E〕'; other text unchanged."""
    if not _HIDDEN.search(text):
        return text
    return _HIDDEN.sub(lambda m: f"〔U+{ord(m.group()):04X}〕", text)


# A spreadsheet cell whose text starts with one of these is taken for a formula by Excel, LibreOffice or
# WPS when a CSV is opened (`=HYPERLINK(…)`, `+cmd|…`, `-2+3`, `@SUM(…)`; tab and CR hide the start).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: str) -> str:
    """`value` as a CSV cell that stays text: one leading apostrophe when it would start a formula (the
    OWASP "CSV injection" advice; Excel hides the apostrophe, and it is only added where needed)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value
