"""The levels and decisions of the three-level review before issuance (9.3), with no case model: the
command line builds its `--level` and `--decision` options from them before any case is loaded.
generator.model uses these same enums in the case file."""

from __future__ import annotations

from enum import StrEnum


class ReviewLevel(StrEnum):
    """Three-level review before issuance (9.3): 校对 → 复核 → 审核."""

    proofread = "proofread"
    recheck = "recheck"
    approve = "approve"


REVIEW_LEVEL_TITLES = {
    ReviewLevel.proofread: "校对",
    ReviewLevel.recheck: "复核",
    ReviewLevel.approve: "审核",
}


class ReviewDecision(StrEnum):
    approve = "approve"
    return_ = "return"


REVIEW_DECISION_TITLES = {ReviewDecision.approve: "通过", ReviewDecision.return_: "退回"}
