"""teller commands: assigned window, recall count, command log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assigned_window", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("recalls", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "command_log",
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("command", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_command_log")),
    )


def downgrade() -> None:
    op.drop_table("command_log")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_column("recalls")
        batch_op.drop_column("assigned_window")
