"""Revision 0014 (after 0013, cases written in the browser): check codes of issued documents. One row per
code filled at ingest (archive/check_codes.py) — report number, kind and title, Beijing issue date, issuer, pages,
size, SHA-256 and path of the sealed PDF in its package — kept when the package is destroyed, with the
withdrawal (who, when, why) once an archivist withdraws the document; and the public check page's
per-client request counter (`check_rate`), shared by every web process. Packages ingested before this
revision get their rows from `gongu archive fsck --repair` (it reads each package's own files)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "check_codes",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("case_id", sa.Text, nullable=False),
        sa.Column("package_id", sa.Integer, sa.ForeignKey("packages.id"), nullable=False),
        sa.Column("report_number", sa.Text, nullable=False),
        sa.Column("supersedes", sa.Text),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("issued_on", sa.Text, nullable=False),
        sa.Column("issuer", sa.Text, nullable=False),
        sa.Column("pages", sa.Integer),
        sa.Column("size", sa.Integer),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("path", sa.Text),
        sa.Column("withdrawn_at", sa.Text),
        sa.Column("withdrawn_by", sa.Text),
        sa.Column("withdrawn_reason", sa.Text),
    )
    op.create_index("check_codes_supersedes", "check_codes", ["case_id", "supersedes"])
    op.create_table(
        "check_rate",
        sa.Column("client", sa.Text, primary_key=True),
        sa.Column("window_start", sa.Text, nullable=False),
        sa.Column("requests", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("check_rate")
    op.drop_index("check_codes_supersedes", table_name="check_codes")
    op.drop_table("check_codes")
