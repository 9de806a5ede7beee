"""Recording one level of the three-level review (9.3; forensic 通则 Art 35) in a case file: what
`gongu review` does, as one function the command line and the web workspace both call.

The rules themselves are generator.review's (check_new_review); this module only reads the file, checks
the reviewer is a registered person, appends the review and writes the file back atomically."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from generator.casefile import read_case_data, write_case_data
from generator.clock import SYSTEM_CLOCK
from generator.loading import LoadedCase, load_case
from generator.model import Review, ReviewDecision, ReviewLevel
from generator.review import check_new_review
from gongu.output import GonguError
from gongu.settings import Settings, load_settings

if TYPE_CHECKING:
    from archive.store import Archive


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
    credential: dict[str, Any] | None = None  # what `confirm` returned: how the reviewer proved who they are


# Called with (registered reviewer, the case) once the review passed its rules, before anything is
# written: raises when the person's own credential is missing or wrong (gongu/access/credentials.py).
Confirm = Callable[[str, str], dict[str, Any]]


def record_review(case_path: Path, *, level: ReviewLevel, reviewer: str, decision: ReviewDecision,
                  comment: str | None = None, at: str | None = None, settings: Settings | None = None,
                  loaded: LoadedCase | None = None, confirm: Confirm | None = None) -> RecordedReview:
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
    credential = confirm(reviewer, loaded.case) if confirm is not None else None
    data = read_case_data(loaded)
    data.setdefault("reviews", []).append(raw_review)
    written = write_case_data(case_path, data)
    return RecordedReview(raw_review, written, credential)


class DecisionLog:
    """The archive's signed log as the place a reviewer's decision given on the command line is recorded,
    with the credential that proved it was theirs."""

    def __init__(self, archive: Archive, settings: Settings) -> None:
        self.archive = archive
        self.settings = settings

    def confirm_reviewer(self, level: ReviewLevel, decision: ReviewDecision) -> Confirm:
        def confirm(reviewer: str, case: Any) -> dict[str, Any]:
            from archive.accounts import level_roles
            from gongu.access.credentials import confirm_person

            return confirm_person(self.archive.catalog, self.settings, reviewer, roles=level_roles(case.kind, level.value),
                                  decision={"action": "review", "case_id": case.case_id,
                                            "report_number": case.report.number, "level": level.value,
                                            "decision": decision.value},
                                  now=self.archive.now())
        return confirm

    def record(self, recorded: RecordedReview) -> None:
        case = recorded.written.case
        review = recorded.review
        cat = self.archive.catalog
        with cat.write():
            event = cat.append_event("review", self.archive.now(), review["reviewer"], case.case_id, case.report.number,
                                     {"level": review["level"], "decision": review["decision"], "at": review["at"],
                                      "credential": recorded.credential})
        self.archive.committed([event])


@contextmanager
def decision_log(settings: Settings) -> Iterator[DecisionLog]:
    from archive.catalog import CatalogError
    from archive.errors import ArchiveError
    from gongu.pipeline.archiving import build_archive

    try:
        archive = build_archive(settings, catch_up=False)
    except (CatalogError, ArchiveError) as exc:
        raise GonguError(f"无法打开档案目录以核对审核人的账户：{exc}") from None
    try:
        yield DecisionLog(archive, settings)
    except (CatalogError, ArchiveError) as exc:
        raise GonguError(str(exc)) from None
    finally:
        archive.close()
