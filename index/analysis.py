"""Chinese text analysis for the index: jieba words with a domain dictionary, plus character bigrams.

Why not the stock `jieba.analyse.ChineseAnalyzer`:
(a) it sets each token's *position* to its character offset, so a phrase query ("边坡坍塌" → 边坡, 坍塌)
    looks for the second word at position +1 while the index holds it at +2: phrases find nothing;
(b) it segments with jieba's general dictionary only, and even with a domain dictionary a query and a
    document can be segmented differently (the words around a term change the segmentation), so some
    documents containing the query text are missed.

Here the words are numbered 0, 1, 2 … and keep start/end character offsets (for highlighting); the
bigrams are overlapping character bigrams of every run of letters, digits and CJK characters, so any
substring of two or more such characters is found by a bigram phrase, whatever jieba does with it.

This module is engine-neutral: it turns text into plain (token, start, end) spans. Each engine wraps
them in its own way (index/whoosh_backend.py: Whoosh tokenizers; index/tantivy_backend.py: tokens
joined by spaces) and this module imports neither engine.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import forms

if TYPE_CHECKING:
    import jieba

DOMAIN_DICT = Path(forms.__file__).parent / "dict" / "domain.txt"

# Word characters: CJK ideographs (basic + extension A + compatibility), Latin letters and digits.
# Everything else (punctuation, spaces, full-width symbols) separates runs and is never a token.
WORD_RUN = re.compile(r"[0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]+")

_lock = threading.Lock()
_segmenter: jieba.Tokenizer | None = None
_lazy_segmenter: jieba.Tokenizer | None = None

# Texts longer than this load the whole dictionary (fastest per lookup); shorter ones (queries, a
# document's small fields) use the memory-mapped one (no 0.45 s load). Both segment identically.
LAZY_MAX_CHARS = 2000


def _import_jieba() -> None:
    """Import jieba without pkg_resources: jieba only uses it to open its own data files and falls
    back to open() when it is missing, and importing pkg_resources costs ~0.08 s."""
    import sys

    if "jieba" in sys.modules:
        return
    blocked = "pkg_resources" not in sys.modules
    if blocked:
        sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # makes `import` raise ImportError
    try:
        import jieba

        jieba.setLogLevel(logging.WARNING)  # jieba prints "Building prefix dict…" at INFO
    finally:
        if blocked:
            del sys.modules["pkg_resources"]


def segmenter() -> jieba.Tokenizer:
    """The process-wide jieba tokenizer with the domain dictionary, loaded once (lazily, thread-safe).

    A private `jieba.Tokenizer` rather than the global one, so loading our dictionary never changes
    how other code in the process segments text."""
    if _segmenter is None:
        with _lock:
            return _full_unlocked()
    return _segmenter


def lazy_segmenter() -> jieba.Tokenizer:
    """A jieba tokenizer over the memory-mapped dictionary (index/lazydict.py), same words as
    `segmenter()`; the file is built from `segmenter()` once per dictionary version and cached."""
    global _lazy_segmenter
    if _lazy_segmenter is None:
        with _lock:
            if _lazy_segmenter is None:
                from index.lazydict import mapped_freq

                _import_jieba()
                import jieba

                try:
                    freq = mapped_freq(DOMAIN_DICT, _full_unlocked)
                except OSError:  # no writable cache dir: the full dictionary segments the same
                    _lazy_segmenter = _full_unlocked()
                    return _lazy_segmenter
                seg = jieba.Tokenizer()
                seg.FREQ = freq  # type: ignore[assignment]
                seg.total = freq.total
                seg.initialized = True
                _lazy_segmenter = seg
    return _lazy_segmenter


def _full_unlocked() -> jieba.Tokenizer:
    # Called with _lock held (from lazy_segmenter): load the full tokenizer without re-locking.
    global _segmenter
    if _segmenter is None:
        _import_jieba()
        import jieba

        seg = jieba.Tokenizer()
        seg.initialize()
        seg.load_userdict(str(DOMAIN_DICT))
        _segmenter = seg
    return _segmenter


def _segmenter_for(text: str) -> jieba.Tokenizer:
    if _segmenter is not None or len(text) > LAZY_MAX_CHARS:
        return segmenter()
    return lazy_segmenter()


def domain_terms() -> list[str]:
    """The words of the shipped domain dictionary (jieba userdict format: word [freq] [tag])."""
    words = []
    for line in DOMAIN_DICT.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.append(line.split()[0])
    return words


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """jieba words of `text` as (word, startchar, endchar), separators dropped."""
    out = []
    for word, start, end in _segmenter_for(text).tokenize(text, mode="default", HMM=True):
        if WORD_RUN.fullmatch(word) is None:
            # A token with a separator inside (rare: jieba keeps "a-b" style runs) is split on runs.
            for m in WORD_RUN.finditer(word):
                out.append((m.group(), start + m.start(), start + m.end()))
            continue
        out.append((word, start, end))
    return out


def bigram_spans(text: str, *, trailing_unigram: bool) -> list[tuple[str, int, int]]:
    """Overlapping character bigrams of each run of word characters.

    With `trailing_unigram` (index time) each run also yields its last character alone, so every
    character of the text starts some token and a one-character query is a prefix query ("塌*").
    Query-time analysis leaves it out, or a phrase would demand a run end after the query text."""
    out: list[tuple[str, int, int]] = []
    for m in WORD_RUN.finditer(text):
        s, e = m.start(), m.end()
        if e - s == 1:
            out.append((text[s], s, e))
            continue
        for i in range(s, e - 1):
            out.append((text[i : i + 2], i, i + 2))
        if trailing_unigram:
            out.append((text[e - 1], e - 1, e))
    return out


def query_words(text: str) -> list[str]:
    """What the word field holds for `text`, in order (lowercased)."""
    return [w.lower() for w, _, _ in word_spans(text)]


def query_bigrams(text: str) -> list[list[str]]:
    """Bigrams of `text` grouped by run (query side: no trailing unigram)."""
    runs = []
    for m in WORD_RUN.finditer(text):
        run = m.group().lower()
        runs.append([run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)])
    return runs
