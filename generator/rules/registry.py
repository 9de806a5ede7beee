"""The rule registry: one registered function per completeness rule of the CAR code (9.3 quality review).

A rule function receives a `RuleContext` and yields `Miss(path, message, value)` for every gap it finds;
the registry turns each into a `Finding` stamped with the rule's id, clause and severity. Severity is
the rule's own, except where a rule names a different severity for a stage (10.1 is a warning when a
report is issued and blocking when the case is archived).

Severity policy: *blocking* = something the case file lacks that the firm can still supply (a record,
a signature, an analysis); *warning* = a recorded fact that misses a time limit the code sets — it cannot
be undone, so it is shown to the reviewer but does not stop issuance — or a check advisory by nature.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal, NamedTuple

from generator.model import CarSurveyCase

Severity = Literal["blocking", "warning"]
# review: what a reviewer runs while the 9.3 sign-off is under way; issue: may the report go out;
# archive: may the case be closed and archived (10.1).
Stage = Literal["review", "issue", "archive"]
STAGES: tuple[Stage, ...] = ("review", "issue", "archive")

SEVERITY_TITLES = {"blocking": "阻止出具", "warning": "提示"}


class Miss(NamedTuple):
    """What a rule function yields: where (JSON path), what is missing (Chinese), the offending value."""

    path: str
    message: str
    value: Any = None


@dataclass(frozen=True)
class RuleContext:
    case: CarSurveyCase
    today: date  # "now" for overdue checks; explicit so tests and re-checks of old files are repeatable
    stage: Stage
    # The case's folder, where its photos lie (5.3.1 d). None for a case held only in memory: the
    # photo rule then has no files to look at; every command passes the folder of the file it read.
    case_dir: Path | None = None


RuleFunc = Callable[[RuleContext], Iterable[Miss]]


@dataclass(frozen=True)
class Rule:
    id: str
    clause: str
    severity: Severity
    title: str
    func: RuleFunc
    # Stage-specific severities, e.g. (("archive", "blocking"),) for 10.1.
    stage_severity: tuple[tuple[Stage, Severity], ...] = ()

    def severity_at(self, stage: Stage) -> Severity:
        return dict(self.stage_severity).get(stage, self.severity)


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


_RULES: dict[str, Rule] = {}


def rule(
    id: str,  # noqa: A002 — the registry's own vocabulary
    clause: str,
    severity: Severity,
    title: str,
    *,
    stage_severity: tuple[tuple[Stage, Severity], ...] = (),
) -> Callable[[RuleFunc], RuleFunc]:
    """Register one rule function under a unique id."""

    def register(func: RuleFunc) -> RuleFunc:
        if id in _RULES:
            raise ValueError(f"rule {id!r} registered twice")
        _RULES[id] = Rule(id=id, clause=clause, severity=severity, title=title, func=func,
                          stage_severity=stage_severity)
        return func

    return register


def clause_key(clause: str) -> tuple[int, ...]:
    return tuple(int(part) for part in clause.split(".") if part.isdigit())


def all_rules() -> list[Rule]:
    """Every registered rule in clause order (4.1 … 10.1), then by id."""
    _load_rule_modules()
    return sorted(_RULES.values(), key=lambda r: (clause_key(r.clause), r.id))


def get_rule(rule_id: str) -> Rule:
    _load_rule_modules()
    return _RULES[rule_id]


def evaluate(rule_: Rule, ctx: RuleContext) -> list[Finding]:
    severity = rule_.severity_at(ctx.stage)
    return [Finding(rule_.id, rule_.clause, severity, m.path, m.message, m.value) for m in rule_.func(ctx)]


def run_rules(case: CarSurveyCase, today: date | None = None, stage: Stage = "issue",
              case_dir: Path | None = None) -> list[Finding]:
    """All findings for a case. `today` defaults to the report date (the file as of its issue);
    `case_dir` is the case file's folder, so the photos it names are checked too."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    ctx = RuleContext(case=case, today=today or case.report.issued_on, stage=stage, case_dir=case_dir)
    findings: list[Finding] = []
    for rule_ in all_rules():
        findings.extend(evaluate(rule_, ctx))
    return findings


def has_blocking(findings: Iterable[Finding]) -> bool:
    return any(f.blocking for f in findings)


def blocking_reasons(case: CarSurveyCase, stage: Stage = "issue", today: date | None = None,
                     case_dir: Path | None = None) -> list[str]:
    """One line per blocking finding, e.g. for "may this be archived?" (stage="archive", 10.1)."""
    findings = run_rules(case, today=today, stage=stage, case_dir=case_dir)
    return [f"[{f.clause}] {f.message}（{f.path}）" for f in findings if f.blocking]


def _load_rule_modules() -> None:
    # Importing registers; the modules import this one, so the import happens on first use.
    from generator.rules import commission, liability, loss, photos, report, review_rules, survey, text_safety  # noqa: F401, I001
