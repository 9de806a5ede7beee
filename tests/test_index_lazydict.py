"""The memory-mapped dictionary segments exactly like jieba's fully loaded one."""

from __future__ import annotations

import dataclasses
import json
import threading
from pathlib import Path

import pytest

from bench import corpus
from index import analysis
from index.lazydict import MappedFreq, write_dict

ROOT = Path(__file__).resolve().parent.parent


def _strings(obj: object) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return []


def _texts() -> list[str]:
    texts: list[str] = []
    for p in sorted((ROOT / "examples").rglob("*.json")):
        texts += [s for s in _strings(json.loads(p.read_text(encoding="utf-8"))) if s.strip()]
    for i in range(300):
        doc = corpus.report(7, i, target_bytes=3000)
        texts += [v for v in dataclasses.asdict(doc).values() if isinstance(v, str) and v]
    texts += analysis.domain_terms()
    texts += [
        "", " ", "，。！", "12.5万元", "ABC-123型号", "GB50007-2011第3.0.2条", "ｆｕｌｌｗｉｄｔｈ１２３",
        "边坡坍塌边坡坍塌", "㐀㐁中文扩展", "a", "中", "2026年12月8日14时30分", "桩基础沉降量约35mm",
        "Ω≈μ℃", "\n\t换行\r\n", "房屋开裂😀表情", "e-mail: test@example.com 损失",
    ]
    return texts


@pytest.fixture(scope="module")
def lazy_and_full(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, object]:
    import jieba

    full = analysis.segmenter()
    path = tmp_path_factory.mktemp("dict") / "d.dict"
    write_dict(path, full.FREQ, full.total)
    lazy = jieba.Tokenizer()
    lazy.FREQ = MappedFreq(path)
    lazy.total = lazy.FREQ.total
    lazy.initialized = True
    return full, lazy


def test_same_tokens_on_thousands_of_texts(lazy_and_full: tuple) -> None:
    full, lazy = lazy_and_full
    texts = _texts()
    assert len(texts) > 2000
    for t in texts:
        a = list(full.tokenize(t, mode="default", HMM=True))
        b = list(lazy.tokenize(t, mode="default", HMM=True))
        assert a == b, t


def test_mapping_answers_like_the_dict(lazy_and_full: tuple) -> None:
    full, lazy = lazy_and_full
    assert len(lazy.FREQ) == len(full.FREQ)
    assert lazy.total == full.total
    # 边坡坍 is a prefix of the domain word 边坡坍塌: present with frequency 0, which jieba relies on.
    assert "边坡坍" in lazy.FREQ and lazy.FREQ["边坡坍"] == 0
    assert lazy.FREQ.get("不存在的词语组合") is None and "不存在的词语组合" not in lazy.FREQ
    assert lazy.FREQ["边坡坍塌"] == full.FREQ["边坡坍塌"] > 0
    assert lazy.FREQ.get(3) is None


def test_word_spans_short_and_long_agree(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Short texts go through the lazy tokenizer, long ones through the full one: same words."""
    monkeypatch.setenv("GONGU_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(analysis, "_lazy_segmenter", None)
    fields = dataclasses.asdict(corpus.report(3, 1, target_bytes=2000)).values()
    text = "。".join(v for v in fields if isinstance(v, str))[: analysis.LAZY_MAX_CHARS]
    assert len(text) > 500
    short = analysis.lazy_segmenter().tokenize(text, mode="default", HMM=True)
    assert list(short) == list(analysis.segmenter().tokenize(text, mode="default", HMM=True))
    assert list(tmp_path.glob("jieba-*.dict")), "the cache file is built in the cache dir"


def test_threads_share_one_lazy_segmenter(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GONGU_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(analysis, "_lazy_segmenter", None)
    got: list[object] = []
    ts = [threading.Thread(target=lambda: got.append(analysis.lazy_segmenter())) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(got) == 4 and all(g is got[0] for g in got)
    assert [w for w, _, _ in got[0].tokenize("边坡坍塌")] == ["边坡坍塌"]


def test_unwritable_cache_dir_falls_back_to_full(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("GONGU_CACHE_DIR", str(blocker / "sub"))  # a path under a file: mkdir fails
    monkeypatch.setattr(analysis, "_lazy_segmenter", None)
    assert analysis.lazy_segmenter() is analysis.segmenter()
    monkeypatch.setattr(analysis, "_lazy_segmenter", None)
