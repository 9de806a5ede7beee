"""Snippets with the searched Chinese terms marked whole.

Whoosh's highlighter marks the tokens its analyzer yields; with jieba tokens a query that matched
through bigrams (say 坡坍 inside 边坡坍塌) would mark nothing, and per-token marks split a term into
<mark>边坡</mark><mark>坍塌</mark>. Here each occurrence of the searched text is found with `str.find`,
the best fragments are chosen, and only the occurrences shown are widened to the jieba word boundaries
around them (so the whole term is marked).

Written by hand rather than with `whoosh.highlight`: that needs a token stream over the context of every
match (a Python object per character here), which cost ~1.5 ms per hit — half of a 100,000-report query's
budget (docs/search.md). Choosing fragments from a handful of spans is a few lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from html import escape

from index.analysis import WORD_RUN, word_spans

_SPACES = re.compile(r"\s+")
_MAX_OCCURRENCES = 64  # per needle: enough to find the densest fragments of a 10 KB report
# Characters either side segmented to widen a match: the domain terms are at most 8 characters and
# jieba's own dictionary has few longer words.
_WIDEN_REACH = 8
_MAX_TERM = 12  # a "word" longer than this (a run jieba could not split) is not marked whole


def _occurrences(text: str, needles: Iterable[str]) -> list[tuple[int, int, str]]:
    """(start, end, needle) of every occurrence (case-insensitive), in document order."""
    folded = text.lower()
    if len(folded) != len(text):  # a rare character whose lower case has another length
        folded = text
    found: list[tuple[int, int, str]] = []
    for needle in sorted({p.lower() for n in needles for p in n.split() if p}):
        start = folded.find(needle)
        count = 0
        while start != -1 and count < _MAX_OCCURRENCES:
            found.append((start, start + len(needle), needle))
            count += 1
            start = folded.find(needle, start + 1)
    found.sort()
    return found


def _fragments(spans: list[tuple[int, int, str]], maxchars: int, surround: int) -> list[list[tuple[int, int, str]]]:
    """Greedy runs of spans that fit one fragment: each starts at a span not yet covered and takes the
    following spans while the marked stretch plus its context stays within `maxchars`."""
    out: list[list[tuple[int, int, str]]] = []
    i = 0
    while i < len(spans):
        group = [spans[i]]
        j = i + 1
        while j < len(spans) and spans[j][1] - spans[i][0] + 2 * surround <= maxchars:
            group.append(spans[j])
            j += 1
        out.append(group)
        i = j
    return out


def _widen(text: str, start: int, end: int) -> tuple[int, int]:
    """Grow [start, end) to the boundaries of the jieba words it touches. Only the run of word
    characters around the match is segmented (words never cross a separator), clipped to
    `_WIDEN_REACH` on each side: segmenting a whole 10 KB report per hit would cost more than the search."""
    lo, hi = max(0, start - _WIDEN_REACH), min(len(text), end + _WIDEN_REACH)
    run_lo, run_hi = start, end
    while run_lo > lo and WORD_RUN.match(text, run_lo - 1, run_lo):
        run_lo -= 1
    while run_hi < hi and WORD_RUN.match(text, run_hi, run_hi + 1):
        run_hi += 1
    for ws, we in _window_words(text[run_lo:run_hi]):
        ws, we = ws + run_lo, we + run_lo
        if ws < end and we > start and we - ws <= _MAX_TERM:
            start, end = min(start, ws), max(end, we)
    return start, end


@lru_cache(maxsize=4096)
def _window_words(window: str) -> tuple[tuple[int, int], ...]:
    """jieba word boundaries of a short window. Cached: report templates repeat the same sentences
    across the hits of one query (the bench clears the cache before each query it times)."""
    return tuple((ws, we) for _, ws, we in word_spans(window))


def clear_cache() -> None:
    _window_words.cache_clear()


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _render(text: str, lo: int, hi: int, marks: list[tuple[int, int]]) -> str:
    parts, pos = [], lo
    for s, e in marks:
        parts.append(escape(text[pos:s], quote=False))
        parts.append(f"<mark>{escape(text[s:e], quote=False)}</mark>")
        pos = e
    parts.append(escape(text[pos:hi], quote=False))
    # Runs of spaces (table cells, line ends) say nothing in a one-line snippet.
    return _SPACES.sub(" ", "".join(parts)).strip()


def snippets(text: str, needles: Iterable[str], *, top: int = 3, surround: int = 30, maxchars: int = 160) -> list[str]:
    """Up to `top` HTML snippets of `text`, in document order, with every needle marked whole.

    Fragments are ranked by how many different needles they show, then how many occurrences, then
    earliest first; each shows up to `surround` characters of context either side."""
    spans = _occurrences(text, needles)
    if not spans:
        return []
    groups = _fragments(spans, maxchars, surround)
    ranked = sorted(range(len(groups)), key=lambda k: (-len({n for _, _, n in groups[k]}), -len(groups[k]), k))
    out = []
    for k in sorted(ranked[:top]):
        marks = _merge([_widen(text, s, e) for s, e, _ in groups[k]])
        lo = max(0, marks[0][0] - surround)
        hi = min(len(text), marks[-1][1] + surround)
        out.append(_render(text, lo, hi, marks))
    return [s for s in out if s]


def mark_to_rich(snippet: str) -> str:
    """`<mark>` HTML (escaped) → rich console markup."""
    from html import unescape

    from rich.markup import escape as rich_escape

    out = []
    for i, piece in enumerate(re.split(r"</?mark>", snippet)):
        piece = rich_escape(unescape(piece))
        out.append(f"[bold black on yellow]{piece}[/]" if i % 2 else piece)
    return "".join(out)
