"""bench/web_bench.py runs end to end on a small archive (the 10,000-case run is the bench itself)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_web_bench_small_run(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "bench.web_bench", "--cases", "30", "--requests", "5",
                          "--home", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode in (0, 1), run.stderr  # 1 only when a p95 is over the target
    assert "catalog: 30 packages" in run.stdout and "index: 30 entries" in run.stdout
    lines = [line for line in run.stdout.splitlines() if "server p50" in line]
    assert len(lines) >= 2  # a case-list (or core) page and a search (or core) page
    assert all(re.search(r"p95\s+[\d.]+ ms", line) for line in lines)
    # a second run on the same home reuses what the first built
    again = subprocess.run([sys.executable, "-m", "bench.web_bench", "--cases", "30", "--requests", "3",
                            "--home", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert "reusing the 30 packages" in again.stdout, again.stderr
