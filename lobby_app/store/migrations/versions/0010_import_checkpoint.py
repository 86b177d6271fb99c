"""where a customer-directory import stopped, to continue it (issue 17)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a frozen copy of store.directory.CHECKPOINTS at this revision: one row per file being
    # imported (its SHA-256), moved by each batch's transaction, deleted when it finishes
    op.create_table(
        "import_checkpoint",
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("byte_offset", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("fingerprint", name="pk_import_checkpoint"),
    )


def downgrade() -> None:
    op.drop_table("import_checkpoint")
