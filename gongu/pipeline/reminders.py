"""The daily deadline scan: per person, every open step that is overdue or falls due within a day
(gongu.pipeline.queue.open_steps, whose due times follow the clauses the checks use), recorded in the
catalog (archive/reminders.py) and, when `[mail]` is configured and the person's account has an
address, sent as one e-mail digest per person.

Never a second reminder for the same step on the same Beijing day: the catalog's unique key (person,
case, stage, day) decides which scan records a step, so running the scan twice, or on two machines at
once, sends each step once. A digest the SMTP server did not accept leaves its reminders unsent with the
reason; the next scan that day sends them again.

A review step no supervisor assigned is held by a role (9.3; 通则 Art 35): it is reminded to every person
with an enabled account that may decide it now, by the rules the review itself applies — the level's role
for the case's kind (archive/accounts.py level_roles), need to know (gongu/access/case_access.py), never the
uploader, a person named on the case as its handler or appraiser, nor a reviewer of another level of the
current round (gongu.pipeline.workspace.account_review_problems, generator.review.check_new_review), and
not before a fresh role or an admin-set password lets the account take part (archive/accounts.py
decision_blocker). A person with several such accounts gets the step once."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from archive import reminders as store
from archive.accounts import addresses_of
from archive.reminders import ReminderRow
from generator.types import SHANGHAI, beijing_date
from gongu.pipeline.queue import REVIEW_STAGES, DueItem, open_steps, time_left
from gongu.settings import Settings

if TYPE_CHECKING:
    from archive.catalog import Catalog

# "falls due within a day": a due time at most this far ahead
WITHIN = timedelta(days=1)


@dataclass(frozen=True)
class Digest:
    """One person's reminders of this scan: delivered (or, dry run, to be delivered) by `channel`."""

    person: str
    channel: str  # "mail" | "page" (archive/reminders.py CHANNELS)
    to: tuple[str, ...]
    items: tuple[ReminderRow, ...]
    sent: bool
    error: str | None = None


@dataclass(frozen=True)
class ScanResult:
    day: date
    at: datetime
    dry_run: bool
    mail_configured: bool
    digests: tuple[Digest, ...]
    already: int = 0  # steps due or overdue whose reminder was delivered earlier today (not repeated)
    skipped: tuple[str, ...] = field(default_factory=tuple)  # steps with nobody named to remind

    @property
    def failed(self) -> list[Digest]:
        return [d for d in self.digests if d.error is not None]

    def to_json(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(), "at": self.at.isoformat(timespec="seconds"), "dry_run": self.dry_run,
            "mail_configured": self.mail_configured, "already_reminded_today": self.already,
            "unassigned": list(self.skipped),
            "digests": [{"person": d.person, "channel": d.channel, "to": list(d.to), "sent": d.sent,
                         "error": d.error, "items": [_item_json(r) for r in d.items]} for d in self.digests],
        }


def _item_json(r: ReminderRow) -> dict[str, Any]:
    return {"case_id": r.case_id, "kind": r.kind, "stage": r.stage, "stage_title": r.stage_title,
            "due_at": r.due_at.isoformat(timespec="minutes") if r.due_at else None, "time_left": r.time_left,
            "overdue": r.overdue, "estimated": r.estimated, "clause": r.clause}


# ───────────────────────────────────────── what is due ─────────────────────────────────────────

def due_soon(step: DueItem, now: datetime) -> bool:
    """Overdue, or due within a day: by the due time when known; else a limit counted in working days
    with at most one working day left; else at most 24 hours left."""
    if step.overdue:
        return True
    if step.due_at is not None:
        return step.due_at - now <= WITHIN
    if step.working_days_left is not None:
        return step.working_days_left <= 1
    return step.hours_left is not None and step.hours_left <= WITHIN.total_seconds() / 3600


def _entry(step: DueItem) -> dict[str, Any]:
    return {"case_id": step.case_id, "stage": step.stage, "kind": step.kind, "stage_title": step.stage_title,
            "due_at": step.due_at.astimezone(SHANGHAI).isoformat(timespec="seconds") if step.due_at else None,
            "time_left": time_left(step), "overdue": step.overdue, "estimated": step.estimated,
            "clause": step.clause}


