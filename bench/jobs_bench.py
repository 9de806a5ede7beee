"""Jobs bench: issue-job throughput of 2 worker processes ÷ 1 (`gongu worker --concurrency 2` against
`--concurrency 1`) on a PostgreSQL home (target ≥ 1.8× on 2 cores), both measured in one run on the
same server and the same kind of case.

It starts its own throw-away PostgreSQL 15 (tests/pgkit.py), makes a home with the demo PKI and
2 × N workspace cases ready to issue (tests/pgjobkit.py), then for 1 worker and for 2 workers:
starts the workers, waits until they have registered with procrastinate and run the periodic jobs
they queue at start, queues N issue jobs (render → seal → record → archive) and times them from the
first enqueue to the last job done. The figures printed are jobs per minute and the ratio.

On a machine shared with other work the figures move with its load: the batches alternate (1, 2,
2, 1, …) and the ratio is of the summed times.

usage: .venv/bin/python bench/jobs_bench.py [--jobs N] [--rounds R]"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive.accounts import get_account  # noqa: E402
from archive.catalog import Catalog  # noqa: E402
from generator.types import SHANGHAI  # noqa: E402
from gongu.jobs import api, pg_worker  # noqa: E402
from gongu.settings import load_settings  # noqa: E402
from tests import pgjobkit as kit  # noqa: E402
from tests import pgkit  # noqa: E402


def _registered(url: str) -> int:
    import psycopg

    if not pg_worker.schema_applied(url):
        return 0
    with psycopg.connect(pg_worker.conninfo(url), autocommit=True) as conn:
        return len(conn.execute("SELECT id FROM procrastinate_workers").fetchall())


def _wait_idle(catalog: Catalog, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while api.list_jobs(catalog, states=("queued", "running"), limit=1):
        if time.monotonic() > deadline:
            raise SystemExit("jobs did not finish in time")
        time.sleep(0.5)


def run(home: Path, url: str, catalog: Catalog, cases: list[str], workers: int, logs: Path) -> float:
    """Seconds for `cases` issue jobs on `gongu worker --concurrency <workers>` (that many processes)."""
    procs = [kit.start_worker(home, logs / f"w{workers}.log", "--concurrency", str(workers))]
    try:
        deadline = time.monotonic() + 180
        while _registered(url) < workers:
            if time.monotonic() > deadline or procs[0].poll() is not None:
                raise SystemExit(f"workers did not start; see {logs}")
            time.sleep(0.5)
        time.sleep(12)  # the first sweep (every 10 s) queues the periodic jobs: let them run first
        _wait_idle(catalog, 600)
        approver = get_account(catalog, kit.APPROVER.username)
        assert approver is not None
        t0 = time.perf_counter()
        jobs = [api.enqueue(catalog, "issue", {"case_id": c, "account_id": approver.id}, by=approver.username,
                            person=kit.APPROVER.person, case_id=c, now=datetime.now(SHANGHAI)) for c in cases]
        _wait_idle(catalog, 3600)
        elapsed = time.perf_counter() - t0
        ended = [api.get_job(catalog, j.id) for j in jobs]
        failed = [j for j in ended if j is None or j.state != "done"]
        if failed:
            raise SystemExit(f"{len(failed)} jobs not done: {failed[0]}")
        per_worker = Counter(j.worker for j in ended if j is not None)
        print(f"  各工作进程完成：{dict(sorted(per_worker.items()))}", flush=True)
        return elapsed
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=120)
        deadline = time.monotonic() + 30
        while _registered(url) and time.monotonic() < deadline:  # a stopped worker unregisters itself
            time.sleep(0.2)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=8, help="issue jobs per batch (each batch gets its own cases)")
    ap.add_argument("--rounds", type=int, default=2,
                    help="rounds of one batch per worker count, in alternating order (1,2 then 2,1 …), so that a "
                         "machine busier at one moment does not favour either side")
    args = ap.parse_args()
    if not pgkit.available():
        raise SystemExit("PostgreSQL 15 is not installed (apt-get install postgresql-15)")
    base = Path(tempfile.mkdtemp(prefix="gongu-jobs-bench-"))
    try:
        with pgkit.cluster() as pg:
            url = pg.create_database()
            batches = 2 * args.rounds
            print(f"准备：演示密钥、{batches * args.jobs} 件待出具案件 …", flush=True)
            home = kit.write_home(base / "home", url, base / "pki")
            kit.prepare_home(home)
            cases = kit.ready_cases(home, batches * args.jobs)
            logs = base / "logs"
            logs.mkdir()
            catalog = Catalog(load_settings(home).server_store())  # type: ignore[arg-type]
            totals = {1: 0.0, 2: 0.0}
            try:
                for n in range(batches):
                    workers = (1, 2, 2, 1)[n % 4]
                    batch = cases[n * args.jobs:(n + 1) * args.jobs]
                    seconds = run(home, url, catalog, batch, workers, logs)
                    totals[workers] += seconds
                    print(f"第 {n // 2 + 1} 轮 {workers} 个工作进程：{args.jobs} 件出具用时 {seconds:.1f} s"
                          f"（{60 * args.jobs / seconds:.1f} 件/分）", flush=True)
            finally:
                catalog.close()
            done = args.jobs * args.rounds
            print(f"合计 1 个工作进程：{done} 件 {totals[1]:.1f} s（{60 * done / totals[1]:.1f} 件/分）")
            print(f"合计 2 个工作进程：{done} 件 {totals[2]:.1f} s（{60 * done / totals[2]:.1f} 件/分）")
            print(f"吞吐量之比 2 ÷ 1 = {totals[1] / totals[2]:.2f}×（目标 ≥ 1.8×，2 核；os.cpu_count() = {os.cpu_count()}）")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
