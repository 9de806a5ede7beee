"""The reviewer's QC sheet (9.3; 通则 Art 35 for the forensic kind): every rule of the case's kind with
pass/fail, and the review sign-offs under the kind's level titles (校对 / 复核 / 审核 or 签发).

It is a document for the firm's file only; the client's report never includes it (generator.render does
not import this module, and the issuance tests check the client PDF for its content).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from generator.kinds import Case
from generator.model import CarSurveyCase, ReviewDecision
from generator.review import LEVELS, level_titles, review_clause, review_state
from generator.rules import Finding, Rule, Stage, all_rules, run_rules
from generator.rules.registry import SEVERITY_TITLES

QC_SHEET_TITLE = "公估报告品质审核表"
# The sheet's title per kind: the survey kind keeps its own.
QC_SHEET_TITLES = {"car_survey": QC_SHEET_TITLE, "forensic_appraisal": "司法鉴定质量审核表"}
STAGE_TITLES = {"review": "审核中", "issue": "出具前", "archive": "归档前"}
_DECISION_TITLES = {ReviewDecision.approve: "通过", ReviewDecision.return_: "退回"}


@dataclass(frozen=True)
class RuleRow:
    rule: Rule
    severity: str
    findings: list[Finding]


def rule_rows(findings: list[Finding], stage: Stage, kind: str = "car_survey") -> list[RuleRow]:
    by_rule: dict[str, list[Finding]] = {}
    for f in findings:
        by_rule.setdefault(f.rule, []).append(f)
    registered = all_rules(kind)
    rows = [RuleRow(r, r.severity_at(stage), by_rule.pop(r.id, [])) for r in registered]
    # The conditions of issuing that are not registered rules (gongu.pipeline.issuing.issue_findings: stale approvals,
    # the date of sealing, the register …) get a row each, never dropped from the sheet.
    for rule_id, found in by_rule.items():
        condition = Rule(id=rule_id, clause=found[0].clause, severity=found[0].severity, title="出具条件",
                         func=lambda _ctx: (), kinds=(kind,))
        rows.append(RuleRow(condition, found[0].severity, found))
    return rows


def _workers(case: Case) -> tuple[str, str]:
    """(label, names) of the people whose work is reviewed."""
    if isinstance(case, CarSurveyCase):
        return "承办人员", "、".join(h.name for h in case.handlers)
    return "鉴定人", "、".join(a.name for a in case.appraisers)


def _environment() -> Environment:
    # Autoescape everything: case text is hostile (a handler's name may carry markup).
    return Environment(loader=PackageLoader("forms", "templates/qc"), autoescape=select_autoescape(default=True),
                       undefined=StrictUndefined)


def render_qc_sheet(case: Case, *, today: date | None = None, stage: Stage = "issue",
                    findings: list[Finding] | None = None, case_dir: Path | None = None) -> str:
    today = today or case.report.issued_on
    if findings is None:
        findings = run_rules(case, today=today, stage=stage, case_dir=case_dir)
    state = review_state(case)
    titles = level_titles(case)
    invalid = {index for index, _ in state.problems}
    current = {id(r) for r in state.approved.values()}
    reviews = []
    for i, r in enumerate(case.reviews):
        status = "无效" if i in invalid else ("有效" if id(r) in current else "已失效（其后有退回）")
        if r.decision == ReviewDecision.return_ and i not in invalid:
            status = "退回"
        reviews.append({"level_title": titles[r.level], "reviewer": r.reviewer,
                        "at": r.at.isoformat(), "decision_title": _DECISION_TITLES[r.decision],
                        "comment": r.comment or "", "status": status})
    rows = rule_rows(findings, stage, case.kind)
    workers_label, workers = _workers(case)
    template = _environment().get_template("qc_sheet.html")
    return template.render(
        case=case, handlers=workers, handlers_label=workers_label, stage_title=STAGE_TITLES[stage],
        sheet_title=QC_SHEET_TITLES[case.kind], review_clause=review_clause(case),
        level_titles=[titles[level] for level in LEVELS],
        today=today.isoformat(), rows=rows, reviews=reviews, severity_titles=SEVERITY_TITLES,
        blocking_count=sum(1 for f in findings if f.blocking),
        warning_count=sum(1 for f in findings if not f.blocking),
    )
