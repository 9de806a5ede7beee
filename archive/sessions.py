"""Server-side web sessions: the signed cookie carries only a random token; the session lives here, in
the catalog, so logging out, a password or role change and disabling end it at once for every copy of
the cookie, across server workers and offices (revision 0006)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, Table, Text, delete, insert, select

from archive.catalog import Catalog, metadata

web_sessions_table = Table(
    "web_sessions", metadata,
    Column("token_hash", Text, primary_key=True),  # sha256 of the cookie's token: a read of the table logs no one in
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("created_at", Text, nullable=False),
)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(catalog: Catalog, account_id: int, now: datetime, *, max_hours: int | None = None) -> str:
    """A new session of the account; returns the random token the signed cookie carries. `max_hours`:
    the account's sessions older than this are deleted on the way (they have expired anyway)."""
    token = secrets.token_urlsafe(32)
    table = web_sessions_table
    with catalog.write():
        conn = catalog._writing()
        if max_hours is not None:
            rows = conn.execute(select(table.c.token_hash, table.c.created_at).where(table.c.account_id == account_id))
            stale = [r[0] for r in rows if now - datetime.fromisoformat(r[1]) > timedelta(hours=max_hours)]
            if stale:
                conn.execute(delete(table).where(table.c.token_hash.in_(stale)))
        conn.execute(insert(table).values(token_hash=_token_hash(token), account_id=account_id,
                                          created_at=now.isoformat()))
    return token


def session_account(catalog: Catalog, token: str) -> int | None:
    """The account of a live session, None when the session was ended (or never was)."""
    value = catalog._scalar(select(web_sessions_table.c.account_id)
                            .where(web_sessions_table.c.token_hash == _token_hash(token)))
    return int(value) if value is not None else None


def end_session(catalog: Catalog, token: str) -> None:
    with catalog.write():
        catalog._writing().execute(delete(web_sessions_table).where(web_sessions_table.c.token_hash == _token_hash(token)))


def end_all(conn: Any, account_id: int) -> None:
    """End every session of the account (each copy of its cookies stops working), inside the caller's
    write transaction: the change that ends them and the ending commit together."""
    conn.execute(delete(web_sessions_table).where(web_sessions_table.c.account_id == account_id))
