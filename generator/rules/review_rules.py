"""Clause 9.3: the report is issued only after the firm's internal three-level review."""

from __future__ import annotations

from collections.abc import Iterator

from generator.model import REVIEW_LEVEL_TITLES
from generator.review import review_state
from generator.rules.registry import Miss, RuleContext, rule


@rule("review.three_levels", "9.3", "blocking", "校对、复核、审核三级审核通过后方可出具",
      stage_severity=(("review", "warning"),))  # while the review is under way it is progress, not a fault
def review_three_levels(ctx: RuleContext) -> Iterator[Miss]:
    state = review_state(ctx.case)
    for index, reason in state.problems:
        yield Miss(f"$.reviews[{index}]", f"品质审核记录：该条审核无效 — {reason}", ctx.case.reviews[index].reviewer)
    if state.complete:
        return
    if state.last_return is not None:
        r = state.last_return
        yield Miss("$.reviews", f"品质审核记录：{REVIEW_LEVEL_TITLES[r.level]}于 {r.at.isoformat()} 被「{r.reviewer}」退回，"
                   "须重新经三级审核", r.comment)
    for level in state.missing:
        yield Miss("$.reviews", f"品质审核记录：{REVIEW_LEVEL_TITLES[level]}（{level.value}）尚未通过", level.value)
