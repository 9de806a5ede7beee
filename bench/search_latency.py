"""Query latency again on an index a search bench run kept (`--dir`), without rebuilding it.

    .venv/bin/python -m bench.search_latency /work/exp/b100k2/idx [--backend tantivy] [--rounds 5]

The same 40 queries × 3 and the same measure as bench/search_bench.py (page 1 with snippets, snippet
cache emptied before each query), repeated in rounds, with the slowest queries of each round: a
p95 from one run of 120 queries is the 6th slowest, so a single slow query moves it; rounds show how
much of it is the first (cold) pass and which queries set it. tantivy and Whoosh indexes only (a
PostgreSQL index lives in its server, which the bench stops)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.search_bench import QUERIES, embedded_backend, pct, timed_search
from index.analysis import segmenter


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", type=Path, help="the --dir a bench run kept")
    ap.add_argument("--backend", choices=("tantivy", "whoosh"), default="tantivy")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    if not (args.dir / args.backend).is_dir():
        raise SystemExit(f"no {args.backend} index in {args.dir} (run bench.search_bench with --dir first)")
    backend = embedded_backend(args.backend, args.dir / args.backend)
    segmenter()
    for rnd in range(1, args.rounds + 1):
        every: list[float] = []
        by_query: dict[str, list[float]] = {}
        for queries in QUERIES.values():
            for _ in range(3):
                for q in queries:
                    ms = timed_search(backend, q)[0]
                    every.append(ms)
                    by_query.setdefault(q, []).append(ms)
        slowest = sorted(by_query.items(), key=lambda kv: -max(kv[1]))[:4]
        shown = ", ".join(f"{q} {max(v):.1f}" for q, v in slowest)
        print(f"round {rnd}: p50 {pct(every, 0.5):6.1f} ms  p95 {pct(every, 0.95):6.1f} ms  slowest (ms): {shown}")


if __name__ == "__main__":
    main()
