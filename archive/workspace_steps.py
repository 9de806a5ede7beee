"""Two workspace records that make signatures and issuance belong to people (catalog revision 0008):

- `workspace_signatures`: a handler (survey) or appraiser (forensic) named on a case who is not the
  uploading account confirms, under their own account, that they sign this content (「确认署名」). A
  confirmation holds the digest of the case content it was given for; a changed case needs a new one.
- `issue_locks`: one row per case while it is being issued. The primary key makes the insert the lock,
  so two web workers or two offices on one catalog (SQLite or PostgreSQL) never issue a case twice; a
  lock older than `STALE_AFTER` is taken over (a worker that died mid-issue left it)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, ForeignKey, Index, PrimaryKeyConstraint, Table, Text, delete, insert, select

from archive.catalog import Catalog, metadata

# Issuing renders, seals (with a TSA) and archives: minutes at most; a lock older than this is a dead worker's.
STALE_AFTER = timedelta(minutes=30)

workspace_signatures_table = Table(
    "workspace_signatures", metadata,
    Column("case_id", Text, ForeignKey("workspace_cases.case_id"), nullable=False),
    Column("person", Text, nullable=False),  # the registered name as the case file names the signer
    Column("account", Text, nullable=False),  # the username that confirmed (its person is `person`)
    Column("content_sha256", Text, nullable=False),  # the case content confirmed (gongu.pipeline.workspace.content_digest)
    Column("at", Text, nullable=False),
    PrimaryKeyConstraint("case_id", "person"),
)
issue_locks_table = Table(
    "issue_locks", metadata,
    Column("case_id", Text, primary_key=True),
    Column("account", Text, nullable=False),
    Column("token", Text, nullable=False),
    Column("started_at", Text, nullable=False),  # ISO 8601 with offset
    Index("issue_locks_started", "started_at"),
)


@dataclass(frozen=True)
class Confirmation:
    case_id: str
    person: str
    account: str
    content_sha256: str
    at: str


@dataclass(frozen=True)
class IssueLock:
    case_id: str
    account: str
    token: str
    started_at: str


def confirmations(catalog: Catalog, case_id: str) -> dict[str, Confirmation]:
    """person → their confirmation of this case (whatever content it was given for)."""
    t = workspace_signatures_table
    rows = catalog._rows(select(t).where(t.c.case_id == case_id))
    return {r["person"]: Confirmation(**dict(r)) for r in rows}


def confirm(catalog: Catalog, *, case_id: str, person: str, account: str, content_sha256: str, at: str) -> None:
    """Record (or renew for new content) `person`'s confirmation; inside the caller's write transaction."""
    t = workspace_signatures_table
    conn = catalog._writing()
    conn.execute(delete(t).where(t.c.case_id == case_id, t.c.person == person))
    conn.execute(insert(t).values(case_id=case_id, person=person, account=account, content_sha256=content_sha256,
                                  at=at))


def current_lock(catalog: Catalog, case_id: str) -> IssueLock | None:
    row = catalog._one(select(issue_locks_table).where(issue_locks_table.c.case_id == case_id))
    return IssueLock(**dict(row)) if row is not None else None


def take_lock(catalog: Catalog, case_id: str, *, account: str, now: datetime) -> tuple[str | None, IssueLock | None]:
    """(token, None) when this caller now holds the case's issue lock; (None, the holder's lock) when another
    issue of the case is running. A lock older than STALE_AFTER is replaced. One write transaction:
    the catalog's write lock (BEGIN IMMEDIATE / the advisory lock) and the primary key order the racers."""
    t = issue_locks_table
    with catalog.write():
        conn = catalog._writing()
        row = conn.execute(select(t).where(t.c.case_id == case_id)).mappings().first()
        if row is not None:
            held = IssueLock(**dict(row))
            if now - datetime.fromisoformat(held.started_at) < STALE_AFTER:
                return None, held
            conn.execute(delete(t).where(t.c.case_id == case_id, t.c.token == held.token))
        token = secrets.token_hex(16)
        conn.execute(insert(t).values(case_id=case_id, account=account, token=token,
                                      started_at=now.isoformat(timespec="seconds")))
    return token, None


def release_lock(catalog: Catalog, case_id: str, token: str) -> None:
    """Give the lock back (only the holder's own: a taken-over lock is not another's to delete)."""
    t = issue_locks_table
    with catalog.write():
        catalog._writing().execute(delete(t).where(t.c.case_id == case_id, t.c.token == token))
