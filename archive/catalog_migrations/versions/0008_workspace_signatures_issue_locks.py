"""Revision 0008: workspace_signatures (each signer's own confirmation of a case's content, 「确认署名」) and
issue_locks (one issuance of a case at a time, across web workers and offices) — archive/workspace_steps.py."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspace_signatures",
        sa.Column("case_id", sa.Text, sa.ForeignKey("workspace_cases.case_id"), nullable=False),
        sa.Column("person", sa.Text, nullable=False),
        sa.Column("account", sa.Text, nullable=False),
        sa.Column("content_sha256", sa.Text, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("case_id", "person"),
    )
    op.create_table(
        "issue_locks",
        sa.Column("case_id", sa.Text, primary_key=True),
        sa.Column("account", sa.Text, nullable=False),
        sa.Column("token", sa.Text, nullable=False),
        sa.Column("started_at", sa.Text, nullable=False),
    )
    op.create_index("issue_locks_started", "issue_locks", ["started_at"])


def downgrade() -> None:
    op.drop_table("issue_locks")
    op.drop_table("workspace_signatures")
