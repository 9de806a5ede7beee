"""Revision 0009: jobs (background jobs: state, step, progress, who, where, result; one active job per
case) — archive/jobs.py."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ACTIVE = sa.text("state IN ('queued', 'running')")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("case_id", sa.Text),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("step", sa.Text, nullable=False, server_default=""),
        sa.Column("done", sa.Integer, nullable=False, server_default="0"),
        sa.Column("total", sa.Integer, nullable=False, server_default="0"),
        sa.Column("started_by", sa.Text, nullable=False),
        sa.Column("started_by_person", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("started_at", sa.Text),
        sa.Column("finished_at", sa.Text),
        sa.Column("heartbeat_at", sa.Text),
        sa.Column("machine", sa.Text),
        sa.Column("worker", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("result", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("cancel_requested", sa.Text),
    )
    op.create_index("jobs_state", "jobs", ["state", "id"])
    op.create_index("jobs_kind", "jobs", ["kind", "id"])
    op.create_index("jobs_started_by", "jobs", ["started_by", "id"])
    # One queued or running job per case: two clicks never start two issues of one case.
    op.create_index("jobs_one_per_case", "jobs", ["case_id"], unique=True,
                    sqlite_where=_ACTIVE, postgresql_where=_ACTIVE)


def downgrade() -> None:
    op.drop_table("jobs")
