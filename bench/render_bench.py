"""Rendering speed and memory. Prints figures measured side by side in one run; never a test.

    .venv/bin/python bench/render_bench.py            # everything
    .venv/bin/python bench/render_bench.py --quick    # skip the 5,000-item stress case

1. The largest example — a case generated here from the slope example with many loss and survey-record
   items (at least 15 pages) — total render time vs layout-only time (`HTML(...).render()`).
   Target: ratio ≤ 1.3 (HarfBuzz subsetting instead of fontTools makes writing the PDF cheap).
2. `--jobs 2` against `--jobs 1` on 20 reports. Target: speed-up ≥ 1.8×.
3. A stress case of 5,000 loss items, rendered in a child process: peak RSS (target < 1.5 GB) and time.
4. `--only text`: a forensic case with as much text as validation allows (generator/limits.py
   MAX_FORENSIC_TEXT_CHARS), every document as PDF and DOCX: time and pages, beside the stress case's.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generator.adjust import adjust  # noqa: E402
from generator.loading import load_case  # noqa: E402
from generator.render import render_report  # noqa: E402
from generator.render_html import build_html  # noqa: E402
from generator.render_pdf import layout  # noqa: E402
from gongu.cli.render import render_many  # noqa: E402

SLOPE_DIR = ROOT / "examples" / "slope-collapse"


def make_large_case(folder: Path, losses: int, records: int, number: str = "BENCH-LARGE") -> Path:
    """The slope example with `losses` loss items and `records` survey-record items (cycled from its own)."""
    data: dict[str, Any] = json.loads((SLOPE_DIR / "case.json").read_text(encoding="utf-8"))
    base_records = data["survey"]["record_items"]
    data["survey"]["record_items"] = []
    for i in range(records):
        r = copy.deepcopy(base_records[i % len(base_records)])
        r["id"] = f"R{i + 1:04d}"
        r["location"] = f"K{42 + i // 50}+{(i * 20) % 1000:03d} {r['location']}"
        data["survey"]["record_items"].append(r)
    for p in data["survey"]["photos"]:
        p["record_item"] = "R" + p["record_item"][1:].zfill(4)
    base_losses = data["losses"]
    data["losses"] = []
    for i in range(losses):
        lo = copy.deepcopy(base_losses[i % len(base_losses)])
        lo["id"] = f"L{i + 1:05d}"
        lo["name"] = f"{lo['name']}（段落{i + 1}）"
        lo["record_item"] = f"R{(i % records) + 1:04d}"
        data["losses"].append(lo)
    data["report"]["number"] = number
    folder.mkdir(parents=True, exist_ok=True)
    if (SLOPE_DIR / "photos").is_dir() and not (folder / "photos").exists():
        shutil.copytree(SLOPE_DIR / "photos", folder / "photos")
    path = folder / "case.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def bench_large(tmp: Path) -> None:
    path = make_large_case(tmp / "large", losses=120, records=40)
    loaded = load_case(path)
    render_report(loaded, tmp / "warm", formats=("pdf",))  # warm fonts and caches once
    t0 = time.perf_counter()
    result = render_report(loaded, tmp / "out", formats=("pdf",))
    total = time.perf_counter() - t0
    report = build_html(loaded, adjust(loaded.case))
    t0 = time.perf_counter()
    layout(report)
    lay = time.perf_counter() - t0
    size = result.pdf.stat().st_size if result.pdf else 0
    print(f"[1] largest example: {result.pages} pages, {size / 1e6:.2f} MB")
    print(f"    total render {total:.2f} s, layout only {lay:.2f} s, ratio {total / lay:.2f} (target ≤ 1.3)")


def bench_jobs(tmp: Path, count: int = 20) -> None:
    examples = sorted((ROOT / "examples").glob("*/case.json"))
    files = []
    for i in range(count):
        src = examples[i % len(examples)]
        data = json.loads(src.read_text(encoding="utf-8"))
        data["report"]["number"] = f"BENCH-{i:02d}"
        folder = tmp / f"c{i:02d}"
        folder.mkdir()
        if (src.parent / "photos").is_dir():
            shutil.copytree(src.parent / "photos", folder / "photos")
        (folder / "case.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        files.append(folder / "case.json")
    timings: dict[int, float] = {}
    cpu: dict[int, float] = {}
    for jobs in (1, 2):
        t0 = time.perf_counter()
        outcomes = render_many(files, tmp / f"out-{jobs}", ("pdf", "docx"), None, jobs, show_progress=False)
        timings[jobs] = time.perf_counter() - t0
        cpu[jobs] = sum(o.cpu_seconds for o in outcomes)
        assert all(o.ok for o in outcomes), [o.message for o in outcomes if not o.ok]
    load = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"[2] {count} reports (pdf+docx): --jobs 1 {timings[1]:.1f} s, --jobs 2 {timings[2]:.1f} s, "
          f"speed-up {timings[1] / timings[2]:.2f}× (target ≥ 1.8×)")
    # On a shared machine the wall-clock speed-up is bounded by the CPU we are given: show how many cores
    # the renders actually got (CPU seconds / wall seconds) and the load from everything else.
    print(f"    CPU seconds {cpu[1]:.0f} / {cpu[2]:.0f}; cores obtained {cpu[1] / timings[1]:.2f} / "
          f"{cpu[2] / timings[2]:.2f}; load average {load} on {os.cpu_count()} cores")


def stress_child(folder: Path) -> None:
    path = make_large_case(folder, losses=5000, records=200, number="BENCH-STRESS")
    loaded = load_case(path)
    t0 = time.perf_counter()
    result = render_report(loaded, folder / "out", formats=("pdf",))
    elapsed = time.perf_counter() - t0
    size = result.pdf.stat().st_size if result.pdf else 0
    print(json.dumps({"pages": result.pages, "seconds": elapsed, "bytes": size}))


def bench_stress(tmp: Path) -> None:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--stress-child", str(tmp / "stress")], capture_output=True,
                          text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        print(f"[3] stress case FAILED (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
        return
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux: the largest child so far
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    note = "" if peak_kib > before else " (≤ an earlier child's peak)"
    print(f"[3] stress 5,000 loss items: {figures['pages']} pages, {figures['bytes'] / 1e6:.1f} MB, "
          f"render {figures['seconds']:.0f} s (child wall {wall:.0f} s), peak RSS {peak_kib / 1024:.0f} MiB{note} "
          "(target < 1.5 GB)")


def bench_text(tmp: Path) -> None:
    from generator.limits import MAX_FORENSIC_TEXT_CHARS
    from generator.render import render_case_documents
    from tests.textfill import EXAMPLE, fill_text

    folder = tmp / "text"
    shutil.copytree(EXAMPLE, folder)
    data = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    total = fill_text(data, MAX_FORENSIC_TEXT_CHARS)
    (folder / "case.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    loaded = load_case(folder / "case.json")
    t0 = time.perf_counter()
    docs = render_case_documents(loaded, tmp / "text-out", ("pdf", "docx"))
    elapsed = time.perf_counter() - t0
    print(f"[4] forensic case at the text limit ({total:,} characters): {len(docs)} documents, "
          f"{sum(d.pages for d in docs)} pages, pdf+docx {elapsed:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="skip the 5,000-item stress case")
    parser.add_argument("--only", choices=("stress", "large", "jobs", "text"), help="run one part")
    parser.add_argument("--stress-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stress_child:
        stress_child(args.stress_child)
        return
    with tempfile.TemporaryDirectory(prefix="gongu-bench-") as tmp_name:
        tmp = Path(tmp_name)
        parts = [args.only] if args.only else ["large", "jobs"] if args.quick else ["stress", "large", "jobs"]
        if "stress" in parts:
            bench_stress(tmp)  # first, so RUSAGE_CHILDREN holds only this child's peak
        if "large" in parts:
            bench_large(tmp)
        if "text" in parts:
            bench_text(tmp)
        if "jobs" in parts:
            (tmp / "jobs").mkdir()
            bench_jobs(tmp / "jobs")


if __name__ == "__main__":
    main()
