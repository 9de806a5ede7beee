"""CLI start-up: whole-process time of `gongu --help`, `gongu --version` and `gongu search` on a small
index, each as a ratio to `python -c "import typer, rich"` (the floor any typer + rich CLI pays).

    .venv/bin/python bench/startup_bench.py [--runs 15] [--docs 50]

Every run starts a fresh interpreter (the same one running this script, so the same environment and
PYTHONPATH). The commands are run interleaved — one round runs each once, in turn — so a busy moment of
the shared machine slows every command of that round rather than one of them; the figures are medians
over the rounds, and the ratio is median ÷ median of the baseline (target ≤ 3×). The CPU time (user + system)
of each process is shown beside it: on a machine shared with other work it moves less than the wall time.
The small index is a tantivy index of `--docs` synthetic reports (bench/corpus.py) in a temporary
GONGU_HOME, built once before timing; the search finds no catalog there, as in a home with no archive.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET = 3.0


def make_home(home: Path, docs: int) -> None:
    """A GONGU_HOME with a tantivy index of `docs` corpus reports (built in a child, as a user's command
    would) whose packages are on disk (bagit.txt + data/, all `gongu search` checks), so a search prints
    its hits and no missing-package incident."""
    (home / "gongu.toml").write_text('[index]\nbackend = "tantivy"\n', encoding="utf-8")
    (home / "index").mkdir()
    build = f"""
from dataclasses import replace
from bench.corpus import report
from gongu.pipeline.archiving import archive_root_and_catalog_path
from gongu.pipeline.indexing import open_index
from gongu.settings import load_settings

settings = load_settings()
root, _ = archive_root_and_catalog_path(settings)
docs = []
for i in range({docs}):
    doc = report(7, i)
    rel = doc.package_path.lstrip("/")
    (root / rel / "data").mkdir(parents=True)
    (root / rel / "bagit.txt").write_text("BagIt-Version: 1.0\\n", encoding="utf-8")
    docs.append(replace(doc, package_path=rel, doc_id=rel))
print(open_index(settings).rebuild(docs))
"""
    subprocess.run([sys.executable, "-c", build], check=True, env=_env(home), cwd=ROOT, stdout=subprocess.DEVNULL)


def _env(home: Path) -> dict[str, str]:
    """The environment of every timed process: this checkout first on the path, and byte-code caching on
    (as for an installed `gongu`; a shell with PYTHONDONTWRITEBYTECODE would compile every module anew)."""
    path = os.environ.get("PYTHONPATH")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "GONGU_HOME": str(home), "PYTHONPATH": f"{ROOT}{os.pathsep}{path}" if path else str(ROOT)}


def timed(argv: list[str], env: dict[str, str], failed: set[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one whole process; a command that fails is still timed (an older
    CLI without `--version` pays the same start-up before refusing it) but is marked in the output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        failed.add(f"{' '.join(argv[1:])} → exit {done.returncode}: {done.stderr.decode().strip()[-300:]}")
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--docs", type=int, default=50)
    args = parser.parse_args()
    py = sys.executable
    commands: dict[str, list[str]] = {
        "import typer, rich": [py, "-c", "import typer, rich"],
        "gongu --help": [py, "-m", "gongu", "--help"],
        "gongu --version": [py, "-m", "gongu", "--version"],
        "gongu search 免赔额": [py, "-m", "gongu", "search", "免赔额"],
    }
    with tempfile.TemporaryDirectory(prefix="gongu-startup-") as tmp:
        home = Path(tmp)
        make_home(home, args.docs)
        env = _env(home)
        failed: set[str] = set()
        for argv in commands.values():  # warm the file cache and write the .pyc files once, untimed
            timed(argv, env, failed)
        wall: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, argv in commands.items():
                w, c = timed(argv, env, failed)
                wall[name].append(w)
                cpu[name].append(c)
    base, base_cpu = statistics.median(wall["import typer, rich"]), statistics.median(cpu["import typer, rich"])
    print(f"{args.runs} interleaved runs each, {args.docs}-report tantivy index; python {sys.version.split()[0]}")
    for name in commands:
        median, median_cpu = statistics.median(wall[name]), statistics.median(cpu[name])
        ratio = median / base
        verdict = "" if name == "import typer, rich" else ("  ok" if ratio <= TARGET else f"  over {TARGET:g}×")
        print(f"{name:<20}  wall median {median * 1000:6.1f} ms (min {min(wall[name]) * 1000:6.1f})  ratio "
              f"{ratio:5.2f}×{verdict}   cpu median {median_cpu * 1000:6.1f} ms  ratio {median_cpu / base_cpu:5.2f}×")
    for failure in sorted(failed):
        print(f"note: {failure}")


if __name__ == "__main__":
    main()
