"""Revision 0001: the catalog as it was before schema versioning (packages, holds, disposals,
tombstones, the event log and its signed checkpoints). A catalog holding exactly these tables and no
alembic_version is recognised as this revision and stamped (archive.catalog.Catalog._migrate).

Frozen: later changes go into new revisions, never here. (One amendment made before any PostgreSQL
catalog existed: `byte_count` is BIGINT on PostgreSQL — SQLite's INTEGER was 64-bit all
along, so SQLite catalogs are untouched.)"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "packages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Text, nullable=False),
        sa.Column("report_number", sa.Text, nullable=False),
        sa.Column("rel_path", sa.Text, nullable=False, unique=True),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("statutory", sa.Integer, nullable=False),
        sa.Column("retention_class", sa.Text, nullable=False),
        sa.Column("closed_at", sa.Text, nullable=False),
        sa.Column("retention_until", sa.Text, nullable=False),
        sa.Column("package_hash", sa.Text, nullable=False),
        sa.Column("payload_hash", sa.Text, nullable=False),
        sa.Column("file_count", sa.Integer, nullable=False),
        sa.Column("byte_count", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=False),
        sa.Column("ingested_at", sa.Text, nullable=False),
        sa.Column("ingested_by", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False, server_default="active"),
        sa.CheckConstraint("state IN ('active', 'disposed')"),
        sa.UniqueConstraint("case_id", "report_number"),
    )
    op.create_table(
        "holds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("reference", sa.Text, nullable=False),
        sa.Column("placed_by", sa.Text, nullable=False),
        sa.Column("placed_at", sa.Text, nullable=False),
        sa.Column("released_by", sa.Text),
        sa.Column("released_at", sa.Text),
        sa.Column("release_reason", sa.Text),
        sa.CheckConstraint("kind IN ('dispute', 'litigation', 'regulator')"),
    )
    op.create_table(
        "disposals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("proposed_by", sa.Text, nullable=False),
        sa.Column("proposed_at", sa.Text, nullable=False),
        sa.Column("approved_by", sa.Text),
        sa.Column("approved_at", sa.Text),
        sa.Column("executed_by", sa.Text),
        sa.Column("executed_at", sa.Text),
        sa.CheckConstraint("state IN ('proposed', 'approved', 'executed', 'withdrawn')"),
        sa.CheckConstraint("approved_by IS NULL OR approved_by <> proposed_by"),
    )
    op.create_table(
        "tombstones",
        sa.Column("package_id", sa.Integer, sa.ForeignKey("packages.id"), primary_key=True, autoincrement=False),
        sa.Column("case_id", sa.Text, nullable=False),
        sa.Column("report_number", sa.Text, nullable=False),
        sa.Column("rel_path", sa.Text, nullable=False),
        sa.Column("package_hash", sa.Text, nullable=False),
        sa.Column("metadata", sa.Text, nullable=False),
        sa.Column("manifests", sa.Text, nullable=False),
        sa.Column("approvals", sa.Text, nullable=False),
        sa.Column("disposed_at", sa.Text, nullable=False),
        sa.Column("disposed_by", sa.Text, nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("case_id", sa.Text),
        sa.Column("report_number", sa.Text),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("entry", sa.Text, nullable=False),
        sa.Column("leaf_hash", sa.Text, nullable=False),
    )
    op.create_index("events_case", "events", ["case_id"])
    op.create_table(
        "checkpoints",
        sa.Column("tree_size", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("root_hash", sa.Text, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for name in ("checkpoints", "events", "tombstones", "disposals", "holds", "packages"):
        op.drop_table(name)
