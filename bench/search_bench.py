"""Search bench: indexing time against jieba-only tokenisation, query latency, recall.

    .venv/bin/python -m bench.search_bench 20000 [--procs 2] [--seed 7] [--stock-sample 2000]
        [--backend whoosh|tantivy|postgresql|both|tantivy,postgresql] [--pg-url postgresql://…]

Figures printed, measured side by side in one run on the same synthetic corpus (bench/corpus.py,
deterministic seed, ~10 KB of UTF-8 per report):
- jieba-only tokenisation of every report (our segmenter, same settings as the index) vs building the
  index (jieba words + bigrams + fields), both on `--procs` processes; the ratio is the target (≤ 1.5×);
- query p50 / p95 of page 1 (10 hits, with highlighted snippets; the snippet cache emptied before each) for one-, two-, three-term and phrase
  queries (target p95 ≤ 50 ms at 100,000);
- recall against a plain substring scan of the same texts (target 100 %), and precision;
- PostgreSQL (`--backend postgresql`): a throw-away PostgreSQL 15 server is started for the run
  (tests/pgkit.py, loopback only) unless `--pg-url` names a database;
- for comparison, the recall for 免赔额 of the stock jieba.analyse.ChineseAnalyzer without the domain
  dictionary, on a sample.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

from bench.corpus import report
from index.analysis import segmenter, word_spans
from index.api import SearchBackend
from index.extract import IndexDocument
from index.fields import TEXT_FIELDS
from index.highlight import clear_cache
from index.query import parse_query
from index.whoosh_backend import WhooshBackend, to_whoosh

QUERIES: dict[str, list[str]] = {
    "1 term": ["免赔额", "锚杆框架梁", "涌水", "推定全损", "钢板桩围堰", "施救费用", "遵义", "坡坍", "台风", "残值"],
    "2 terms": ["免赔额 暴雨", "锚杆框架梁 开裂", "涌水 隧道", "桩基础 塌孔", "台州 风灾", "围堰 山洪",
                "推定全损 挡土墙", "雅安 边坡冲刷", "贵州省 泥石流", "预应力锚索 倾斜"],
    "3 terms": ["免赔额 暴雨 四川省", "锚杆框架梁 开裂 云南", "涌水 隧道 初期支护", "施救费用 残值 理算",
                "截水沟 冲毁 大暴雨", "台风 温州 临时设施", "承台 盖梁 洪水", "广西 雷击 配电",
                "基坑支护 淤埋 泥石流", "拱形骨架护坡 变形 杭州"],
    "phrase": ['"每次事故免赔额"', '"按推定全损处理"', '"核损单价"', '"钻孔灌注桩成孔"', '"隧道掌子面突发涌水"',
               '"浆砌片石护坡"', '"软土地基不均匀沉降"', '"折归被保险人"', '"河道洪水漫溢"', '"台风带来的暴风"'],
}


def corpus(n: int, seed: int) -> Iterator[IndexDocument]:
    for i in range(n):
        yield report(seed, i)


def _searchable(doc: IndexDocument) -> str:
    """What a free-text query can match: the text and the descriptive fields (ground truth side)."""
    meta = []
    for name in TEXT_FIELDS:
        value = getattr(doc, name)
        meta.append("\n".join(value) if isinstance(value, tuple) else str(value or ""))
    return doc.text + "\n" + "\n".join(meta)


def _jieba_slice(args: tuple[int, int, int]) -> int:
    seed, start, stop = args
    segmenter()
    return sum(len(word_spans(report(seed, i).text)) for i in range(start, stop))


def jieba_only(n: int, seed: int, procs: int) -> tuple[float, int]:
    segmenter()  # loading the dictionary is not tokenisation (the index loads it once too)
    # Both timings include generating the text (~1 ms a report, under 10 % of either).
    t = time.perf_counter()
    if procs <= 1:
        tokens = _jieba_slice((seed, 0, n))
    else:
        step = -(-n // (procs * 8))
        with mp.get_context("fork").Pool(procs) as pool:
            tokens = sum(pool.map(_jieba_slice, [(seed, s, min(n, s + step)) for s in range(0, n, step)]))
    return time.perf_counter() - t, tokens


def stock_recall(sample: int, seed: int) -> tuple[int, int, int]:
    """Documents containing 免赔额 (substring) vs those where the stock analyzer yields the token."""
    import jieba
    from jieba.analyse import ChineseAnalyzer

    jieba.setLogLevel(60)
    stock = ChineseAnalyzer()  # the global jieba dictionary: no domain terms
    ours = 0
    truth = found = 0
    for i in range(sample):
        text = report(seed, i).text
        if "免赔额" not in text:
            continue
        truth += 1
        if any(t.text == "免赔额" for t in stock(text)):
            found += 1
        if "免赔额" in {w for w, _, _ in word_spans(text)}:
            ours += 1
    return truth, found, ours


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def timed_search(backend: SearchBackend, q: str, **options: bool) -> tuple[float, int]:
    """Milliseconds for page 1 of `q`, as `gongu search` shows it, and the total; the snippet cache is
    emptied first, so no query is helped by the snippets an earlier one made."""
    clear_cache()
    t = time.perf_counter()
    total = backend.search(parse_query(q), **options).total  # type: ignore[call-arg]
    return (time.perf_counter() - t) * 1000, total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("n", type=int, help="number of reports")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each query for the latency figures")
    ap.add_argument("--stock-sample", type=int, default=2000)
    ap.add_argument("--dir", type=Path, default=None, help="index directory (default: a temp dir, removed)")
    ap.add_argument("--backend", default="whoosh",
                    help="engine(s) to build and query, each against the same jieba-only run: whoosh, tantivy, "
                         "postgresql, both (whoosh and tantivy) or a comma-separated list")
    ap.add_argument("--jieba-seconds", type=float, default=None,
                    help="skip the jieba-only run and use this baseline (from an earlier run at the same N; "
                         "printed as such) — for re-measuring one engine when the baseline took half an hour")
    ap.add_argument("--pg-url", default=None, help="an empty PostgreSQL database (default: a throw-away server)")
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # a long run's figures show as they come
    n, seed = args.n, args.seed
    work = args.dir or Path(tempfile.mkdtemp(prefix="gongu-search-bench-"))
    print(f"corpus: {n} synthetic CAR reports, seed {seed}, {args.procs} process(es), index in {work}")
    sizes = [len(report(seed, i).text.encode()) for i in range(min(n, 500))]
    print(f"  report size: mean {statistics.mean(sizes) / 1024:.1f} KiB of UTF-8 (first {len(sizes)})")

    if args.jieba_seconds is not None:
        jt = args.jieba_seconds
        print(f"jieba-only tokenisation: {jt:.1f} s (given with --jieba-seconds: measured by an earlier run of "
              f"this bench on this machine and corpus, not in this run)")
    else:
        jt, tokens = jieba_only(n, seed, args.procs)
        print(f"jieba-only tokenisation: {jt:.1f} s ({n / jt:.0f} reports/s, {tokens / n:.0f} words/report)")

    engines = ("whoosh", "tantivy") if args.backend == "both" else tuple(args.backend.split(","))
    for engine in engines:
        if engine not in ("whoosh", "tantivy", "postgresql"):
            ap.error(f"unknown engine {engine!r}")
    with ExitStack() as stack:
        if "postgresql" in engines and args.pg_url is None:
            from tests import pgkit

            args.pg_url = stack.enter_context(pgkit.cluster()).create_database("bench")
        run(args, engines, jt, work)


def run(args: argparse.Namespace, engines: tuple[str, ...], jt: float, work: Path) -> None:
    n, seed = args.n, args.seed
    found_by: dict[str, dict[str, set[str]]] = {}
    for engine in engines:
        print(f"── engine: {engine}")
        found_by[engine] = bench_engine(engine, work / engine, args, jt)
    truth = ground_truth(n, seed)
    for engine in engines:
        print_recall(engine, truth, found_by[engine])

    sample = min(n, args.stock_sample)
    truth_n, stock_found, ours = stock_recall(sample, seed)
    found = found_by[engines[0]]
    print(f"免赔额 on {sample} reports: {truth_n} contain it; stock ChineseAnalyzer (no domain dict) yields the "
          f"token in {stock_found} ({100 * stock_found / max(1, truth_n):.1f} %, misses "
          f"{100 * (truth_n - stock_found) / max(1, truth_n):.1f} %); our word field {ours} "
          f"({100 * ours / max(1, truth_n):.1f} %); with the bigram field ({engines[0]}): {len(found['免赔额'])} of "
          f"{len(truth['免赔额'])} in the full corpus")
    if args.dir is None:
        shutil.rmtree(work, ignore_errors=True)


def all_matches(engine: str, backend: SearchBackend, q: str, n: int) -> set[str]:
    """Every document a query matches (not one page), straight from the engine."""
    if isinstance(backend, WhooshBackend):
        with backend._index().searcher() as s:
            return {h["doc_id"] for h in s.search(to_whoosh(parse_query(q)), limit=None)}
    from index.postgres_backend import PostgresBackend

    if isinstance(backend, PostgresBackend):
        return set(backend.doc_ids(parse_query(q)))
    from index.tantivy_backend import TantivyBackend, to_tantivy

    assert isinstance(backend, TantivyBackend)
    s = backend._searcher()
    res = s.search(to_tantivy(backend.schema, parse_query(q), sparse=backend.sparse), limit=max(1, n))
    return {s.doc(addr)["doc_id"][0] for _, addr in res.hits}


def embedded_backend(engine: str, work: Path, procs: int = 1) -> SearchBackend:
    """The tantivy or Whoosh index of this bench in `work` (its `--dir`/<engine> folder)."""
    if engine == "tantivy":
        from index.tantivy_backend import TantivyBackend

        return TantivyBackend(work, procs=procs)
    return WhooshBackend(work, procs=procs)


def bench_engine(engine: str, work: Path, args: argparse.Namespace, jt: float) -> dict[str, set[str]]:
    n, seed = args.n, args.seed
    if work.exists():
        shutil.rmtree(work)
    backend: SearchBackend
    if engine == "postgresql":
        from index.postgres_backend import PostgresBackend

        backend = PostgresBackend(args.pg_url, procs=args.procs)
    else:
        backend = embedded_backend(engine, work, args.procs)
    segmenter()
    t = time.perf_counter()
    backend.rebuild(corpus(n, seed))
    it = time.perf_counter() - t
    size = sum(f.stat().st_size for f in work.rglob("*") if f.is_file()) if work.exists() else 0
    if engine == "postgresql":
        import psycopg

        with psycopg.connect(args.pg_url) as conn:
            row = conn.execute("SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace s "
                               "ON s.oid = c.relnamespace WHERE s.nspname = 'gongu_search' AND c.relkind = 'r'").fetchone()
            size = int(row[0] or 0) if row else 0
    method = f", {backend.index_method} index" if engine == "postgresql" else ""  # type: ignore[attr-defined]
    print(f"index build: {it:.1f} s ({n / it:.0f} reports/s), {size / 2**20:.0f} MiB on disk{method}")
    print(f"  ratio index / jieba-only: {it / jt:.2f}×  (target ≤ 1.5×)")

    # Latency: page 1 with snippets, as `gongu search` shows it.
    print("query latency (page 1, 10 hits; with snippets, and without them):")
    all_lat: list[float] = []
    for cls, queries in QUERIES.items():
        lat, bare, totals = [], [], []
        for _ in range(args.repeat):
            for q in queries:
                ms, total = timed_search(backend, q)
                lat.append(ms)
                totals.append(total)
                bare.append(timed_search(backend, q, with_snippets=False)[0])
        all_lat += lat
        print(f"  {cls:8s} p50 {pct(lat, 0.5):7.1f} ms   p95 {pct(lat, 0.95):7.1f} ms   "
              f"(no snippets p50 {pct(bare, 0.5):7.1f} ms; median matches {int(statistics.median(totals))})")
    print(f"  {'all':8s} p50 {pct(all_lat, 0.5):7.1f} ms   p95 {pct(all_lat, 0.95):7.1f} ms  (target p95 ≤ 50 ms at 100,000)")

    flat = [q for qs in QUERIES.values() for q in qs]
    return {q: all_matches(engine, backend, q, n) for q in flat}


def ground_truth(n: int, seed: int) -> dict[str, set[str]]:
    """Recall and precision are measured against a plain substring scan of the same texts."""
    flat = [q for qs in QUERIES.values() for q in qs]
    needles = {q: [p.strip('"') for p in (q.split() if not q.startswith('"') else [q])] for q in flat}
    truth: dict[str, set[str]] = {q: set() for q in flat}
    for doc in corpus(n, seed):
        hay = _searchable(doc)
        for q, parts in needles.items():
            if all(p in hay for p in parts):
                truth[q].add(doc.doc_id)
    return truth


def print_recall(engine: str, truth: dict[str, set[str]], found: dict[str, set[str]]) -> None:
    flat = list(truth)
    t_all = sum(len(v) for v in truth.values())
    tp = sum(len(truth[q] & found[q]) for q in flat)
    fp = sum(len(found[q] - truth[q]) for q in flat)
    worst = min(flat, key=lambda q: len(truth[q] & found[q]) / len(truth[q]) if truth[q] else 1.0)
    print(f"{engine} recall vs substring scan: {tp}/{t_all} = {100 * tp / max(1, t_all):.2f} %  (target 100 %); "
          f"false positives {fp}; worst query {worst!r}: {len(truth[worst] & found[worst])}/{len(truth[worst])}")
    phrase_q = QUERIES["phrase"]
    print("  (phrase queries: substring semantics — a quoted phrase matches where its text occurs)")
    for q in phrase_q[:3]:
        print(f"  {q}: {len(found[q])} hits, truth {len(truth[q])}")


if __name__ == "__main__":
    main()
