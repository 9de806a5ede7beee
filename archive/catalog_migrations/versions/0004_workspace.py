"""Revision 0004: the web workspace's cases in progress — workspace_cases (status, handler
account and the columns the case list shows and searches, indexed) and workspace_comments (each review
decision made in the workspace, with the account)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspace_cases",
        sa.Column("case_id", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("handler", sa.Text, nullable=False),
        sa.Column("handler_person", sa.Text, nullable=False),
        sa.Column("case_name", sa.Text, nullable=False),
        sa.Column("project", sa.Text, nullable=False),
        sa.Column("insured", sa.Text, nullable=False),
        sa.Column("report_number", sa.Text, nullable=False),
        sa.Column("next_level", sa.Text),
        sa.Column("search_text", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
        sa.CheckConstraint("status IN ('draft', 'in_review', 'returned', 'issued', 'archived')"),
    )
    op.create_index("workspace_cases_status", "workspace_cases", ["status", "updated_at"])
    op.create_index("workspace_cases_handler", "workspace_cases", ["handler", "updated_at"])
    op.create_index("workspace_cases_kind", "workspace_cases", ["kind", "updated_at"])
    op.create_index("workspace_cases_updated", "workspace_cases", ["updated_at"])
    op.create_index("workspace_cases_queue", "workspace_cases", ["status", "next_level", "updated_at"])
    op.create_table(
        "workspace_comments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Text, sa.ForeignKey("workspace_cases.case_id"), nullable=False),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("decision", sa.Text, nullable=False),
        sa.Column("account", sa.Text, nullable=False),
        sa.Column("person", sa.Text, nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("at", sa.Text, nullable=False),
        sa.CheckConstraint("level IN ('proofread', 'recheck', 'approve')"),
        sa.CheckConstraint("decision IN ('approve', 'return')"),
    )
    op.create_index("workspace_comments_case", "workspace_comments", ["case_id", "id"])


def downgrade() -> None:
    op.drop_table("workspace_comments")
    op.drop_table("workspace_cases")
