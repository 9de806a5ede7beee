"""The three-level quality review before issuance (9.3): 校对 proofread → 复核 recheck → 审核 approve.

The forensic kind has the same three levels under its own titles: 校对 → 复核 (通则 Art 35) → 签发
(`level_titles(kind)`); there the "handlers" a reviewer may not be are the case's appraisers.

Reviews are kept in the case file's `reviews` list in the order they were made. A "return" at any level
reopens the case: approvals made before the latest return no longer count, and all three levels are needed
again. An issuance closes a round likewise once a review is recorded after it (a reissue is reviewed anew). A reviewer is never one of the case's handlers, nor the reviewer of another level in the same round (industry practice;
regulations.md "three-level review"): entries before the round's start are history, so one mistaken entry
followed by a return does not bar anyone for good. Where the case has its own signed record of a level
(the forensic 司法鉴定复核意见 is the 复核 level's, 通则 Art 35), that level is entered by the person who
signed it (`level_signer_problem`, also the rule forensic.review.opinion's comparison).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from generator.forensic.model import ForensicAppraisalCase
from generator.kinds import Case
from generator.model import REVIEW_LEVEL_TITLES, CarSurveyCase, Review, ReviewDecision, ReviewLevel
from generator.persons import person_key, same_person

LEVELS: tuple[ReviewLevel, ...] = (ReviewLevel.proofread, ReviewLevel.recheck, ReviewLevel.approve)

# The titles each kind gives the three levels; the stored values (proofread / recheck / approve) are shared.
FORENSIC_REVIEW_LEVEL_TITLES = {
    ReviewLevel.proofread: "校对",
    ReviewLevel.recheck: "复核",  # 通则 Art 35: the 复核 of procedure and opinion
    ReviewLevel.approve: "签发",
}
REVIEW_LEVEL_TITLES_BY_KIND: dict[str, dict[ReviewLevel, str]] = {
    "car_survey": REVIEW_LEVEL_TITLES,
    "forensic_appraisal": FORENSIC_REVIEW_LEVEL_TITLES,
}
# The clause a review finding or refusal cites, per kind.
REVIEW_CLAUSE_BY_KIND = {"car_survey": "9.3", "forensic_appraisal": "通则 Art 35"}


def level_titles(case: Case | str) -> dict[ReviewLevel, str]:
    """The Chinese titles of the three levels for a case (or a kind name)."""
    kind = case if isinstance(case, str) else case.kind
    return REVIEW_LEVEL_TITLES_BY_KIND[kind]


def review_clause(case: Case) -> str:
    return REVIEW_CLAUSE_BY_KIND[case.kind]


def _workers(case: Case) -> list[str]:
    """Who did the work under review: the survey's handlers, the forensic case's appraisers."""
    if isinstance(case, CarSurveyCase):
        return [h.name for h in case.handlers]
    return [a.name for a in case.appraisers]


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


def _title(level: ReviewLevel, case: Case) -> str:
    return f"{level_titles(case)[level]}（{level.value}）"


def level_signer(case: Case, level: ReviewLevel) -> tuple[str, str] | None:
    """(who signed, what) for the case's own signed record of `level`, when it has one: the forensic
    司法鉴定复核意见 is the 复核 level's record (通则 Art 35). A survey case has no such record."""
    if isinstance(case, ForensicAppraisalCase) and level == ReviewLevel.recheck and case.review_opinion is not None:
        return case.review_opinion.reviewer.name, "复核意见"
    return None


def level_signer_problem(case: Case, review: Review) -> str | None:
    """Why `review` is not entered by the person who signed its level's record (None when it is, or when
    the case has no such record). The one comparison of 复核 level and 复核意见 (通则 Art 35): `gongu review`
    refuses such an entry and the rule forensic.review.opinion reports one written into the file."""
    signed = level_signer(case, review.level)
    if signed is None or same_person(signed[0], review.reviewer):
        return None
    signer, record = signed
    return (f"{record}由「{signer}」签署，{_title(review.level, case)}却由「{review.reviewer}」审核，"
            f"两者应为同一人（{review_clause(case)}）")


def review_problems(case: Case, history: list[Review], new: Review) -> list[str]:
    """Why `new` may not follow `history` (empty when it may). The one-person rule looks at the current
    round only: entries before the latest return (or before the issuance the round follows) are history."""
    reasons: list[str] = []
    # Names compare as persons (NFKC, case-folded, no format characters): `Alice` is `alice`.
    handlers = {person_key(name) for name in _workers(case)}
    if person_key(new.reviewer) in handlers:
        who = "承办人员" if isinstance(case, CarSurveyCase) else "鉴定人"
        reasons.append(f"审核人「{new.reviewer}」是本案{who}，不能担任审核人")
    after = _issued_before(case, new.at)
    this_round = _round_entries(history, after)
    other_levels = sorted({r.level for r in this_round if same_person(r.reviewer, new.reviewer) and r.level != new.level},
                          key=LEVELS.index)
    if other_levels:
        names = "、".join(_title(level, case) for level in other_levels)
        reasons.append(f"审核人「{new.reviewer}」本轮已担任{names}，同一人不能担任两级审核")
    if history and new.at < history[-1].at:
        reasons.append(f"审核时间 {new.at.isoformat()} 早于上一条审核记录的时间 {history[-1].at.isoformat()}")
    approved = _current_round(history, after=after)
    position = LEVELS.index(new.level)
    for earlier in LEVELS[:position]:
        if earlier not in approved:
            reasons.append(f"{_title(earlier, case)}尚未通过，不能进行{_title(new.level, case)}")
            break
    if new.decision == ReviewDecision.approve and new.level in approved:
        reasons.append(f"{_title(new.level, case)}在本轮已通过，无需重复")
    return reasons


def _issued_before(case: Case, moment: datetime) -> datetime | None:
    """The latest issuance before `moment`: a review made after it belongs to a new round."""
    times = [i.issued_at for i in case.issuances if i.issued_at < moment]
    return max(times) if times else None


def _round_entries(history: list[Review], after: datetime | None = None) -> list[Review]:
    """The entries of the current round: those after the latest return (the return closes the round it
    ends) and, once a new round follows an issuance, after that issuance."""
    entries: list[Review] = []
    for review in history:
        if after is not None and review.at <= after:
            continue
        if review.decision == ReviewDecision.return_:
            entries = []
        else:
            entries.append(review)
    return entries


def _current_round(history: list[Review], after: datetime | None = None) -> dict[ReviewLevel, Review]:
    """Approvals since the latest return (and, once a new round follows an issuance, since that issuance)."""
    return {review.level: review for review in _round_entries(history, after)}


def _replay(case: Case) -> tuple[list[Review], list[tuple[int, str]]]:
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


def review_state(case: Case) -> ReviewState:
    """Replay the recorded reviews, keeping only those that were valid when made."""
    accepted, problems = _replay(case)
    # An issuance closes its round: the round that led to it stands until someone reviews again after it.
    after = _issued_before(case, accepted[-1].at) if accepted else None
    returns = [r for r in accepted if r.decision == ReviewDecision.return_ and (after is None or r.at > after)]
    return ReviewState(approved=_current_round(accepted, after), last_return=returns[-1] if returns else None,
                       problems=problems)


def check_new_review(case: Case, new: Review) -> list[str]:
    """Why `new` may not be recorded on this case now (empty when it may): the review rules, and that a
    level with its own signed record is entered by its signer (通则 Art 35)."""
    accepted, _ = _replay(case)
    reasons = review_problems(case, accepted, new)
    if signer := level_signer_problem(case, new):
        reasons.append(signer)
    return reasons
