"""Revision 0006: server-side web sessions (a copied cookie dies with logout, password or role change,
disable), whether an account's password is its person's own, and the grants (new account, role, a
password set by admin) a second admin confirms before the person takes part in two-person decisions."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # accounts from before this revision are in use already: their passwords count as their own
    op.add_column("accounts", sa.Column("password_own", sa.Integer, nullable=False, server_default="1"))
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.Text, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
    )
    op.create_index("web_sessions_account", "web_sessions", ["account_id"])
    op.create_table(
        "account_grants",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("what", sa.Text, nullable=False),
        sa.Column("granted_at", sa.Text, nullable=False),
        sa.Column("granted_by", sa.Text, nullable=False),
        sa.Column("confirmed_by", sa.Text),
        sa.Column("confirmed_at", sa.Text),
    )
    op.create_index("account_grants_account", "account_grants", ["account_id"])


def downgrade() -> None:
    op.drop_table("account_grants")
    op.drop_table("web_sessions")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("password_own")
