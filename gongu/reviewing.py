"""Recording one level of the three-level review (9.3; forensic 通则 Art 35) in a case file: what
`gongu review` does, as one function the command line and the web workspace both call.

The rules themselves are generator.review's (check_new_review); this module only reads the file, checks
the reviewer is a registered person, appends the review and writes the file back atomically."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from generator.casefile import read_case_data, write_case_data
from generator.clock import SYSTEM_CLOCK
from generator.loading import LoadedCase, load_case
from generator.model import Review, ReviewDecision, ReviewLevel
from generator.review import check_new_review
from gongu.settings import Settings, load_settings


class ReviewRefused(Exception):
    """The review may not be recorded; `reasons` says why (nothing was written)."""

    def __init__(self, reasons: list[str], *, reviewer: str, invalid: bool = False) -> None:
        self.reasons = reasons
        self.reviewer = reviewer  # as registered
        self.invalid = invalid  # the review itself is malformed (e.g. an impossible --at)
        super().__init__("; ".join(reasons))


@dataclass(frozen=True)
class RecordedReview:
    review: dict[str, Any]  # as written into `reviews`
    written: LoadedCase  # the case file after writing


def record_review(case_path: Path, *, level: ReviewLevel, reviewer: str, decision: ReviewDecision,
                  comment: str | None = None, at: str | None = None, settings: Settings | None = None,
                  loaded: LoadedCase | None = None) -> RecordedReview:
    """Append one review to the case file at `case_path`.

    Raises generator.loading.CaseFileError (the file is invalid), gongu.output.GonguError (the reviewer
    is not a registered person, gongu.toml [people]) or ReviewRefused (the review rules refuse it)."""
    loaded = loaded or load_case(case_path)
    reviewer = (settings or load_settings()).people.require(reviewer, "审核人")  # stored as registered
    raw_review: dict[str, Any] = {"level": level.value, "reviewer": reviewer, "decision": decision.value,
                                  "at": at or SYSTEM_CLOCK.now().isoformat(timespec="seconds")}
    if comment:
        raw_review["comment"] = comment
    try:
        new = Review.model_validate(raw_review)
    except ValidationError as exc:
        raise ReviewRefused([f"{'.'.join(map(str, err['loc']))}：{err['msg']}（{err.get('input')!r}）"
                             for err in exc.errors()], reviewer=reviewer, invalid=True) from None
    reasons = check_new_review(loaded.case, new)
    if reasons:
        raise ReviewRefused(reasons, reviewer=reviewer)
    data = read_case_data(loaded)
    data.setdefault("reviews", []).append(raw_review)
    written = write_case_data(case_path, data)
    return RecordedReview(raw_review, written)
