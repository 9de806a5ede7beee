"""Issuance (9.3): may the report go out, and what a reissue changes.

A report is issued only when no blocking finding remains at the "issue" stage — which includes the 9.3
rule, so a missing review level or a return not followed by three new approvals refuses it too. A
corrected reissue (industry practice, regulations.md) takes the old number with an R suffix (R1, R2 …),
names the report it supersedes and records why; the earlier report stays on disk and in `issuances`.
A reissue must be reviewed again: its three approvals must all be later than the last issuance.

`issuance_findings` holds the conditions of issuing that are not completeness rules of the file alone —
they depend on the issuances recorded and on the day of sealing — as findings, so `gongu check --stage
issue` shows exactly what `gongu issue` refuses (gongu.pipeline.issuing.issue_findings composes them).
"""

from __future__ import annotations

import copy
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from generator.forensic.issued import IssuedOpinion
from generator.forensic.model import ForensicAppraisalCase
from generator.kinds import Case
from generator.review import level_titles, review_clause, review_state
from generator.rules import Finding, blocking_reasons

_REISSUE_SUFFIX = re.compile(r"^(?P<stem>.+)R(?P<n>\d+)$")


class IssueRefused(Exception):
    """The report may not be issued; `reasons` lists every cause."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("; ".join(reasons))


def check_issuable(case: Case, today: date | None = None, case_dir: Path | None = None,
                   issued: IssuedOpinion | None = None) -> list[str]:
    """Every reason the report may not be issued now (empty when it may); `case_dir` lets the photo
    files be checked (5.3.1 d); `issued` is a forensic opinion as issued, which the documents issued
    after it must not change (通则 Art 41; found by gongu.pipeline.issued_opinion)."""
    reasons = blocking_reasons(case, stage="issue", today=today, case_dir=case_dir, issued=issued)
    return reasons + [finding_reason(f) for f in issuance_findings(case)]


def finding_reason(finding: Finding) -> str:
    """A blocking finding as one line of a refusal: "[clause] message（path）"."""
    return f"[{finding.clause}] {finding.message}（{finding.path}）"


def issuance_findings(case: Case, *, sealing_day: date | None = None,
                      documents: tuple[str, ...] = ("opinion",)) -> list[Finding]:
    """The blocking conditions of issuing beyond the completeness rules: approvals older than the last
    issuance (a reissue or an additional issue is reviewed anew), and — given `sealing_day`, the Beijing
    date the documents are sealed — a forensic document of this issuance dated another day.
    `documents`: the keys issued (generator.forensic.documents): "opinion" for a first issue or a reissue,
    the new documents' keys for `gongu issue --additional`."""
    out: list[Finding] = []
    if case.issuances:
        last = case.issuances[-1]
        state = review_state(case)
        stale = [level for level, review in state.approved.items() if review.at <= last.issued_at]
        for level in stale:
            out.append(Finding("issue.reviewed_after_last_issuance", review_clause(case), "blocking", "$.reviews",
                               f"{level_titles(case)[level]}的通过早于上次出具（{last.number}，"
                               f"{last.issued_at.isoformat()}），重新出具须重新经三级审核", level.value))
    if sealing_day is not None and isinstance(case, ForensicAppraisalCase):
        out += _dated_otherwise(case, sealing_day, documents)
    return out


def _dated_otherwise(case: ForensicAppraisalCase, sealing_day: date, documents: tuple[str, ...]) -> list[Finding]:
    """A document's printed date (出具日期 above the seal, 通则 Art 37 and the 2016 formats; a 补正书's
    补正日期, Art 41; a 补充意见书's 出具日期, Art 30) is the day it is sealed: a date other than the
    sealing date is refused, never silently rewritten (the date is part of what the appraisers signed)."""
    dated: list[tuple[str, str, str, date]] = []  # (path, title, clause, printed date)
    for key in documents:
        kind, _, n = key.partition("-")
        if key == "opinion" and case.termination is None:
            dated.append(("$.report.issued_on", "司法鉴定意见书", "通则 Art 37", case.report.issued_on))
        elif kind == "correction" and n.isdigit() and int(n) <= len(case.corrections):
            c = case.corrections[int(n) - 1]
            dated.append((f"$.corrections[{int(n) - 1}].issued_on", f"补正书 {c.number}", "通则 Art 41", c.issued_on))
        elif kind == "supplementary" and n.isdigit() and int(n) <= len(case.supplementary):
            sup = case.supplementary[int(n) - 1]
            dated.append((f"$.supplementary[{int(n) - 1}].issued_on", f"补充意见书 {sup.number}", "通则 Art 30",
                          sup.issued_on))
    return [Finding("forensic.issue.dated_on_sealing_day", clause, "blocking", path,
                    f"{title}落款的出具日期为 {day.isoformat()}，盖章出具之日为 {sealing_day.isoformat()}（北京时间），"
                    "两者应为同一天：请核实后将出具日期改为实际盖章出具之日", day.isoformat())
            for path, title, clause, day in dated if day != sealing_day]


def reissue_number(case: Case) -> str:
    """SA-017 → SA-017R1; a reissue SA-017R1 → SA-017R2.

    Only a number that is itself a reissue (it supersedes another) is incremented, so a firm number that
    happens to end in R and digits is never mistaken for a reissue.
    """
    number = case.report.number
    match = _REISSUE_SUFFIX.match(number)
    if case.report.supersedes and match:
        return f"{match['stem']}R{int(match['n']) + 1}"
    return f"{number}R1"


def reissued_data(data: dict[str, Any], case: Case, reason: str, issued_on: date) -> dict[str, Any]:
    """The case data for a reissue: new number, `supersedes`, reason and report date. `data` is not changed."""
    if not case.issuances:
        raise IssueRefused(["本案尚未出具过报告（$.issuances 为空），不能重新出具；首次出具请不要用 --reissue"])
    if not reason.strip():
        raise IssueRefused(["重新出具须说明原因（--reason）"])
    new = copy.deepcopy(data)
    number = reissue_number(case)
    taken = {i.number for i in case.issuances}
    if number in taken:
        raise IssueRefused([f"报告编号 {number} 已出具过"])
    report = new["report"]
    report["supersedes"] = case.report.number
    report["number"] = number
    report["reissue_reason"] = reason.strip()
    report["issued_on"] = issued_on.isoformat()
    return new


def first_issue_problems(case: Case) -> list[str]:
    if case.issuances:
        last = case.issuances[-1]
        return [f"报告 {last.number} 已于 {last.issued_at.isoformat()} 出具；如需更正请用 --reissue --reason 重新出具"]
    return []


def issuance_entry(case: Case, issued_at: datetime, files: dict[str, tuple[str, str]], *,
                   sealed: bool = True) -> dict[str, Any]:
    """The JSON record appended to `issuances`; `files` maps "pdf"/"docx" to (file name, sha256).
    `sealed` False records an unsealed copy (issued with --unsealed), so nobody takes it for the final report."""
    entry: dict[str, Any] = {"number": case.report.number, "issued_at": issued_at.isoformat(timespec="seconds"),
                             "sealed": sealed}
    if case.report.supersedes:
        entry["supersedes"] = case.report.supersedes
    if case.report.reissue_reason:
        entry["reason"] = case.report.reissue_reason
    for kind, (name, digest) in files.items():
        entry[f"{kind}_file"] = name
        entry[f"{kind}_sha256"] = digest
    return entry
