"""day close: frozen figures, window open/close history, who served, first call, ratings

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_called_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("served_by", sa.String(length=32), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("rating", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("settle_reason", sa.String(length=200), nullable=False, server_default="")
        )
    # tickets called before this version: their first call is the earliest "called" event
    op.execute(
        "update ticket set first_called_at = (select min(e.at) from ticket_event e"
        " where e.ticket_id = ticket.id and e.kind = 'called') where called_at is not null"
    )
    op.create_index("ix_ticket_business_date_window_no", "ticket", ["business_date", "window_no"])
    op.create_table(
        "day_close",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("settled", sa.Text(), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_day_close"),
        sa.UniqueConstraint("business_date", "version", name="uq_day_close_business_date_version"),
    )
    op.create_table(
        "counter_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("window_no", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("actor", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_counter_event"),
    )
    op.create_index("ix_counter_event_window_no", "counter_event", ["window_no"])


def downgrade() -> None:
    op.drop_index("ix_counter_event_window_no", table_name="counter_event")
    op.drop_table("counter_event")
    op.drop_table("day_close")
    op.drop_index("ix_ticket_business_date_window_no", table_name="ticket")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_column("settle_reason")
        batch_op.drop_column("rating")
        batch_op.drop_column("served_by")
        batch_op.drop_column("first_called_at")
