"""The catalog on a PostgreSQL server: everything PostgreSQL-specific in one place, as
`archive/catalog.py` keeps the SQLite-specific parts in one place.

- The engine: psycopg 3 (`postgresql+psycopg://`), a small pool checked before use (`pool_pre_ping`,
  so a connection the server dropped while idle — a restart — is replaced, not reported), a connect
  timeout and a statement timeout from gongu.toml `[store]`.
- Serialising writers across machines: a transaction-level advisory lock taken first in every write
  transaction, where SQLite takes BEGIN IMMEDIATE. Every office appends to one Merkle log; with the
  lock held, `max(seq) + 1` read under READ COMMITTED sees every committed event, so two offices
  ingesting at once can never write two events with one sequence number (a fork).
- Lost connections: `is_connection_lost` says which errors mean the server went away (retried once by
  the catalog where a whole unit can be re-run, then reported as `CatalogUnavailable`).
- A URL is never printed with its password (`redact`); libpq reads PGPASSWORD and ~/.pgpass, so the
  password need not be in gongu.toml at all."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, exc, text
from sqlalchemy.engine import URL, make_url

# One lock for the whole catalog: every write transaction takes it. A fixed 64-bit key derived from a
# name, so no other application sharing the database is likely to pick the same number by accident.
ADVISORY_LOCK_KEY = int.from_bytes(hashlib.sha256(b"gongu-catalog-write").digest()[:8], "big", signed=True)
SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


@dataclass(frozen=True)
class ServerStore:
    """Where and how to reach the shared catalog (gongu.toml `[store]`, gongu/settings.py).

    `files_dir` holds the files that belong with the catalog and must be the same for every office —
    the firm certificate pinned for the log's checkpoints (archive/firmcert.py): the shared package
    tree, which every office mounts."""

    url: str
    files_dir: Path
    pool_size: int = 5
    connect_timeout: int = 10  # seconds to establish a connection
    statement_timeout: int = 120  # seconds any one statement (also waiting for the write lock) may take

    @property
    def label(self) -> str:
        """The URL as people may see it: never with a password."""
        return redact(self.url)


def is_server_url(url: str | None) -> bool:
    if not url:
        return False
    scheme = url.split(":", 1)[0].lower()
    return scheme in SCHEMES


def sqlalchemy_url(url: str) -> URL:
    """`postgresql://…` as written in gongu.toml → the psycopg 3 dialect's URL."""
    return make_url(url).set(drivername="postgresql+psycopg")


def redact(url: str) -> str:
    """The URL with any password replaced by ***; an unparsable URL is not shown at all."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError:
        return "（无法解析的数据库地址）"
    return parsed.render_as_string(hide_password=True)


def server_engine(store: ServerStore) -> Engine:
    # statement_timeout in milliseconds, set per session through libpq's `options`; 0 turns it off.
    options = f"-c statement_timeout={store.statement_timeout * 1000} -c application_name=gongu"
    return create_engine(
        sqlalchemy_url(store.url),
        pool_size=store.pool_size,
        max_overflow=0,
        pool_pre_ping=True,
        connect_args={"connect_timeout": store.connect_timeout, "options": options},
    )


def take_write_lock(conn: Connection) -> None:
    """First statement of a write transaction: wait for the catalog's advisory lock, released by the
    server at COMMIT or ROLLBACK — also when the process or its connection dies."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})


def is_connection_lost(error: BaseException) -> bool:
    """A DBAPI error meaning the server could not be reached or went away (not a bad statement)."""
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated:
            return True
        import psycopg

        orig = error.orig
        if isinstance(orig, psycopg.errors.QueryCanceled):  # statement_timeout: the server is there
            return False
        return isinstance(orig, psycopg.OperationalError) and not refused_login(error)
    return False


# SQLSTATE classes that no retry will fix: 28 — invalid authorization (wrong password, unknown role);
# 3D — the database named in the URL does not exist.
_AUTH_WORDS = ("password authentication failed", "no password supplied", "authentication failed",
               "does not exist", "pg_hba.conf", "permission denied for database")


def refused_login(error: BaseException) -> bool:
    """The server answered and refused these credentials or this database: check the settings, retrying
    later changes nothing."""
    if not isinstance(error, exc.DBAPIError):
        return False
    orig = error.orig
    state = getattr(orig, "sqlstate", None) or ""
    if state.startswith(("28", "3D")):
        return True
    text_ = str(orig).lower()
    return any(word in text_ for word in _AUTH_WORDS) and "connection refused" not in text_


def is_timeout(error: BaseException) -> bool:
    if isinstance(error, exc.DBAPIError):
        import psycopg

        return isinstance(error.orig, psycopg.errors.QueryCanceled)
    return False


def integrity_problems(conn: Connection) -> list[str]:
    """PostgreSQL's counterpart of PRAGMA integrity_check, as far as a client can ask: every index of
    the catalog's tables valid and ready (a failed CREATE INDEX CONCURRENTLY leaves one invalid), and
    each table readable from start to end (a damaged page fails the scan). Page checksums and amcheck
    are the server administrator's (docs/deployment.md)."""
    problems = [f"索引 {name} 无效（invalid index）" for (name,) in conn.execute(text(
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND NOT (i.indisvalid AND i.indisready)"))]
    tables = [r[0] for r in conn.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"))]
    for table in tables:
        try:
            with conn.begin_nested():
                conn.execute(text(f'SELECT count(*) FROM "{table}"'))
        except exc.DBAPIError as error:
            if is_connection_lost(error):
                raise
            problems.append(f"表 {table} 无法完整读取：{error.orig}")
    return problems


__all__ = ["ADVISORY_LOCK_KEY", "ServerStore", "integrity_problems", "is_connection_lost", "is_server_url",
           "refused_login",
           "redact", "server_engine", "sqlalchemy_url", "take_write_lock"]
