"""Need to know: which cases in progress an account may see (个人信息保护法 Art 28: a forensic appraisal
carries the injured person's identity and medical findings — sensitive personal information — so it is
shown only to the people whose work needs it).

One rule, written once as a SQL condition over the workspace's case rows (`visible_filter`). Every list,
count, queue and search of the workspace adds it to its query, and the per-request check of a case page,
download or action (`visible_case`) is the same condition narrowed to one case id — so a page can never
show a case its list hides. Who sees a case of a kind:

- its people: the uploading account, and an account whose registered person is named on the case
  (handlers of a survey, appraisers of a forensic appraisal) and that holds the kind's working role;
- its reviewers: an account holding a role that decides a level of that kind (gongu/pipeline/workspace.py
  LEVEL_ROLES) while the case is in review at that level or a later one, and for good once the account
  has recorded a decision on it;
- the kind's supervisor role, given on purpose (`supervisor` for surveys, `forensic_supervisor` for
  forensic appraisals): every case of that kind.

Nothing else gives sight of a case: the other kind's roles see none of it (an account holding roles of
both kinds sees both), archivists see archived packages on the archive pages, and admin manages accounts
and sees no case content. A case folder with no workspace row (put there by hand) is seen only by the
kind's supervisor."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import and_, exists, false, or_, select
from sqlalchemy.sql.elements import ColumnElement

from archive.accounts import REVIEW_LEVELS, level_roles
from archive.catalog import Catalog
from archive.workspace import (
    WorkspaceCase,
    cases_by_id,
    get_case,
    workspace_case_people_table,
    workspace_cases_table,
    workspace_comments_table,
)


class Viewer(Protocol):
    """The logged-in account (gongu.web.access.Account)."""

    username: str
    person: str
    roles: frozenset[str]


@dataclass(frozen=True)
class KindRoles:
    worker: str  # uploads and works the case when named on it
    supervisor: str  # sees every case of the kind


KIND_ROLES: dict[str, KindRoles] = {
    "car_survey": KindRoles(worker="handler", supervisor="supervisor"),
    "forensic_appraisal": KindRoles(worker="appraiser", supervisor="forensic_supervisor"),
}


def reviewer_roles(kind: str) -> frozenset[str]:
    return frozenset().union(*(level_roles(kind, level) for level in REVIEW_LEVELS))


def supervises(account: Viewer, kind: str) -> bool:
    roles = KIND_ROLES.get(kind)
    return roles is not None and roles.supervisor in account.roles


def visible_filter(account: Viewer) -> ColumnElement[bool]:
    """The condition on workspace_cases rows this account may see (see the module's docstring)."""
    t = workspace_cases_table
    people, comments = workspace_case_people_table, workspace_comments_table
    by_kind: list[ColumnElement[bool]] = []
    for kind, roles in KIND_ROLES.items():
        if roles.supervisor in account.roles:
            by_kind.append(t.c.kind == kind)
            continue
        reasons: list[ColumnElement[bool]] = []
        if roles.worker in account.roles:
            reasons.append(t.c.handler == account.username)
            reasons.append(exists(select(people.c.case_id).where(
                people.c.case_id == t.c.case_id, people.c.person == account.person)))
        for i, level in enumerate(REVIEW_LEVELS):
            if account.roles & level_roles(kind, level):
                # at this level or past it (next_level NULL in review: every level passed, to be issued)
                reasons.append(and_(t.c.status == "in_review",
                                    or_(t.c.next_level.in_(REVIEW_LEVELS[i:]), t.c.next_level.is_(None))))
        if account.roles & reviewer_roles(kind):
            reasons.append(exists(select(comments.c.id).where(
                comments.c.case_id == t.c.case_id, comments.c.account == account.username)))
        if reasons:
            by_kind.append(and_(t.c.kind == kind, or_(*reasons)))
    return or_(*by_kind) if by_kind else false()


def visible_case(catalog: Catalog, account: Viewer, case_id: str) -> WorkspaceCase | None:
    """The per-request check: the case's row when this account may see it, else None — the caller answers
    404 whether the case does not exist or is not the account's to see (its existence is not revealed)."""
    if get_case(catalog, case_id) is None:
        return None
    return cases_by_id(catalog, [case_id], visible_filter(account)).get(case_id)


def visible_ids(catalog: Catalog, account: Viewer, case_ids: list[str], kind: str) -> set[str]:
    """Of these case ids (folders of one kind), the ones the account may see: the rows the filter admits,
    and for the kind's supervisor also folders with no row."""
    if supervises(account, kind):
        return set(case_ids)
    return set(cases_by_id(catalog, case_ids, visible_filter(account)))


# ── forensic personal identifiers: masked in lists and snippets, in full only on the case page ──

# A run of digits (an <mark> of the highlighter may sit inside it): ID numbers (18/15 digits, X check
# digit), mobile and landline numbers, medical record and admission numbers are all 7 or more digits.
_DIGIT_RUN = re.compile(r"(?:\d|</?mark>)+[Xx]?")
_LABELLED = re.compile(r"(身份证号码?|证件号码?|联系电话|电话|手机号?码?|住址|地址|住所|户籍地|病历号|病案号|住院号|门诊号|"
                       r"检查号|影像号)([:：]?\s*)([^，。；;,、\s<（(]+)")
_TAG = re.compile(r"</?mark>")


def _mask_run(match: re.Match[str]) -> str:
    run = match.group(0)
    digits = _TAG.sub("", run)
    if sum(c.isdigit() for c in digits) < 7:
        return run
    return digits[:2] + "*" * (len(digits) - 4) + digits[-2:]


def _mask_labelled(match: re.Match[str]) -> str:
    value = _TAG.sub("", match.group(3))
    return f"{match.group(1)}{match.group(2)}{value[:1]}{'*' * max(3, len(value) - 1)}"


def mask_identifiers(text: str) -> str:
    """`text` with personal identifiers masked: labelled values (住址、病历号、证件号码 …) keep their first
    character, long digit runs (ID, phone, record numbers) their first and last two."""
    return _DIGIT_RUN.sub(_mask_run, _LABELLED.sub(_mask_labelled, text))
