"""The rule registry: one registered function per completeness rule, for every case kind.

The construction all-risks survey kind (`car_survey`) follows the CAR code (9.3 quality review, clauses
"4.1" … "10.1"); the forensic appraisal kind (`forensic_appraisal`) follows the Sichuan opinion
("Sichuan 二(一)" … "Sichuan 五(三)") and 《司法鉴定程序通则》 ("通则 Art 13"). A rule declares the kind(s)
it applies to (`kinds`, the survey kind by default); `run_rules` runs the rules of the case's own kind.

A rule function receives a `RuleContext` and yields `Miss(path, message, value)` for every gap it finds;
the registry turns each into a `Finding` stamped with the rule's id, clause and severity. Severity is
the rule's own, except where a rule names a different severity for a stage (10.1 is a warning when a
report is issued and blocking when the case is archived). The rules are declared in the modules of
`RULE_MODULES` with the decorator of `generator.rules.rule`; those modules never import this one.

Severity policy: *blocking* = something the case file lacks that the firm can still supply (a record,
a signature, an analysis); *warning* = a recorded fact that misses a time limit the code sets — it cannot
be undone, so it is shown to the reviewer but does not stop issuance — or a check advisory by nature.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from generator.forensic.issued import IssuedOpinion
from generator.kinds import Case
from generator.rules import (
    commission,
    forensic_appraisers,
    forensic_commission,
    forensic_disputes,
    forensic_opinion,
    forensic_process,
    forensic_time,
    liability,
    loss,
    photos,
    report,
    review_rules,
    survey,
    text_safety,
)
from generator.rules.rule import REGISTERED, STAGES, Rule, RuleContext, Severity, Stage

# The rule modules; importing one declares its rules (generator.rules.rule.rule).
RULE_MODULES = (commission, survey, liability, loss, photos, report, review_rules, text_safety,
                forensic_commission, forensic_disputes, forensic_process, forensic_opinion, forensic_time,
                forensic_appraisers)

SEVERITY_TITLES = {"blocking": "阻止出具", "warning": "提示"}
# What a blocking finding stops at each stage: a draft is not submitted for review (review stage), a
# reviewed case is not issued, an issued one is not archived (10.1). A page heading its findings and
# labelling each row uses the same words.
BLOCKING_TITLES: dict[str, str] = {"review": "阻止提交", "issue": "阻止出具", "archive": "阻止归档"}


def severity_title(severity: str, stage: str = "issue") -> str:
    """「阻止提交 / 阻止出具 / 阻止归档」 for a blocking finding at `stage`, 「提示」 for a warning."""
    return BLOCKING_TITLES[stage] if severity == "blocking" else SEVERITY_TITLES[severity]


@dataclass(frozen=True)
class Finding:
    rule: str
    clause: str
    severity: Severity
    path: str
    message: str
    value: Any = None

    @property
    def blocking(self) -> bool:
        return self.severity == "blocking"

    def as_dict(self) -> dict[str, Any]:
        value = self.value
        plain = (str, int, bool)
        if isinstance(value, list) and all(isinstance(v, plain) for v in value):
            value = list(value)
        elif value is not None and not isinstance(value, plain):
            value = str(value)
        return {"rule": self.rule, "clause": self.clause, "severity": self.severity, "path": self.path,
                "message": self.message, "value": value}


_CHINESE_NUMERALS = {c: n for n, c in enumerate("一二三四五六七八九十", start=1)}


def clause_key(clause: str) -> tuple[int, ...]:
    """A sort key: CAR code clauses by number ("4.1" < "5.1.2" < "10.1"), then the Sichuan opinion by its
    Chinese numbering ("Sichuan 二(一)" < "Sichuan 二(四)" < "Sichuan 三(二)"), then 通则 articles by number
    ("通则 Art 13" < "通则 Art 20–21" < "通则 Art 41"); anything else last."""
    if clause[:1].isdigit():
        return (0, *(int(part) for part in clause.split(".") if part.isdigit()))
    if clause.startswith("Sichuan"):
        return (1, *(_CHINESE_NUMERALS[c] for c in clause if c in _CHINESE_NUMERALS))
    if clause.startswith("通则"):
        return (2, *(int(n) for n in re.findall(r"\d+", clause)))
    return (9,)


def all_rules(kind: str | None = "car_survey") -> list[Rule]:
    """The registered rules of one case kind (the survey kind unless told; None: every kind) in clause
    order (4.1 … 10.1; Sichuan 二(一) … 五(三), then 通则 Art …), then by id."""
    rules = [r for r in REGISTERED.values() if kind is None or kind in r.kinds]
    return sorted(rules, key=lambda r: (clause_key(r.clause), r.id))


def get_rule(rule_id: str) -> Rule:
    return REGISTERED[rule_id]


def evaluate(rule_: Rule, ctx: RuleContext) -> list[Finding]:
    severity = rule_.severity_at(ctx.stage)
    return [Finding(rule_.id, rule_.clause, severity, m.path, m.message, m.value) for m in rule_.func(ctx)]


def run_rules(case: Case, today: date | None = None, stage: Stage = "issue",
              case_dir: Path | None = None, issued: IssuedOpinion | None = None) -> list[Finding]:
    """All findings for a case, by the rules of its kind. `today` defaults to the report date (the file
    as of its issue); `case_dir` is the case file's folder, so the photos it names are checked too;
    `issued` is the forensic opinion as issued, which corrections must not change (通则 Art 41)."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    ctx = RuleContext(case=case, today=today or case.report.issued_on, stage=stage, case_dir=case_dir,
                      issued=issued)
    findings: list[Finding] = []
    for rule_ in all_rules(case.kind):
        findings.extend(evaluate(rule_, ctx))
    return findings


def has_blocking(findings: Iterable[Finding]) -> bool:
    return any(f.blocking for f in findings)


def blocking_reasons(case: Case, stage: Stage = "issue", today: date | None = None,
                     case_dir: Path | None = None, issued: IssuedOpinion | None = None) -> list[str]:
    """One line per blocking finding, e.g. for "may this be archived?" (stage="archive", 10.1)."""
    findings = run_rules(case, today=today, stage=stage, case_dir=case_dir, issued=issued)
    return [f"[{f.clause}] {f.message}（{f.path}）" for f in findings if f.blocking]
