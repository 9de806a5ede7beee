"""Running the archive's behavioural suites against both catalogs (issue 16 §3): the embedded SQLite
file and a real PostgreSQL 15 server (tests/pgkit.py, the `pg_cluster` fixture).

A suite opts in with `store_kind` (a module-scoped, parametrised fixture: each module prepares its home
once per store, not once per test) and passes `store_url(...)` to `ingested_home`/`write_home`. A
prepared home is copied per test by `archivekit.copied_home`, which for a server catalog clones the
database (`CREATE DATABASE … TEMPLATE …`, milliseconds) and points the copy's gongu.toml at the clone.
`execute` lets a test stand in for someone editing the catalog behind the archive's back, on either."""

from __future__ import annotations

import re
import tomllib
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

STORES = ("sqlite", "postgresql")


@pytest.fixture(scope="module", params=STORES)
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def store_url(request: pytest.FixtureRequest, kind: str) -> str | None:
    """None for SQLite (the default catalog file), else a new empty database on the shared server."""
    if kind == "sqlite":
        return None
    return str(request.getfixturevalue("pg_cluster").create_database())


def home_store_url(home: Path) -> str | None:
    data = tomllib.loads((home / "gongu.toml").read_text(encoding="utf-8"))
    return data.get("store", {}).get("url")


def _engine(home: Path) -> Any:
    url = home_store_url(home)
    if url is None:
        return create_engine(f"sqlite:///{home / 'archive' / 'catalog.sqlite'}")
    from archive.catalog_server import sqlalchemy_url

    return create_engine(sqlalchemy_url(url))


def execute(home: Path, statement: str, **params: Any) -> list[Any]:
    """Run one SQL statement (named `:params`) on the home's catalog, committed; rows if it returns any."""
    engine = _engine(home)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return list(result) if result.returns_rows else []
    finally:
        engine.dispose()


def pin_file(home: Path) -> Path:
    """Where the firm certificate is pinned for this home: beside the SQLite file, or in the shared
    package tree for a server catalog (archive/firmcert.py)."""
    from archive.firmcert import PIN_FILE

    folder = home / "archive" / ("packages" if home_store_url(home) else "")
    return folder / PIN_FILE


def clone_database(url: str) -> str:
    """A new database on the same server with the contents of `url`'s (no one may be connected to it)."""
    import psycopg

    from archive.catalog_server import sqlalchemy_url

    parsed = sqlalchemy_url(url)
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{parsed.database}"')
    return parsed.set(drivername="postgresql", database=name).render_as_string(hide_password=False)


def point_home_at(home: Path, url: str) -> None:
    """Rewrite the `[store] url` of home's gongu.toml."""
    config = home / "gongu.toml"
    text_ = config.read_text(encoding="utf-8")
    config.write_text(re.sub(r'(?m)^url = ".*"$', f'url = "{url}"', text_, count=1), encoding="utf-8")
