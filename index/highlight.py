"""Snippets with the searched Chinese terms marked whole.

Whoosh's highlighter marks the tokens its analyzer yields; with jieba tokens a query that matched
through bigrams (say 坡坍 inside 边坡坍塌) would mark nothing, and per-token marks split a term into
<mark>边坡</mark><mark>坍塌</mark>. Here the "analyzer" given to `whoosh.highlight.highlight` yields one
matched token per occurrence of the searched text, widened to the jieba word boundaries around it
(so the whole term is marked), plus plain per-character tokens for the context Whoosh's
ContextFragmenter cuts the snippet from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from html import escape

from whoosh.analysis import Token
from whoosh.highlight import ContextFragmenter, Formatter, get_text, highlight

from index.analysis import word_spans

_MATCH = "\x00match"  # the one "term" every matched token carries
_SENTENCE_END = re.compile(r"[。！？；\n]")


class MarkFormatter(Formatter):
    """HTML-escaped text with `<mark>` around matched terms; fragments joined with an ellipsis."""

    between = " … "

    def _text(self, text: str) -> str:
        return escape(text, quote=False)

    def format_token(self, text: str, token: Token, replace: bool = False) -> str:
        return f"<mark>{escape(get_text(text, token, replace), quote=False)}</mark>"


def match_spans(text: str, needles: Iterable[str], *, limit: int = 8) -> list[tuple[int, int]]:
    """Where the needles occur (case-insensitive), widened to whole jieba words, merged.

    Only `limit` occurrences are kept — the first of each needle, then the rest in document order:
    a result shows three short fragments, and widening segments text, which for a term occurring
    fifty times in a report would cost more than the search itself."""
    folded = text.lower() if len(text.lower()) == len(text) else text
    firsts: list[tuple[int, int]] = []
    rest: list[tuple[int, int]] = []
    pieces = {p.lower() for n in needles for p in n.split() if p}
    for needle in sorted(pieces):
        start = folded.find(needle)
        first = True
        while start != -1 and len(rest) < 4 * limit:
            (firsts if first else rest).append((start, start + len(needle)))
            first = False
            start = folded.find(needle, start + 1)
    rest.sort()
    raw = sorted((firsts + rest)[:limit])
    spans: list[tuple[int, int]] = []
    for s, e in raw:
        s, e = _widen(text, s, e)
        if spans and s <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], e))
        else:
            spans.append((s, e))
    return spans


def _widen(text: str, start: int, end: int) -> tuple[int, int]:
    """Grow [start, end) to the boundaries of the jieba words it touches, segmenting only the
    sentence around it (segmenting a whole 10 KB report per hit would cost more than the search)."""
    lo = max(0, start - 40)
    hi = min(len(text), end + 40)
    before = [m.end() for m in _SENTENCE_END.finditer(text, lo, start)]
    lo = before[-1] if before else lo
    after = _SENTENCE_END.search(text, end, hi)
    hi = after.start() if after else hi
    for word, ws, we in word_spans(text[lo:hi]):
        ws, we = ws + lo, we + lo
        if ws < end and we > start and len(word) <= 12:
            start, end = min(start, ws), max(end, we)
    return start, end


class _SpanTokens:
    """A Whoosh-analyzer-shaped callable yielding matched spans and their surrounding characters."""

    def __init__(self, spans: list[tuple[int, int]], surround: int) -> None:
        self.spans = spans
        self.surround = surround

    def __call__(self, text: str, **kwargs: object) -> Iterator[Token]:
        pos = 0
        for k, (s, e) in enumerate(self.spans):
            for i in range(max(pos, s - self.surround), s):
                yield _token(text[i], i, i + 1, matched=False)
            yield _token(_MATCH, s, e, matched=True)
            pos = e
            next_start = self.spans[k + 1][0] if k + 1 < len(self.spans) else len(text)
            for i in range(e, min(next_start, e + self.surround)):
                yield _token(text[i], i, i + 1, matched=False)
                pos = i + 1


def _token(text: str, start: int, end: int, *, matched: bool) -> Token:
    t = Token(chars=True)
    t.text, t.startchar, t.endchar, t.matched = text, start, end, matched
    return t


def snippets(text: str, needles: Iterable[str], *, top: int = 3, surround: int = 30, maxchars: int = 160) -> list[str]:
    """Up to `top` HTML snippets of `text`, in document order, with every needle marked whole."""
    spans = match_spans(text, needles)
    if not spans:
        return []
    fragmenter = ContextFragmenter(maxchars=maxchars, surround=surround, charlimit=None)
    html = highlight(text, [_MATCH], _SpanTokens(spans, surround), fragmenter, MarkFormatter(), top=top)
    # Runs of spaces (table cells, line ends) say nothing in a one-line snippet.
    return [re.sub(r"\s+", " ", part).strip() for part in html.split(MarkFormatter.between) if part.strip()]


def mark_to_rich(snippet: str) -> str:
    """`<mark>` HTML (escaped) → rich console markup."""
    from html import unescape

    from rich.markup import escape as rich_escape

    out = []
    for i, piece in enumerate(re.split(r"</?mark>", snippet)):
        piece = rich_escape(unescape(piece))
        out.append(f"[bold black on yellow]{piece}[/]" if i % 2 else piece)
    return "".join(out)
