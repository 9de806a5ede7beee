"""Clause 9.3 (survey) and 通则 Art 35 (forensic): issued only after the three-level review.

One replay of the recorded reviews (generator.review) serves both kinds; each kind registers its own rule
with its own clause, and the messages use the kind's level titles (校对 / 复核 / 审核 or 签发).
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.review import level_titles, review_state
from generator.rules.rule import FORENSIC, Miss, RuleContext, rule


def _review_misses(ctx: RuleContext) -> Iterator[Miss]:
    titles = level_titles(ctx.case)
    state = review_state(ctx.case)
    for index, reason in state.problems:
        yield Miss(f"$.reviews[{index}]", f"品质审核记录：该条审核无效 — {reason}", ctx.case.reviews[index].reviewer)
    if state.complete:
        return
    if state.last_return is not None:
        r = state.last_return
        yield Miss("$.reviews", f"品质审核记录：{titles[r.level]}于 {r.at.isoformat()} 被「{r.reviewer}」退回，"
                   "须重新经三级审核", r.comment)
    for level in state.missing:
        yield Miss("$.reviews", f"品质审核记录：{titles[level]}（{level.value}）尚未通过", level.value)


@rule("review.three_levels", "9.3", "blocking", "校对、复核、审核三级审核通过后方可出具",
      stage_severity=(("review", "warning"),))  # while the review is under way it is progress, not a fault
def review_three_levels(ctx: RuleContext) -> Iterator[Miss]:
    yield from _review_misses(ctx)


@rule("forensic.review.three_levels", "通则 Art 35", "blocking", "校对、复核、签发三级审核通过后方可出具鉴定意见书",
      stage_severity=(("review", "warning"),), kinds=FORENSIC)
def forensic_review_three_levels(ctx: RuleContext) -> Iterator[Miss]:
    yield from _review_misses(ctx)
