"""Revision 0013 (after 0012, the due facts): cases written in the browser. Every save of a case file
made through the workspace's forms keeps the whole file as it was saved, with who, when, which section and
which fields changed (`workspace_case_versions`, archive/workspace_versions.py); a refused save (two
people on one section) is kept beside them, so nothing typed is lost. `workspace_case_numbers` holds the
last sequence number given under each rendered case-id prefix (the firm's numbering pattern)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspace_case_versions",
        sa.Column("case_id", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("account", sa.Text, nullable=False),
        sa.Column("person", sa.Text, nullable=False),
        sa.Column("section", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("paths", sa.Text, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("case_id", "version"),
        sa.CheckConstraint("action IN ('created', 'saved', 'refused', 'restored', 'uploaded')"),
    )
    op.create_table(
        "workspace_case_numbers",
        sa.Column("prefix", sa.Text, primary_key=True),
        sa.Column("last", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("workspace_case_numbers")
    op.drop_table("workspace_case_versions")
