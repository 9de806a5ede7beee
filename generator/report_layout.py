"""Layout decisions shared by the PDF and DOCX renderers: what never breaks, and how wide a column is.

A reviewer reads a wrapped amount as another figure (`3,208,900.0` / `0`), so amounts, dates and
identifiers are kept whole: every run of printable ASCII up to `MAX_TOKEN` characters
(amounts, ratios, policy and report numbers, item codes) and every written date is a *protected token*.
A table's columns are then sized so each protected token fits: a column narrower than its widest
token takes width from the text columns (CJK text breaks between any two characters); when the tokens
do not fit at the normal size the table is set smaller. Free text keeps breaking anywhere, and a
hostile run longer than MAX_TOKEN is not protected, so nothing can force a line wider than the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

MAX_TOKEN = 30  # characters; the longest amount (999,999,999,999.99) is 18, a policy number ~25
PROTECTED = re.compile(
    r"\d{4}年\d{1,2}月\d{1,2}日(?: \d{1,2}:\d{2})?"  # a written date, with its time
    rf"|(?<![!-~])[!-~]{{2,{MAX_TOKEN}}}(?![!-~])"  # a run of printable ASCII: amount, ratio, identifier
)
# A run this long with no break opportunity (no space, no CJK character) gets invisible break points
# (U+200B) every BREAK_EVERY characters: WeasyPrint re-measures an unbreakable run for every line it
# cuts from it, so a 200,000-character run otherwise takes minutes; with break points it takes a moment.
_UNBREAKABLE_RUN = re.compile(rf"[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]{{{MAX_TOKEN + 1},}}")
BREAK_EVERY = 16
ZWSP = "\u200b"
TEXT_WIDTH_PT = 174 / 25.4 * 72  # A4 less 18 mm margins each side (forms/styles/report.css @page)
CELL_PADDING_PT = 3 + 3 + 0.5 + 2  # td padding both sides, border, and a margin for font metrics
TABLE_SIZES_PT = (8.5, 7.5, 6.5)  # table.grid's size, then the smaller sizes a crowded table may take


def protected_tokens(text: str) -> list[str]:
    return [m.group() for m in PROTECTED.finditer(text)]


def _char_em(ch: str) -> float:
    """Advance width in em of the report's serif face (Noto Serif CJK SC), rounded up for safety."""
    if ch.isdigit():
        return 0.58
    if "A" <= ch <= "Z":
        return 0.74
    if "a" <= ch <= "z":
        return 0.56
    if ch in ",.:;'|!`":
        return 0.3
    if ch == " ":
        return 0.3
    if ch < "\x80":
        return 0.62
    return 1.0


def text_em(text: str) -> float:
    return sum(_char_em(ch) for ch in text)


def min_em(text: str) -> float:
    """The narrowest a cell holding `text` can be, in em: its widest protected token (or one CJK char)."""
    return max((text_em(t) for t in protected_tokens(text)), default=1.0)


def breakable(text: str) -> str:
    """`text` with a U+200B break opportunity every BREAK_EVERY characters of any over-long unbreakable run."""
    def chunk(m: re.Match[str]) -> str:
        run = m.group()
        return ZWSP.join(run[i:i + BREAK_EVERY] for i in range(0, len(run), BREAK_EVERY))

    return _UNBREAKABLE_RUN.sub(chunk, text)


def nobreak_html(text: object) -> Markup:
    """`text` escaped for HTML, each protected token in `<span class="nb">` (white-space: nowrap), and
    over-long unbreakable runs given break points (`breakable`)."""
    raw = str(text)
    out: list[str] = []
    last = 0
    for m in PROTECTED.finditer(raw):
        out.append(escape(breakable(raw[last:m.start()])))
        out.append(Markup('<span class="nb">') + escape(m.group()) + Markup("</span>"))
        last = m.end()
    out.append(escape(breakable(raw[last:])))
    return Markup("").join(out)


def keep_tail(text: str, chars: int = 4) -> tuple[str, str]:
    """A title split so its last words stay together: no lone 「告」 on the cover's last line."""
    if len(text) <= chars * 2:
        return "", text
    return text[:-chars], text[-chars:]


@dataclass(frozen=True)
class ColumnFit:
    widths: list[float]  # fractions of the table width, summing to 1
    size_pt: float  # font size of the table's cells
    fits: bool  # False: even the smallest size cannot hold every token; they may then break


def _columns(rows: Sequence[Sequence[str]], ncols: int) -> Iterator[list[str]]:
    for col in range(ncols):
        yield [row[col] for row in rows if len(row) == ncols]


def fit_columns(rows: Sequence[Sequence[str]], weights: Sequence[float], total_pt: float = TEXT_WIDTH_PT) -> ColumnFit:
    """Column widths from the relative `weights`, widened where a protected token would not fit, taking
    the width from the columns that have room (in proportion to it); the smaller sizes when needed."""
    ncols = len(weights)
    col_em = [max((min_em(cell) for cell in col), default=1.0) for col in _columns(rows, ncols)]
    for size in TABLE_SIZES_PT:
        mins = [em * size + CELL_PADDING_PT for em in col_em]
        if sum(mins) <= total_pt:
            break
    else:
        return ColumnFit([w / sum(weights) for w in weights], TABLE_SIZES_PT[-1], fits=False)
    widths = [total_pt * w / sum(weights) for w in weights]
    deficit = sum(max(0.0, m - w) for m, w in zip(mins, widths, strict=True))
    if deficit:
        widths = [max(w, m) for m, w in zip(mins, widths, strict=True)]
        slack = [w - m for m, w in zip(mins, widths, strict=True)]
        room = sum(slack)
        widths = [w - deficit * s / room for w, s in zip(widths, slack, strict=True)]
    return ColumnFit([w / total_pt for w in widths], size, fits=True)
