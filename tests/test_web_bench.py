"""bench/web_bench.py runs end to end on a small archive (the 10,000-case run is the bench itself)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_web_bench_small_run(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "bench.web_bench", "--cases", "30", "--in-progress", "20",
                          "--jobs", "1", "--requests", "5", "--home", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode in (0, 1), run.stderr  # 1 only when a p95 is over the target
    out = run.stdout
    assert "catalog: 30 packages" in out and "index: 30 entries" in out
    assert "workspace: 20 cases in progress" in out
    # the measured queue is not an empty page: each case in progress has at least one open step
    shown = re.search(r"queue page as the bench account sees it: 共 (\d+) 项", out)
    assert shown and int(shown.group(1)) >= 20, out
    idle, _, busy = out.partition("while 1 issue jobs run")
    pages = ("queue (all open steps)", "cases (case list, page 1)", "archive_search (query, page 1)")
    for page in pages:  # each page measured in both phases, 5 requests without jobs
        assert re.search(re.escape(page) + r"\s+server p50\s+[\d.]+ ms\s+p95\s+[\d.]+ ms.*n\s+5\b", idle), idle
    for page in pages:
        assert page in busy, busy
    # the one job, a real issue, is done: the approver's report sealed and archived
    assert "final: done 1" in busy and "failed job" not in busy, out
    # a second run on the same home reuses what the first built; without jobs, one phase only
    again = subprocess.run([sys.executable, "-m", "bench.web_bench", "--cases", "30", "--jobs", "0",
                            "--requests", "3", "--home", str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                           timeout=600)
    # 30 built rows + the issue job's package + one really sealed package (--sealed defaults to 1)
    assert f"reusing the {30 + 1 + 1} packages" in again.stdout, again.stdout + again.stderr
    assert "archive_case (package page, sealed)" in again.stdout
    assert "issue jobs run" not in again.stdout and "queue (all open steps)" in again.stdout
