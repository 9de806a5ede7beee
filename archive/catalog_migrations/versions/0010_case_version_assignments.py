"""Revision 0010: a version on each workspace case (raised on every change, so two people deciding the same
case at once cannot both succeed: the second is told the case changed), the time the case's handler was
last assigned (the 4.4 clock starts there), and who holds each duty on a case (workspace_assignments:
handler / appraiser / each review level) as a supervisor assigned it — archive/workspace_assign.py."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("workspace_cases", sa.Column("version", sa.Integer, nullable=False, server_default="0"))
    op.add_column("workspace_cases", sa.Column("assigned_at", sa.Text))
    op.create_table(
        "workspace_assignments",
        sa.Column("case_id", sa.Text, sa.ForeignKey("workspace_cases.case_id"), nullable=False),
        sa.Column("duty", sa.Text, nullable=False),
        sa.Column("account", sa.Text, nullable=False),
        sa.Column("person", sa.Text, nullable=False),
        sa.Column("assigned_by", sa.Text, nullable=False),
        sa.Column("assigned_at", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("case_id", "duty"),
        sa.CheckConstraint("duty IN ('handler', 'appraiser', 'proofread', 'recheck', 'approve')"),
    )
    op.create_index("workspace_assignments_person", "workspace_assignments", ["person", "case_id"])


def downgrade() -> None:
    op.drop_table("workspace_assignments")
    with op.batch_alter_table("workspace_cases") as batch:
        batch.drop_column("assigned_at")
        batch.drop_column("version")
