"""Completeness rules of the CAR code of practice, checked by the quality review (9.3).

`run_rules(case, today=None, stage="issue")` returns every `Finding`; `all_rules()` lists the registry.
Rules live in modules by clause: commission (4.x), survey (5.x), liability (6.x), loss (7–8),
report (9–10) and review_rules (9.3 sign-off). The forensic kind's rules (Sichuan opinion, 通则) live in
forensic_commission, forensic_disputes, forensic_process, forensic_opinion, forensic_time and
forensic_appraisers; each rule names its kinds and
`run_rules` runs those of the case's kind (`all_rules(kind)` lists them).
"""

from generator.rules.registry import Finding, all_rules, blocking_reasons, get_rule, has_blocking, run_rules
from generator.rules.rule import STAGES, Miss, Rule, RuleContext, Severity, Stage

__all__ = ["STAGES", "Finding", "Miss", "Rule", "RuleContext", "Severity", "Stage", "all_rules", "blocking_reasons", "get_rule",
           "has_blocking", "run_rules"]
