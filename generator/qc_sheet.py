"""The reviewer's QC sheet (9.3): every registered rule with pass/fail, and the review sign-offs.

It is a document for the firm's file only; the client's report never includes it (generator.render does
not import this module, and the issuance tests check the client PDF for its content).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from generator.model import REVIEW_LEVEL_TITLES, CarSurveyCase, ReviewDecision
from generator.review import review_state
from generator.rules import Finding, Rule, Stage, all_rules, run_rules
from generator.rules.registry import SEVERITY_TITLES

QC_SHEET_TITLE = "公估报告品质审核表"
STAGE_TITLES = {"review": "审核中", "issue": "出具前", "archive": "归档前"}
_DECISION_TITLES = {ReviewDecision.approve: "通过", ReviewDecision.return_: "退回"}


@dataclass(frozen=True)
class RuleRow:
    rule: Rule
    severity: str
    findings: list[Finding]


def rule_rows(findings: list[Finding], stage: Stage) -> list[RuleRow]:
    by_rule: dict[str, list[Finding]] = {}
    for f in findings:
        by_rule.setdefault(f.rule, []).append(f)
    return [RuleRow(r, r.severity_at(stage), by_rule.get(r.id, [])) for r in all_rules()]


def _environment() -> Environment:
    # Autoescape everything: case text is hostile (a handler's name may carry markup).
    return Environment(loader=PackageLoader("forms", "templates/qc"), autoescape=select_autoescape(default=True),
                       undefined=StrictUndefined)


def render_qc_sheet(case: CarSurveyCase, *, today: date | None = None, stage: Stage = "issue",
                    findings: list[Finding] | None = None, case_dir: Path | None = None) -> str:
    today = today or case.report.issued_on
    if findings is None:
        findings = run_rules(case, today=today, stage=stage, case_dir=case_dir)
    state = review_state(case)
    invalid = {index for index, _ in state.problems}
    current = {id(r) for r in state.approved.values()}
    reviews = []
    for i, r in enumerate(case.reviews):
        status = "无效" if i in invalid else ("有效" if id(r) in current else "已失效（其后有退回）")
        if r.decision == ReviewDecision.return_ and i not in invalid:
            status = "退回"
        reviews.append({"level_title": REVIEW_LEVEL_TITLES[r.level], "reviewer": r.reviewer,
                        "at": r.at.isoformat(), "decision_title": _DECISION_TITLES[r.decision],
                        "comment": r.comment or "", "status": status})
    rows = rule_rows(findings, stage)
    template = _environment().get_template("qc_sheet.html")
    return template.render(
        case=case, handlers="、".join(h.name for h in case.handlers), stage_title=STAGE_TITLES[stage],
        today=today.isoformat(), rows=rows, reviews=reviews, severity_titles=SEVERITY_TITLES,
        blocking_count=sum(1 for f in findings if f.blocking),
        warning_count=sum(1 for f in findings if not f.blocking),
    )
