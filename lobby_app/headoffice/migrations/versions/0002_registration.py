"""head office: walk-ins registered at the branches (up table ``registration``)

Revision ID: ho0002
Revises: ho0001
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ho0002"
down_revision = "ho0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a frozen copy of schema.registration at this revision
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "registration",
        sa.Column("branch_code", sa.String(length=16), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("customer_no", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("gender", sa.String(length=1), nullable=True),
        sa.Column("id_hash", sa.String(length=64), nullable=True),
        sa.Column("id_last4", sa.String(length=4), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("phone_prefix3", sa.String(length=3), nullable=False),
        sa.Column("phone_last4", sa.String(length=4), nullable=False),
        sa.Column("consent_at", ts, nullable=False),
        sa.Column("registered_by", sa.String(length=32), nullable=False),
        sa.Column("registered_at", ts, nullable=False),
        sa.Column("synced_at", ts, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("branch_code", "id", name="pk_registration"),
    )
    op.create_index(
        "ix_registration_registered_at", "registration", ["registered_at", "branch_code"]
    )
    op.create_index("ix_registration_phone_hash", "registration", ["phone_hash"])
    op.create_index("ix_registration_id_hash", "registration", ["id_hash"])


def downgrade() -> None:
    op.drop_table("registration")
