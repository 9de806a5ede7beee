"""Revision 0015 (after 0014, check codes): the work ledger's row of each archived forensic case
(archive/ledger_rows.py), so the ledger page reads the catalog instead of every package. Filled at ingest;
packages ingested before this revision get theirs from `gongu archive fsck --repair` (or when the ledger
is first read)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_rows",
        sa.Column("package_id", sa.Integer, sa.ForeignKey("packages.id"), primary_key=True, autoincrement=False),
        sa.Column("received_on", sa.Text, nullable=False),
        sa.Column("issued_on", sa.Text, nullable=False),
        sa.Column("cells", sa.Text, nullable=False),
        sa.Column("warnings", sa.Text, nullable=False),
        sa.Column("computed_with", sa.Text, nullable=False),
    )
    op.create_index("ledger_rows_received", "ledger_rows", ["received_on"])


def downgrade() -> None:
    op.drop_index("ledger_rows_received", table_name="ledger_rows")
    op.drop_table("ledger_rows")
