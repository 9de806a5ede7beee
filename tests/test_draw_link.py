"""The draw record linked to the case (issue 14; Sichuan 二(三)): rule forensic.selection.draw_record.

The example re-appraisal (examples/forensic-reappraisal) was chosen by `gongu draw`: its record names
case CX-2026-0617 and chose 绵阳涪城正衡司法鉴定中心, licence 510703015 — the case's institution. Each
test copies the case folder, changes one thing, and checks that exactly this rule reacts, with the path.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from generator.forensic import draw
from generator.loading import load_case
from generator.rules import run_rules

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "forensic-reappraisal"
RULE = "forensic.selection.draw_record"


def folder(tmp_path: Path, case_edit: Any = None, record_edit: Any = None) -> Path:
    target = tmp_path / "case"
    shutil.copytree(EXAMPLE, target)
    if case_edit is not None:
        data = json.loads((target / "case.json").read_text(encoding="utf-8"))
        case_edit(data)
        (target / "case.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    if record_edit is not None:
        record = json.loads((target / "draw-record.json").read_text(encoding="utf-8"))
        record = record_edit(record)
        (target / "draw-record.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    return target / "case.json"


def findings(path: Path) -> list[tuple[str, str, str]]:
    loaded = load_case(path)
    return [(f.rule, f.severity, f.path) for f in run_rules(loaded.case, case_dir=path.parent)
            if f.rule.startswith("forensic.selection")]


def test_example_record_verifies_and_links(tmp_path: Path) -> None:
    record = json.loads((EXAMPLE / "draw-record.json").read_text(encoding="utf-8"))
    assert draw.verify_record(record) == []
    assert record["case_id"] == "CX-2026-0617" and record["chosen"]["licence_no"] == "510703015"
    assert findings(folder(tmp_path)) == []


def test_record_for_another_case_is_refused(tmp_path: Path) -> None:
    # The same record under another case id: it no longer re-computes (the case id is in the seed and the
    # record digest) …
    path = folder(tmp_path, record_edit=lambda r: {**r, "case_id": "SJ-2026-0318"})
    assert findings(path) == [(RULE, "blocking", "$.selection.draw_record")] * 2
    # … and a case whose id differs from a record that verifies is refused for the case id.
    path = folder(tmp_path / "b", case_edit=lambda d: d.update(case_id="CX-2026-0618"))
    loaded = load_case(path)
    messages = [f.message for f in run_rules(loaded.case, case_dir=path.parent) if f.rule == RULE]
    assert messages == ["鉴定机构选择：随机抽取记录属于案件 CX-2026-0617，不是本案 CX-2026-0618"]


def test_case_at_an_institution_the_draw_did_not_choose(tmp_path: Path) -> None:
    # 乐山嘉州司法鉴定中心 was eligible but second in the order: a case there is not backed by the draw.
    path = folder(tmp_path, case_edit=lambda d: d["institution"].update(name="乐山嘉州司法鉴定中心", licence_no="511102024"))
    assert findings(path) == [(RULE, "blocking", "$.institution.licence_no")]


def test_after_a_decline_the_next_in_order_is_the_institution(tmp_path: Path) -> None:
    def declined(r: dict) -> dict:
        return draw.decline(r, "510703015", "鉴定人排期已满，无法在约定时限内完成", "2026-06-17T11:00:00+08:00")

    # The first declined: the record now chooses 乐山嘉州 (second in the order), so the case at 涪城正衡 fails …
    assert findings(folder(tmp_path, record_edit=declined)) == [(RULE, "blocking", "$.institution.licence_no")]
    # … and a case at 乐山嘉州 passes.
    path = folder(tmp_path / "b", record_edit=declined,
                  case_edit=lambda d: d["institution"].update(name="乐山嘉州司法鉴定中心", licence_no="511102024"))
    assert findings(path) == []


def test_tampered_record_is_refused(tmp_path: Path) -> None:
    def swap_order(r: dict) -> dict:
        r["order"].reverse()
        r["chosen"] = r["order"][0]
        return r

    # Three discrepancies, each reported: the record digest, the order and the chosen institution.
    found = findings(folder(tmp_path, record_edit=swap_order))
    assert len(found) == 3 and set(found) == {(RULE, "blocking", "$.selection.draw_record")}


def test_missing_or_outside_record_is_refused(tmp_path: Path) -> None:
    missing = folder(tmp_path, case_edit=lambda d: d["selection"].update(draw_record="no-such-record.json"))
    assert findings(missing) == [(RULE, "blocking", "$.selection.draw_record")]
    outside = folder(tmp_path / "b", case_edit=lambda d: d["selection"].update(draw_record="../draw-record.json"))
    (tmp_path / "b" / "draw-record.json").write_text("{}", encoding="utf-8")
    assert findings(outside) == [(RULE, "blocking", "$.selection.draw_record")]
    not_json = folder(tmp_path / "c", record_edit=None)
    (not_json.parent / "draw-record.json").write_text("not json", encoding="utf-8")
    assert findings(not_json) == [(RULE, "blocking", "$.selection.draw_record")]


def test_record_with_agreement_is_contradictory(tmp_path: Path) -> None:
    path = folder(tmp_path, case_edit=lambda d: d["selection"].update(method="agreement"))
    assert findings(path) == [(RULE, "blocking", "$.selection.method")]


def test_random_draw_without_record_is_a_warning(tmp_path: Path) -> None:
    path = folder(tmp_path, case_edit=lambda d: d["selection"].pop("draw_record"))
    assert findings(path) == [("forensic.selection.draw_record_kept", "warning", "$.selection.draw_record")]


def test_example_record_is_regenerated_byte_for_byte() -> None:
    # examples/make_draw_record.py runs the real draw steps with fixed times and secrets: the same file again.
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "make_draw_record.py"), "--check"],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
