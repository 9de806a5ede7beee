"""Alembic environment for the catalog, run programmatically by archive.catalog.Catalog (no alembic.ini):
the open connection, already inside the catalog's write transaction, arrives in config.attributes."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
# render_as_batch: SQLite alters tables by copy-and-rename; PostgreSQL gets plain ALTER TABLE.
context.configure(connection=connection, target_metadata=None, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
