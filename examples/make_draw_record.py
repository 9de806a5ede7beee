"""Write examples/forensic-reappraisal/draw-record.json: the draw that chose the re-appraisal institution.

Runs the real draw functions (generator/forensic/draw.py) step by step, as `gongu draw prepare / ack /
declare / commit / reveal / run` would, with fixed times and secrets, so re-running gives the same file
byte for byte. The roster is the fictional demo roster (forms/rosters/demo-sichuan-roster-FICTIONAL.csv);
the lottery numbers are invented for the demo, not a real result.

    .venv/bin/python examples/make_draw_record.py          # writes the file
    .venv/bin/python examples/make_draw_record.py --check  # exit 1 when the file on disk differs
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from generator.forensic import draw
from generator.forensic.roster import import_roster

ROOT = Path(__file__).resolve().parents[1]
ROSTER = ROOT / "forms" / "rosters" / "demo-sichuan-roster-FICTIONAL.csv"
OUT = ROOT / "examples" / "forensic-reappraisal" / "draw-record.json"

CASE_ID = "CX-2026-0617"
CASE_NAME = "何建平道路交通事故伤残等级重新鉴定（共同委托）"
VICTIM = "何建平"
INSURER = "中国人民财产保险股份有限公司成都市分公司"
ORIGINAL_LICENCE = "510115012"  # 四川蜀正司法鉴定中心, whose opinion 蜀正司鉴〔2026〕临鉴字第0318号 is re-examined
SECRETS = {VICTIM: "何建平重新鉴定-73920158466", INSURER: "PICC-CD-reappraisal-5530917264"}
MATTERS = [{"id": "M1", "kind": "disability_grade",
            "description": "被鉴定人何建平因2026年1月17日道路交通事故致伤的伤残等级（重新鉴定）"}]


def build() -> dict:
    roster = import_roster(ROSTER, "2026-06-15T09:50:00+08:00")
    entry = roster.by_licence(ORIGINAL_LICENCE)
    assert entry is not None
    original = draw.Original(entry.licence_no, entry.name, entry.scopes)
    record = draw.new_record(case_id=CASE_ID, case_name=CASE_NAME, matters=MATTERS, required_scopes=["法医临床鉴定"],
                             roster=roster, sides=[VICTIM, INSURER], prepared_at="2026-06-15T10:00:00+08:00",
                             original=original)
    record = draw.acknowledge(record, VICTIM, record["list_hash"], "2026-06-15T10:05:00+08:00")
    record = draw.acknowledge(record, INSURER, record["list_hash"], "2026-06-15T10:06:00+08:00")
    # 双色球 is drawn on Tuesdays, Thursdays and Sundays at 21:15; issue 2026068 on Tuesday 16 June.
    record = draw.declare(record, "中国福利彩票双色球", "2026068", "2026-06-15T10:10:00+08:00", "蒲晓燕（记录人）")
    record = draw.commit(record, VICTIM, draw.commitment(SECRETS[VICTIM]), "2026-06-15T10:12:00+08:00")
    record = draw.commit(record, INSURER, draw.commitment(SECRETS[INSURER]), "2026-06-15T10:13:00+08:00")
    record = draw.reveal(record, VICTIM, SECRETS[VICTIM], "2026-06-17T09:00:00+08:00")
    record = draw.reveal(record, INSURER, SECRETS[INSURER], "2026-06-17T09:02:00+08:00")
    return draw.run(record, [5, 11, 16, 22, 28, 33, 12], "2026-06-16T21:30:00+08:00", "2026-06-17T09:10:00+08:00")


def main() -> int:
    text = json.dumps(build(), ensure_ascii=False, indent=2) + "\n"
    if "--check" in sys.argv[1:]:
        same = OUT.is_file() and OUT.read_text(encoding="utf-8") == text
        print("一致" if same else f"{OUT} 与重新生成的记录不同")
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"→ {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
