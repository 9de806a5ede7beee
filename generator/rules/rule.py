"""What a completeness rule is, and the `rule` decorator that declares one.

Every rule module (commission, survey, …, forensic_appraisers) imports this module and never the
registry; `generator.rules.registry` imports the rule modules (its list `RULE_MODULES`) and reads the
rules they declared — the arrows run one way.

A rule function receives a `RuleContext` and yields `Miss(path, message, value)` for every gap it finds.
A rule declares the case kind(s) it applies to (`kinds`, the survey kind by default).
"""

from __future__ import annotations

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


# Every rule declared so far, by id; `generator.rules.registry` imports the rule modules and reads it.
REGISTERED: dict[str, Rule] = {}


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
        if id in REGISTERED:
            raise ValueError(f"rule {id!r} registered twice")
        REGISTERED[id] = Rule(id=id, clause=clause, severity=severity, title=title, func=func,
                              stage_severity=stage_severity, kinds=tuple(kinds))
        return func

    return register
