"""Revision 0005: the people named on a workspace case (its handlers or appraisers, by registered name),
so the need-to-know filter (gongu/access/case_access.py) is one query, never a read of every case file. Rows
of cases uploaded before this revision get the uploading account's person (the one name recorded then)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspace_case_people",
        sa.Column("case_id", sa.Text, sa.ForeignKey("workspace_cases.case_id"), nullable=False),
        sa.Column("person", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("case_id", "person"),
    )
    op.create_index("workspace_case_people_person", "workspace_case_people", ["person", "case_id"])
    op.execute("INSERT INTO workspace_case_people (case_id, person) "
               "SELECT case_id, handler_person FROM workspace_cases")


def downgrade() -> None:
    op.drop_table("workspace_case_people")
