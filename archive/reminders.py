"""The reminders the daily deadline scan recorded (catalog revision 0011): one row per person, case step and
Beijing date. The unique key (person, case_id, stage, day) is what keeps a step from being reminded twice
the same day: two scans at once — the same machine twice, or two offices on one PostgreSQL catalog — both
try to insert the row, and the one that inserts it is the one that sends.

A row's life: `claim` holds the token of the scan that is sending it (sent_at empty); a sent e-mail sets
`sent_at` and clears the claim; a failed one clears the claim and keeps the reason in `error`, so the next
scan (that day) claims the row again. `channel` "page" rows are shown on the queue page only ([mail] not
configured, or the person has no address) and count as delivered when recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Column, Index, Integer, Table, Text, UniqueConstraint, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from archive.catalog import Catalog, metadata
from generator.types import SHANGHAI

CHANNELS = {"mail": "电子邮件", "page": "待办页面"}
# A claim older than this belongs to a scan that died mid-send (killed, machine lost): the next scan takes it.
CLAIM_STALE_AFTER = timedelta(minutes=15)

reminders_table = Table(
    "reminders", metadata,
    Column("id", Integer, primary_key=True),
    Column("person", Text, nullable=False),
    Column("case_id", Text, nullable=False),
    Column("stage", Text, nullable=False),
    Column("day", Text, nullable=False),  # the Beijing date of the scan, YYYY-MM-DD
    Column("channel", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("stage_title", Text, nullable=False),
    Column("due_at", Text),  # ISO 8601 with offset; empty when the step has no computable due time
    Column("time_left", Text, nullable=False),  # as the reminder put it: 剩 5.5 小时 / 剩 1 个工作日 / 逾期 3 小时
    Column("overdue", Integer, nullable=False),
    Column("estimated", Integer, nullable=False),
    Column("clause", Text, nullable=False),
    Column("recorded_at", Text, nullable=False),
    Column("sent_at", Text),  # e-mail accepted by the SMTP server, or the page row recorded
    Column("claim", Text),
    Column("claimed_at", Text),
    Column("error", Text),  # the last failed send's reason
    UniqueConstraint("person", "case_id", "stage", "day", name="reminders_once_a_day"),
    Index("reminders_day_person", "day", "person"),
)


@dataclass(frozen=True)
class ReminderRow:
    """One recorded reminder (what the queue page lists for the day)."""

    person: str
    case_id: str
    stage: str
    day: date
    channel: str
    kind: str
    stage_title: str
    due_at: datetime | None
    time_left: str
    overdue: bool
    estimated: bool
    clause: str
    recorded_at: datetime
    sent_at: datetime | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.sent_at is not None


def _reminder(row: Any) -> ReminderRow:
    return ReminderRow(
        person=row["person"], case_id=row["case_id"], stage=row["stage"], day=date.fromisoformat(row["day"]),
        channel=row["channel"], kind=row["kind"], stage_title=row["stage_title"],
        due_at=datetime.fromisoformat(row["due_at"]) if row["due_at"] else None, time_left=row["time_left"],
        overdue=bool(row["overdue"]), estimated=bool(row["estimated"]), clause=row["clause"],
        recorded_at=datetime.fromisoformat(row["recorded_at"]),
        sent_at=datetime.fromisoformat(row["sent_at"]) if row["sent_at"] else None, error=row["error"])


def _insert_new(catalog: Catalog, values: dict[str, Any]) -> bool:
    """Insert unless the (person, case, stage, day) row exists; True when this call inserted it. The
    unique constraint decides (INSERT … ON CONFLICT DO NOTHING, both dialects), never a read before."""
    dialect_insert = postgresql.insert if catalog.dialect == "postgresql" else sqlite.insert
    stmt = dialect_insert(reminders_table).values(**values).on_conflict_do_nothing(
        index_elements=["person", "case_id", "stage", "day"])
    return catalog._writing().execute(stmt).rowcount == 1


def claim(catalog: Catalog, person: str, day: date, entries: list[dict[str, Any]], *, channel: str, token: str,
          now: datetime) -> list[ReminderRow]:
    """Record today's reminders of `person` and claim for this scan the ones it is to deliver: each entry
    new today, and (e-mail) a row of today for one of `entries` that a previous scan failed to send or left
    claimed too long (CLAIM_STALE_AFTER).
    `entries`: case_id, stage, kind, stage_title, due_at, time_left, overdue, estimated, clause.
    A "page" row is delivered by being recorded. One write transaction."""
    t = reminders_table
    now = now.astimezone(SHANGHAI)  # one offset in every stored time: ISO strings then compare as times
    at = now.isoformat(timespec="seconds")
    with catalog.write():
        for entry in entries:
            _insert_new(catalog, {**entry, "person": person, "day": day.isoformat(), "channel": channel,
                                  "recorded_at": at, "claim": token, "claimed_at": at,
                                  "overdue": int(entry["overdue"]), "estimated": int(entry["estimated"]),
                                  "sent_at": at if channel == "page" else None})
        if channel == "mail":  # unsent mail of today whose step is still due: a failed or abandoned send
            stale = (now - CLAIM_STALE_AFTER).isoformat(timespec="seconds")
            steps = {(e["case_id"], e["stage"]) for e in entries}
            retry = [r["id"] for r in catalog._rows(select(t.c.id, t.c.case_id, t.c.stage).where(
                t.c.person == person, t.c.day == day.isoformat(), t.c.channel == "mail", t.c.sent_at.is_(None),
                or_(t.c.claim.is_(None), t.c.claimed_at < stale))) if (r["case_id"], r["stage"]) in steps]
            if retry:
                catalog._writing().execute(update(t).where(t.c.id.in_(retry)).values(claim=token, claimed_at=at))
        rows = catalog._rows(select(t).where(t.c.claim == token, t.c.person == person).order_by(t.c.id))
        if channel == "page":
            catalog._writing().execute(update(t).where(t.c.claim == token, t.c.person == person)
                                       .values(claim=None, claimed_at=None))
    return [_reminder(r) for r in rows]


def settle(catalog: Catalog, token: str, *, sent_at: datetime | None, error: str | None = None) -> None:
    """The outcome of the send this scan claimed: sent (sent_at) or failed (error; stays unsent, claim
    released so the next scan retries)."""
    t = reminders_table
    values: dict[str, Any] = {"claim": None, "claimed_at": None}
    if sent_at is not None:
        values |= {"sent_at": sent_at.astimezone(SHANGHAI).isoformat(timespec="seconds"), "error": None}
    else:
        values["error"] = error or "未知错误"
    with catalog.write():
        catalog._writing().execute(update(t).where(t.c.claim == token).values(**values))


def recorded(catalog: Catalog, day: date, person: str | None = None) -> list[ReminderRow]:
    """The reminders recorded for `day` (of one person, or everyone): overdue first, then by due time."""
    t = reminders_table
    stmt = select(t).where(t.c.day == day.isoformat())
    if person is not None:
        stmt = stmt.where(t.c.person == person)
    rows = [_reminder(r) for r in catalog._rows(stmt.order_by(t.c.person, t.c.id))]
    return sorted(rows, key=lambda r: (r.person, not r.overdue, r.due_at is None,
                                       r.due_at or datetime.max.replace(tzinfo=r.recorded_at.tzinfo), r.case_id))


def known_steps(catalog: Catalog, day: date, person: str) -> dict[tuple[str, str], bool]:
    """(case_id, stage) → delivered, for every reminder of `person` already recorded for `day`."""
    t = reminders_table
    rows = catalog._rows(select(t.c.case_id, t.c.stage, t.c.sent_at)
                         .where(and_(t.c.day == day.isoformat(), t.c.person == person)))
    return {(r["case_id"], r["stage"]): r["sent_at"] is not None for r in rows}


__all__ = ["CHANNELS", "CLAIM_STALE_AFTER", "ReminderRow", "claim", "known_steps", "recorded", "reminders_table",
           "settle"]
