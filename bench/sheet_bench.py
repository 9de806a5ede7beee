"""Sheet bench: the time to import an .xlsx loss list of 200 lines (target < 5 s), of 1,000 lines (the most
a case file holds, generator/limits.py MAX_LIST_ITEMS) and of 5,000 lines (the most rows a sheet may
have; refused after every row is read and validated, since a case file cannot hold them).

Each sheet is the template gongu/pipeline/sheets.py writes for examples/slope-collapse with N lines of
realistic text (names, price references, notes), so it carries the drop-downs and number formats a
firm's filled-in template has. The time printed is the best of R imports (read_losses: unpacking,
streaming the sheet, every row through the model, the cross-checks), and the time to write the template.

usage: .venv/bin/python bench/sheet_bench.py [--rounds R] [--lines 200,1000,5000]"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gongu.pipeline.sheets import SheetRefused, loss_template, read_losses  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def case_with(lines: int) -> dict[str, Any]:
    data = json.loads((ROOT / "examples" / "slope-collapse" / "case.json").read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    data["losses"] = [{
        "id": f"L{i}", "name": f"第{i}段浆砌片石护坡修复", "insured_item": "A1" if i % 3 else "A2",
        "record_item": f"R{i % 5 + 1}", "quantity": str(10 + i % 900), "unit": "立方米",
        "unit_price": f"{100 + i % 400}.{i % 100:02d}", "price_basis": "contract",
        "price_reference": f"工程量清单第208-{i % 9 + 1}-a项", "salvage": str(i % 50 * 10),
        "salvage_method": "retained_by_insured", "claimed_amount": str(2000 + i * 7),
        "note": "回收片石折价归被保险人，按现场清点数量计" if i % 2 else None,
    } for i in range(1, lines + 1)]
    for loss in data["losses"]:
        if loss["note"] is None:
            del loss["note"]
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--lines", default="200,1000,5000")
    args = parser.parse_args()
    print(f"# bench/sheet_bench.py --rounds {args.rounds} --lines {args.lines} "
          f"(os.cpu_count() = {os.cpu_count()}, load average {os.getloadavg()[0]:.1f})")
    for lines in (int(n) for n in args.lines.split(",")):
        data = case_with(lines)
        start = time.perf_counter()
        xlsx = loss_template(data)
        written = time.perf_counter() - start
        best, outcome = float("inf"), ""
        for _ in range(args.rounds):
            start = time.perf_counter()
            try:
                got = read_losses(xlsx, data)
                outcome = f"导入 {len(got)} 行，与写出的相同：{got == data['losses']}"
            except SheetRefused as exc:
                outcome = f"拒绝：{exc.problems[0].message}（共 {len(exc.problems)} 个问题）"
            best = min(best, time.perf_counter() - start)
        print(f"{lines:>5} 行：模板 {len(xlsx) / 1024:.0f} KiB，写出 {written:.2f} s；导入最快 {best:.2f} s"
              f"（{args.rounds} 次）— {outcome}")


if __name__ == "__main__":
    main()
