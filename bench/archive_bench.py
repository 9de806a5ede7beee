"""Archive bench: audit throughput against `sha256sum` over the same files, as a ratio
(target ≥ 0.8), and ingest time per package. Prints figures measured side by side in one run.

usage: .venv/bin/python bench/archive_bench.py [--packages N] [--mb-per-package M]"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive.audit import audit  # noqa: E402
from archive.ingest import ingest  # noqa: E402
from archive.package import iter_bags, validate  # noqa: E402
from generator.loading import load_case  # noqa: E402
from gongu.pipeline.archiving import build_archive  # noqa: E402
from gongu.settings import load_settings  # noqa: E402
from tests.archivekit import build_kit, write_case, write_home  # noqa: E402
from tests.sealkit import example_case  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--packages", type=int, default=8)
    ap.add_argument("--mb-per-package", type=int, default=32, help="size of the video record added to each package")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="gongu-archive-bench-"))
    try:
        print("准备：演示密钥、签章报告 …", flush=True)
        kit = build_kit(base / "kit")
        home = write_home(base / "home", kit, checkpoint_every=1000)
        os.environ["GONGU_FIRM_KEY_PASSPHRASE"] = "gongu-demo"
        archive = build_archive(load_settings(home))
        times = []
        for i in range(args.packages):
            data = example_case()
            data["case_id"] = f"BENCH-{i:04d}"
            case = write_case(base / "cases" / str(i), data)
            video = base / "cases" / str(i) / "survey.mp4"
            video.write_bytes(os.urandom(args.mb_per_package << 20))
            report = kit.sealed_for(data)
            t0 = time.perf_counter()
            ingest(archive, load_case(case), report, extras=[("video", video)], by="bench")
            times.append(time.perf_counter() - t0)
        files = [str(p) for bag in iter_bags(archive.root) for p in sorted((bag / "data").rglob("*")) if p.is_file()]
        total = sum(os.path.getsize(f) for f in files)

        # Warm the page cache equally for both, then time each.
        subprocess.run(["cat", *files], stdout=subprocess.DEVNULL, check=True)
        t0 = time.perf_counter()
        subprocess.run(["sha256sum", *files], stdout=subprocess.DEVNULL, check=True)
        t_sum = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = audit(archive, log_events=False)
        t_audit = time.perf_counter() - t0
        bags = list(iter_bags(archive.root))
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=2) as pool:  # as the audit does it
            assert not any(pool.map(validate, bags))
        t_fix = time.perf_counter() - t0
        reports = [next((bag / "data" / "report").glob("*.pdf")) for bag in bags]
        t0 = time.perf_counter()
        for report in reports:
            assert archive.verifier is not None and archive.verifier(report).ok
        t_sig = time.perf_counter() - t0
        archive.close()
        assert result.ok, [c for c in result.checks if not c.ok]

        mb = total / 1e6
        ratio = (mb / t_audit) / (mb / t_sum)
        times.sort()
        print(f"档案包 {args.packages} 个，数据 {mb:.1f} MB，文件 {len(files)} 个")
        print(f"ingest per package: median {times[len(times) // 2] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms")
        print(f"sha256sum:  {t_sum:.2f} s  ({mb / t_sum:.0f} MB/s)")
        print(f"audit:      {t_audit:.2f} s  ({mb / t_audit:.0f} MB/s; SHA-256 + SHA-512 fixity, metadata, "
              f"PDF/A, PAdES signatures, log)")
        print(f"fixity only (bagit, SHA-256 + SHA-512, 2 threads): {t_fix:.2f} s  ({mb / t_fix:.0f} MB/s) "
              f"→ ratio {t_sum / t_fix:.2f}")
        print(f"audit throughput / sha256sum throughput = {ratio:.2f}  (target ≥ 0.8)")
        print(f"signature validation per report: {t_sig / args.packages * 1000:.0f} ms (a fixed cost per package: "
              "the ratio falls for packages much smaller than ~20 MB)")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
