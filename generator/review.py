"""The three-level quality review before issuance (9.3): 校对 proofread → 复核 recheck → 审核 approve.

Reviews are kept in the case file's `reviews` list in the order they were made. A "return" at any level
reopens the case: approvals made before the latest return no longer count, and all three levels are needed
again. An issuance closes a round likewise once a review is recorded after it (a reissue is reviewed anew). A reviewer is never one of the case's handlers, nor the reviewer of another level (industry practice;
regulations.md "three-level review").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from generator.model import REVIEW_LEVEL_TITLES, CarSurveyCase, Review, ReviewDecision, ReviewLevel
from generator.persons import person_key, same_person

LEVELS: tuple[ReviewLevel, ...] = (ReviewLevel.proofread, ReviewLevel.recheck, ReviewLevel.approve)


@dataclass(frozen=True)
class ReviewState:
    approved: dict[ReviewLevel, Review]  # valid approvals in the current round (after the latest return)
    last_return: Review | None
    problems: list[tuple[int, str]]  # (index in reviews, why the recorded review is not valid)

    @property
    def complete(self) -> bool:
        return all(level in self.approved for level in LEVELS)

    @property
    def missing(self) -> list[ReviewLevel]:
        return [level for level in LEVELS if level not in self.approved]


def _title(level: ReviewLevel) -> str:
    return f"{REVIEW_LEVEL_TITLES[level]}（{level.value}）"


def review_problems(case: CarSurveyCase, history: list[Review], new: Review) -> list[str]:
    """Why `new` may not follow `history` (empty when it may)."""
    reasons: list[str] = []
    # Names compare as persons (NFKC, case-folded, no format characters): `Alice` is `alice`.
    handlers = {person_key(h.name) for h in case.handlers}
    if person_key(new.reviewer) in handlers:
        reasons.append(f"审核人「{new.reviewer}」是本案承办人员，不能担任审核人")
    other_levels = sorted({r.level for r in history if same_person(r.reviewer, new.reviewer) and r.level != new.level},
                          key=LEVELS.index)
    if other_levels:
        names = "、".join(_title(level) for level in other_levels)
        reasons.append(f"审核人「{new.reviewer}」已担任{names}，同一人不能担任两级审核")
    if history and new.at < history[-1].at:
        reasons.append(f"审核时间 {new.at.isoformat()} 早于上一条审核记录的时间 {history[-1].at.isoformat()}")
    approved = _current_round(history, after=_issued_before(case, new.at))
    position = LEVELS.index(new.level)
    for earlier in LEVELS[:position]:
        if earlier not in approved:
            reasons.append(f"{_title(earlier)}尚未通过，不能进行{_title(new.level)}")
            break
    if new.decision == ReviewDecision.approve and new.level in approved:
        reasons.append(f"{_title(new.level)}在本轮已通过，无需重复")
    return reasons


def _issued_before(case: CarSurveyCase, moment: datetime) -> datetime | None:
    """The latest issuance before `moment`: a review made after it belongs to a new round."""
    times = [i.issued_at for i in case.issuances if i.issued_at < moment]
    return max(times) if times else None


def _current_round(history: list[Review], after: datetime | None = None) -> dict[ReviewLevel, Review]:
    """Approvals since the latest return (and, once a new round follows an issuance, since that issuance)."""
    approved: dict[ReviewLevel, Review] = {}
    for review in history:
        if after is not None and review.at <= after:
            continue
        if review.decision == ReviewDecision.return_:
            approved = {}
        else:
            approved[review.level] = review
    return approved


def _replay(case: CarSurveyCase) -> tuple[list[Review], list[tuple[int, str]]]:
    """The recorded reviews that were valid when made, and why each of the others was not."""
    accepted: list[Review] = []
    problems: list[tuple[int, str]] = []
    for i, review in enumerate(case.reviews):
        reasons = review_problems(case, accepted, review)
        if reasons:
            problems.extend((i, reason) for reason in reasons)
        else:
            accepted.append(review)
    return accepted, problems


def review_state(case: CarSurveyCase) -> ReviewState:
    """Replay the recorded reviews, keeping only those that were valid when made."""
    accepted, problems = _replay(case)
    # An issuance closes its round: the round that led to it stands until someone reviews again after it.
    after = _issued_before(case, accepted[-1].at) if accepted else None
    returns = [r for r in accepted if r.decision == ReviewDecision.return_ and (after is None or r.at > after)]
    return ReviewState(approved=_current_round(accepted, after), last_return=returns[-1] if returns else None,
                       problems=problems)


def check_new_review(case: CarSurveyCase, new: Review) -> list[str]:
    """Why `new` may not be recorded on this case now (empty when it may)."""
    accepted, _ = _replay(case)
    return review_problems(case, accepted, new)
