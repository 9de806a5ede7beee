"""The rule registry: one registered function per completeness rule, for every case kind.

The construction all-risks survey kind (`car_survey`) follows the CAR code (9.3 quality review, clauses
"4.1" … "10.1"); the forensic appraisal kind (`forensic_appraisal`) follows the Sichuan opinion
("Sichuan 二(一)" … "Sichuan 五(三)") and 《司法鉴定程序通则》 ("通则 Art 13"). A rule declares the kind(s)
it applies to (`kinds`, the survey kind by default); `run_rules` runs the rules of the case's own kind.

A rule function receives a `RuleContext` and yields `Miss(path, message, value)` for every gap it finds;
the registry turns each into a `Finding` stamped with the rule's id, clause and severity. Severity is
the rule's own, except where a rule names a different severity for a stage (10.1 is a warning when a
report is issued and blocking when the case is archived).

Severity policy: *blocking* = something the case file lacks that the firm can still supply (a record,
a signature, an analysis); *warning* = a recorded fact that misses a time limit the code sets — it cannot
be undone, so it is shown to the reviewer but does not stop issuance — or a check advisory by nature.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal, NamedTuple

from generator.forensic.issued import IssuedOpinion
from generator.forensic.model import ForensicAppraisalCase
from generator.kinds import CASE_KINDS, Case
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


SURVEY: tuple[str, ...] = ("car_survey",)
FORENSIC: tuple[str, ...] = ("forensic_appraisal",)


@dataclass(frozen=True)
class RuleContext:
    case: Case
    today: date  # "now" for overdue checks; explicit so tests and re-checks of old files are repeatable
    stage: Stage
    # The case's folder, where its photos lie (5.3.1 d). None for a case held only in memory: the
    # photo rule then has no files to look at; every command passes the folder of the file it read.
    case_dir: Path | None = None
    # The forensic opinion as issued (read from the issued PDF by the caller, gongu.pipeline.issued_opinion), which a
    # later 补正 must leave unchanged (通则 Art 41). None: not issued yet, or the issued copy was not found.
    issued: IssuedOpinion | None = None

    @property
    def survey(self) -> CarSurveyCase:
        """The case as the survey kind (for rules registered with kinds=SURVEY only)."""
        assert isinstance(self.case, CarSurveyCase)
        return self.case

    @property
    def forensic(self) -> ForensicAppraisalCase:
        """The case as the forensic kind (for rules registered with kinds=FORENSIC only)."""
        assert isinstance(self.case, ForensicAppraisalCase)
        return self.case


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
    kinds: tuple[str, ...] = SURVEY  # the case kinds (generator.kinds.CASE_KINDS) the rule applies to

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
    kinds: tuple[str, ...] = SURVEY,
) -> Callable[[RuleFunc], RuleFunc]:
    """Register one rule function under a unique id, for the case kinds it names."""
    unknown = [k for k in kinds if k not in CASE_KINDS]
    if unknown or not kinds:
        raise ValueError(f"rule {id!r}: unknown case kinds {unknown or kinds!r}")

    def register(func: RuleFunc) -> RuleFunc:
        if id in _RULES:
            raise ValueError(f"rule {id!r} registered twice")
        _RULES[id] = Rule(id=id, clause=clause, severity=severity, title=title, func=func,
                          stage_severity=stage_severity, kinds=tuple(kinds))
        return func

    return register


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
    _load_rule_modules()
    rules = [r for r in _RULES.values() if kind is None or kind in r.kinds]
    return sorted(rules, key=lambda r: (clause_key(r.clause), r.id))


def get_rule(rule_id: str) -> Rule:
    _load_rule_modules()
    return _RULES[rule_id]


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


def _load_rule_modules() -> None:
    # Importing registers; the modules import this one, so the import happens on first use.
    from generator.rules import commission, liability, loss, photos, report, review_rules, survey, text_safety  # noqa: F401, I001
    from generator.rules import forensic_commission, forensic_disputes, forensic_process, forensic_opinion, forensic_time  # noqa: F401, I001
    from generator.rules import forensic_appraisers  # noqa: F401
