"""head office: which store sends a branch's rows (store identity and epoch, the high-water
mark per epoch, the branch's owner and the record of take-overs), issue 16

Revision ID: ho0004
Revises: ho0003
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ho0004"
down_revision = "ho0003"
branch_labels = None
depends_on = None


def _owner_columns() -> tuple[sa.Column, ...]:  # type: ignore[type-arg]
    """Frozen copy of schema.branch's columns added at this revision."""
    return (
        sa.Column("owner_store_id", sa.String(length=36), nullable=True),
        sa.Column("owner_epoch", sa.String(length=36), nullable=True),
        sa.Column("owner_since", sa.DateTime(timezone=True), nullable=True),
    )


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    # frozen copies of schema.store_epoch and schema.branch_takeover at this revision
    op.create_table(
        "store_epoch",
        sa.Column("branch_code", sa.String(length=16), nullable=False),
        sa.Column("store_id", sa.String(length=36), nullable=False),
        sa.Column("epoch", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False, server_default=""),
        sa.Column("host", sa.String(length=120), nullable=False, server_default=""),
        sa.Column("place", sa.String(length=64), nullable=False, server_default=""),
        sa.Column("high_water", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("last_change", sa.String(length=160), nullable=False, server_default=""),
        sa.Column("started_at", ts, nullable=True),
        sa.Column("first_sync_at", ts, nullable=True),
        sa.Column("last_sync_at", ts, nullable=True),
        sa.Column("client_version", sa.String(length=20), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("branch_code", "store_id", "epoch", name="pk_store_epoch"),
    )
    op.create_table(
        "branch_takeover",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("branch_code", sa.String(length=16), nullable=False),
        sa.Column("at", ts, nullable=False, server_default=sa.func.now()),
        sa.Column("how", sa.String(length=16), nullable=False),
        sa.Column("from_store_id", sa.String(length=36), nullable=True),
        sa.Column("from_epoch", sa.String(length=36), nullable=True),
        sa.Column("from_host", sa.String(length=120), nullable=False, server_default=""),
        sa.Column("to_store_id", sa.String(length=36), nullable=False),
        sa.Column("to_epoch", sa.String(length=36), nullable=False),
        sa.Column("to_host", sa.String(length=120), nullable=False, server_default=""),
        sa.Column("note", sa.String(length=200), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name="pk_branch_takeover"),
    )
    op.create_index("ix_branch_takeover_branch_code", "branch_takeover", ["branch_code", "at"])
    # ho0001 builds its tables from schema.py as it stands, so a database created by this
    # program's ho0001 already has the owner columns; one created by an older program does not
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("branch")}
    for column in _owner_columns():
        if column.name not in have:
            op.add_column("branch", column)


def downgrade() -> None:
    for column in reversed(_owner_columns()):
        op.drop_column("branch", column.name)
    op.drop_table("branch_takeover")
    op.drop_table("store_epoch")