def _preview(person: str, day: date, channel: str, entry: dict[str, Any], now: datetime) -> ReminderRow:
    return ReminderRow(person=person, case_id=entry["case_id"], stage=entry["stage"], day=day, channel=channel,
                       kind=entry["kind"], stage_title=entry["stage_title"],
                       due_at=datetime.fromisoformat(entry["due_at"]) if entry["due_at"] else None,
                       time_left=entry["time_left"], overdue=entry["overdue"], estimated=entry["estimated"],
                       clause=entry["clause"], recorded_at=now, sent_at=None, error=None)


def _ordered(rows: Sequence[ReminderRow]) -> tuple[ReminderRow, ...]:
    far = datetime.max.replace(tzinfo=SHANGHAI)
    return tuple(sorted(rows, key=lambda r: (not r.overdue, r.due_at or far, r.case_id, r.stage)))


def _role_held(step: DueItem) -> bool:
    return not step.person.strip() and step.stage in REVIEW_STAGES


def deciders(settings: Settings, catalog: Catalog, steps: Sequence[DueItem],
             now: datetime) -> dict[tuple[str, str], tuple[str, ...]]:
    """(case, level) → the persons who may decide that review level now, for each step of `steps` held by a
    role (see the module's docstring); a case no longer waiting at that level, or whose file cannot be read
    (the decision itself would be refused), has none."""
    from pydantic import ValidationError

    from archive.accounts import decision_blocker, level_roles, list_accounts
    from archive.workspace import cases_by_id
    from generator.loading import CaseFileError, load_case
    from generator.model import Review
    from generator.review import check_new_review, level_titles
    from gongu.access.case_access import visible_filter
    from gongu.pipeline.workspace import account_review_problems, case_file

    wanted = sorted({(s.case_id, s.stage) for s in steps if _role_held(s)})
    rows = cases_by_id(catalog, sorted({case_id for case_id, _ in wanted}))
    wanted = [(c, level) for c, level in wanted
              if c in rows and rows[c].status == "in_review" and rows[c].next_level == level]
    roles = {(c, level): level_roles(rows[c].kind, level) for c, level in wanted}
    candidates = [a for a in list_accounts(catalog) if not a.disabled and any(a.roles & r for r in roles.values())]
    ids = sorted({c for c, _ in wanted})
    sees = {a.username: set(cases_by_id(catalog, ids, visible_filter(a))) for a in candidates}  # need to know
    at = now.astimezone(SHANGHAI).isoformat(timespec="seconds")
    found: dict[tuple[str, str], tuple[str, ...]] = {}
    for case_id, level in wanted:
        try:
            case = load_case(case_file(settings.home, case_id)).case
        except (CaseFileError, OSError):
            continue
        titles = level_titles(case)
        people: list[str] = []
        for account in candidates:
            held = sorted(account.roles & roles[case_id, level])
            if (not held or case_id not in sees[account.username] or account.person in people
                    or account_review_problems(catalog, rows[case_id], account, level, titles)):
                continue
            try:
                trial = Review.model_validate({"level": level, "reviewer": account.person, "at": at,
                                               "decision": "approve"})
            except ValidationError:  # a name no review could carry
                continue
            if check_new_review(case, trial):  # 9.3 on persons: a handler, or a reviewer of another level
                continue
            if decision_blocker(catalog, account.username, now, settings.accounts.grant_delay_hours, held[0]):
                continue
            people.append(account.person)
        if people:
            found[case_id, level] = tuple(people)
    return found


# ─────────────────────────────────────────── the scan ───────────────────────────────────────────

def daily_scan(settings: Settings, catalog: Catalog, now: datetime, *, dry_run: bool = False) -> ScanResult:
    """The periodic deadline scan (the "deadline_scan" job and `gongu remind`): every open step of every
    person from the work queue, reminded once a day."""
    return scan(settings, catalog, open_steps(settings, catalog, now=now), now, dry_run=dry_run)


