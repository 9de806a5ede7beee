"""Revision 0003: web workspace accounts — accounts, their roles, and the login rate-limit
state (per username + client), in the catalog so the trail and the accounts share one database."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.Text, nullable=False, unique=True),
        sa.Column("person", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("disabled", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.Text, nullable=False),
    )
    op.create_table(
        "account_roles",
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "role"),
    )
    op.create_table(
        "login_failures",
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("client", sa.Text, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.Text),
        sa.Column("last_failure", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("username", "client"),
    )


def downgrade() -> None:
    op.drop_table("login_failures")
    op.drop_table("account_roles")
    op.drop_table("accounts")
