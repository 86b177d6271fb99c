"""branch set-up: counter kinds, retiring, signed-in teller; staff lock; walk-in registration

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# frozen copy of the kind rule at this revision (lobby_app.core.staffing.guess_counter_kind)
KIND_FROM_ZONES = (
    "CASE WHEN ',' || zones || ',' LIKE '%,vip,%' THEN"
    " (CASE WHEN ',' || zones || ',' LIKE '%,closed_counter,%' THEN 'vip_cash' ELSE 'vip_room' END)"
    " WHEN zones LIKE 'open_counter%' THEN 'open_service'"
    " WHEN zones LIKE 'self_service%' THEN 'self_service'"
    " ELSE 'closed_cash' END"
)


def upgrade() -> None:
    with op.batch_alter_table("counter", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="closed_cash")
        )
        batch_op.add_column(sa.Column("retired_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("staff_no", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("signed_in_at", sa.DateTime(), nullable=True))
    op.execute(f"UPDATE counter SET kind = {KIND_FROM_ZONES}")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("locked", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=16), nullable=False, server_default="directory")
        )
    op.create_table(
        "registration",
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
        sa.Column("consent_at", sa.DateTime(), nullable=False),
        sa.Column("registered_by", sa.String(length=32), nullable=False),
        sa.Column("registered_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_registration"),
    )
    op.create_index("ix_registration_customer_id", "registration", ["customer_id"])
    # registrations go up to head office with the nightly sync (see 0006)
    for event, ref, kind in (
        ("INSERT", "NEW", "u"),
        ("UPDATE", "NEW", "u"),
        ("DELETE", "OLD", "d"),
    ):
        op.execute(
            f"CREATE TRIGGER trg_registration_{event.lower()}_log AFTER {event} ON registration "
            f"BEGIN INSERT INTO change_log (tbl, row_id, op) VALUES "
            f"('registration', {ref}.id, '{kind}'); END"
        )


def downgrade() -> None:
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS trg_registration_{event}_log")
    op.drop_index("ix_registration_customer_id", table_name="registration")
    op.drop_table("registration")
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_column("source")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_column("locked")
    with op.batch_alter_table("counter", schema=None) as batch_op:
        batch_op.drop_column("signed_in_at")
        batch_op.drop_column("staff_no")
        batch_op.drop_column("retired_at")
        batch_op.drop_column("kind")