def scan(settings: Settings, catalog: Catalog, steps: Sequence[DueItem], now: datetime, *,
         dry_run: bool = False) -> ScanResult:
    """Remind each person of `steps` that are overdue or due within a day, once per step and day.
    `dry_run`: what would be recorded and sent; nothing is written or sent."""
    now = now.astimezone(SHANGHAI)
    day = beijing_date(now)
    mail = settings.mail
    per_person: dict[str, list[DueItem]] = {}
    skipped: list[str] = []
    due = [step for step in steps if due_soon(step, now)]
    by_role = deciders(settings, catalog, due, now) if any(_role_held(s) for s in due) else {}
    for step in due:
        people = (step.person,) if step.person.strip() else by_role.get((step.case_id, step.stage), ())
        if not people:
            skipped.append(f"{step.case_id}·{step.stage_title}")
        for person in people:
            per_person.setdefault(person, []).append(step)
    digests: list[Digest] = []
    already = 0
    for person in sorted(per_person):
        seen: set[tuple[str, str]] = set()
        entries = []
        for step in per_person[person]:  # one reminder per (case, stage), as the unique key has it
            if (step.case_id, step.stage) not in seen:
                seen.add((step.case_id, step.stage))
                entries.append(_entry(step))
        to = tuple(addresses_of(catalog, person)) if mail is not None else ()
        channel = "mail" if to else "page"
        known = store.known_steps(catalog, day, person)
        already += sum(known.get((e["case_id"], e["stage"]), False) for e in entries)
        if dry_run:
            fresh = [_preview(person, day, channel, e, now) for e in entries if (e["case_id"], e["stage"]) not in known]
            retry = [r for r in store.recorded(catalog, day, person)
                     if r.channel == "mail" and not r.delivered and (r.case_id, r.stage) in seen]
            items = _ordered(fresh + (retry if channel == "mail" else []))
            if items:
                digests.append(Digest(person, channel, to, items, sent=False))
            continue
        token = secrets.token_hex(16)
        claimed = store.claim(catalog, person, day, entries, channel=channel, token=token, now=now)
        if not claimed:
            continue
        items = _ordered(claimed)
        if channel == "page":
            digests.append(Digest(person, channel, to, items, sent=True))
            continue
        digests.append(_mail(settings, catalog, person, to, items, token, now))
    return ScanResult(day, now, dry_run, mail is not None, tuple(digests), already, tuple(skipped))


def _mail(settings: Settings, catalog: Catalog, person: str, to: tuple[str, ...], items: tuple[ReminderRow, ...],
          token: str, now: datetime) -> Digest:
    from gongu.pipeline.mailing import MailError, message, send

    assert settings.mail is not None
    subject, body = digest_text(person, items, now)
    try:
        send(settings.mail, message(settings.mail, list(to), subject, body))
    except MailError as exc:
        store.settle(catalog, token, sent_at=None, error=str(exc))
        return Digest(person, "mail", to, items, sent=False, error=str(exc))
    store.settle(catalog, token, sent_at=now)
    return Digest(person, "mail", to, items, sent=True)


# ─────────────────────────────────────────── the text ───────────────────────────────────────────

def digest_text(person: str, items: Sequence[ReminderRow], now: datetime) -> tuple[str, str]:
    """The subject and UTF-8 body of one person's digest: overdue first, then due within a day."""
    overdue = [r for r in items if r.overdue]
    soon = [r for r in items if not r.overdue]
    stamp = f"{now.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"
    counts = "，".join(part for part in (f"逾期 {len(overdue)} 项" if overdue else "",
                                         f"一日内到期 {len(soon)} 项" if soon else "") if part)
    subject = f"Gongu 待办提醒 {beijing_date(now):%Y-%m-%d}：{counts}"
    lines = [f"{person}，您好：", "", f"截至 {stamp}（北京时间），以下待办逾期或将在一日内到期：", ""]
    number = 0
    for title, group in (("【逾期】", overdue), ("【一日内到期】", soon)):
        if not group:
            continue
        lines.append(title)
        for r in group:
            number += 1
            due = f"{r.due_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}" if r.due_at else "未定"
            lines += [f"{number}. 案件 {r.case_id} · {r.stage_title}",
                      f"   到期：{due}　{r.time_left}　依据：{r.clause}"]
        lines.append("")
    lines += ["详见工作台「我的待办」页面。同一步骤每天只提醒一次。", "", "—— Gongu 公估工作台（系统自动发送，请勿回复）"]
    return subject, "\n".join(lines) + "\n"


def reminders_for(catalog: Catalog, person: str, day: date) -> list[ReminderRow]:
    """The reminders recorded for `person` on `day` (the queue page's "今日提醒"): overdue first, then by
    due time; each says how it was delivered (channel, sent_at) or why not (error)."""
    return list(_ordered(store.recorded(catalog, day, person)))


__all__ = ["Digest", "ScanResult", "daily_scan", "deciders", "digest_text", "due_soon", "reminders_for", "scan"]
