"""Revision 0011 (after 0010, the work queue's assignments): the reminders the daily deadline scan
recorded, one per person, case step and Beijing date (archive/reminders.py), and an optional e-mail
address on each account for the reminder digest."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("email", sa.Text))
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("person", sa.Text, nullable=False),
        sa.Column("case_id", sa.Text, nullable=False),
        sa.Column("stage", sa.Text, nullable=False),
        sa.Column("day", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("stage_title", sa.Text, nullable=False),
        sa.Column("due_at", sa.Text),
        sa.Column("time_left", sa.Text, nullable=False),
        sa.Column("overdue", sa.Integer, nullable=False),
        sa.Column("estimated", sa.Integer, nullable=False),
        sa.Column("clause", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.Text, nullable=False),
        sa.Column("sent_at", sa.Text),
        sa.Column("claim", sa.Text),
        sa.Column("claimed_at", sa.Text),
        sa.Column("error", sa.Text),
        sa.UniqueConstraint("person", "case_id", "stage", "day", name="reminders_once_a_day"),
    )
    op.create_index("reminders_day_person", "reminders", ["day", "person"])


def downgrade() -> None:
    op.drop_table("reminders")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("email")
