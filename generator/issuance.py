"""Issuance (9.3): may the report go out, and what a reissue changes.

A report is issued only when no blocking finding remains at the "issue" stage — which includes the 9.3
rule, so a missing review level or a return not followed by three new approvals refuses it too. A
corrected reissue (industry practice, regulations.md) takes the old number with an R suffix (R1, R2 …),
names the report it supersedes and records why; the earlier report stays on disk and in `issuances`.
A reissue must be reviewed again: its three approvals must all be later than the last issuance.
"""

from __future__ import annotations

import copy
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from generator.forensic.issued import IssuedOpinion
from generator.kinds import Case
from generator.review import level_titles, review_clause, review_state
from generator.rules import blocking_reasons

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
    after it must not change (通则 Art 41; found by gongu.issued_opinion)."""
    reasons = blocking_reasons(case, stage="issue", today=today, case_dir=case_dir, issued=issued)
    if case.issuances:
        last = case.issuances[-1]
        state = review_state(case)
        stale = [level for level, review in state.approved.items() if review.at <= last.issued_at]
        for level in stale:
            reasons.append(f"[{review_clause(case)}] {level_titles(case)[level]}的通过早于上次出具（{last.number}，"
                           f"{last.issued_at.isoformat()}），重新出具须重新经三级审核（$.reviews）")
    return reasons


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
