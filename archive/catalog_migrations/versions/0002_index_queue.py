"""Revision 0002: index_queue — index work recorded in the same transaction as the change it follows.
A crash after the catalog commit and before the index update leaves the event
queued; the next command (or `gongu index sync`) applies it and removes it.

A catalog migrated from 0001 may hold packages the index never saw; `gongu index sync` compares the
catalog with the index and catches up, so nothing needs back-filling here."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_queue",
        sa.Column("seq", sa.Integer, sa.ForeignKey("events.seq"), primary_key=True, autoincrement=False),
        sa.Column("queued_at", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("index_queue")
