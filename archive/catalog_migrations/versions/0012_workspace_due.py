"""Revision 0012 (after 0011, the reminders): the due facts of the workspace's cases in progress — one row
per open step with its holder, due time and clause (archive/workspace_due.py), so the work queue is one
indexed query. Nothing is computed here (the rules that compute the rows live above the archive): each case in progress
is marked `due_pending` and computed on the queue's next read, or all at once by `gongu queue --refresh`."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspace_due",
        sa.Column("case_id", sa.Text, nullable=False),
        sa.Column("stage", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("person", sa.Text, nullable=False),
        sa.Column("due_at", sa.Text),
        sa.Column("due_day", sa.Text),
        sa.Column("estimated", sa.Integer, nullable=False),
        sa.Column("clause", sa.Text, nullable=False),
        sa.Column("computed_at", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("case_id", "stage"),
    )
    op.create_index("workspace_due_order", "workspace_due", ["due_at", "case_id", "stage"])
    op.create_index("workspace_due_person", "workspace_due", ["person", "kind", "due_at"])
    op.create_index("workspace_due_stage", "workspace_due", ["kind", "stage", "due_at"])
    # every case in progress waits for its rows: the queue's first read computes them from the case files
    op.add_column("workspace_cases", sa.Column("due_pending", sa.Integer, nullable=False, server_default="0"))
    op.create_index("workspace_cases_due_pending", "workspace_cases", ["due_pending"])
    op.execute("UPDATE workspace_cases SET due_pending = 1 WHERE status <> 'archived'")


def downgrade() -> None:
    op.drop_index("workspace_cases_due_pending", "workspace_cases")
    with op.batch_alter_table("workspace_cases") as batch:
        batch.drop_column("due_pending")
    op.drop_table("workspace_due")
