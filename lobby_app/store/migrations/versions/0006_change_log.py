"""change log for the nightly sync (filled by triggers), sync state

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# frozen copy of the tables and keys at this revision
UP_TABLES = {
    "ticket": "{r}.id",
    "ticket_need": "{r}.ticket_id || '|' || {r}.tag",
    "ticket_event": "{r}.id",
    "referral": "{r}.id",
    "referral_credit": "{r}.referral_id || '|' || {r}.staff_no",
    "day_close": "{r}.id",
    "audit_event": "{r}.id",
    "counter_event": "CAST({r}.id AS TEXT)",
}


def upgrade() -> None:
    op.create_table(
        "change_log",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tbl", sa.String(length=32), nullable=False),
        sa.Column("row_id", sa.String(length=80), nullable=False),
        sa.Column("op", sa.String(length=1), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_change_log"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "sync_state",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_sync_state"),
    )
    for table, key in UP_TABLES.items():
        # what is already in the store goes up with the first sync
        op.execute(
            f"INSERT INTO change_log (tbl, row_id, op) SELECT '{table}', {key.format(r=table)}, 'u'"
            f" FROM {table}"
        )
        for event, ref, kind in (
            ("INSERT", "NEW", "u"),
            ("UPDATE", "NEW", "u"),
            ("DELETE", "OLD", "d"),
        ):
            op.execute(
                f"CREATE TRIGGER trg_{table}_{event.lower()}_log AFTER {event} ON {table} "
                f"BEGIN INSERT INTO change_log (tbl, row_id, op) VALUES "
                f"('{table}', {key.format(r=ref)}, '{kind}'); END"
            )


def downgrade() -> None:
    for table in UP_TABLES:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_{event}_log")
    op.drop_table("sync_state")
    op.drop_table("change_log")
