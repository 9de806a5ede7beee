"""Revision 0007: archive_identity — the archive id and the catalog's fingerprint written by
`gongu archive init`, which the package tree's gongu-archive.json must match before anything is written
there (archive/identity.py)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "archive_identity",
        sa.Column("archive_id", sa.Text, primary_key=True),
        sa.Column("catalog_fingerprint", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("archive_identity")
