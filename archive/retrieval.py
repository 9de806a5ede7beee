"""Retrieval: `get` exports a copy of a case's packages with a verification report (fixity and
signatures) and logs the retrieval (who, when, where to)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from archive import package
from archive.names import inside, safe_component
from archive.store import Archive, ArchiveError


def get(archive: Archive, case_id: str, out_dir: Path, *, by: str, report_number: str | None = None) -> dict[str, Any]:
    if not by.strip():
        raise ArchiveError("须写明调阅人（--by）")
    rows = [r for r in archive.catalog.packages(case_id, state="active")
            if report_number is None or r["report_number"] == report_number]
    if not rows:
        raise ArchiveError(f"档案中没有案件 {case_id}" + (f" 报告 {report_number}" if report_number else "") + " 的在库档案包")
    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for row in rows:
        source = inside(archive.root, *row["rel_path"].split("/"))
        target = out_dir / safe_component(row["report_number"])
        if target.exists():
            raise ArchiveError(f"导出位置已存在，不覆盖：{target}")
        if not package.is_bag(source):
            raise ArchiveError(f"档案包缺失：{row['rel_path']}（请运行 gongu archive audit / fsck）")
        shutil.copytree(source, target, symlinks=True)
        problems = package.validate(target)
        hash_ok = package.package_hash(target) == row["package_hash"]
        signature: dict[str, Any] = {"ok": False, "summary": "未配置签章核验"}
        reports = sorted((target / "data" / "report").glob("*.pdf"))
        if archive.verifier is not None and reports:
            outcome = archive.verifier(reports[0])
            signature = {"ok": outcome.ok, "summary": outcome.summary, "details": outcome.details}
        results.append({"report_number": row["report_number"], "path": str(target), "bag_valid": not problems,
                        "fixity_problems": problems, "package_hash": row["package_hash"],
                        "package_hash_matches_catalog": hash_ok, "signature": signature,
                        "ok": not problems and hash_ok and bool(signature["ok"])})
    at = archive.now()
    report = {"case_id": case_id, "exported_at": at.isoformat(), "exported_by": by, "packages": results,
              "ok": all(r["ok"] for r in results)}
    (out_dir / "verification-report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str) + "\n",
                                                      encoding="utf-8")
    lines = [f"调阅核验报告  案件 {case_id}", f"导出时间 {report['exported_at']}  调阅人 {by}", ""]
    for r in results:
        lines.append(f"报告 {r['report_number']}：BagIt 固定性{'通过' if r['bag_valid'] else '未通过'}；"
                     f"包哈希与目录{'一致' if r['package_hash_matches_catalog'] else '不一致'}；"
                     f"签章{'有效' if r['signature']['ok'] else '无效'}（{r['signature']['summary']}）")
    (out_dir / "verification-report.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    events = []
    with archive.catalog.write():
        for r in results:
            events.append(archive.catalog.append_event("retrieval", at, by, case_id, r["report_number"],
                                                       {"destination": str(out_dir), "ok": r["ok"]}))
    archive.committed(events)
    return report
