"""initial branch store

Revision ID: 0001
Revises:
Create Date: 2026-11-22 16:14:38.836779
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_event",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index("ix_audit_event_at", ["at"], unique=False)

    op.create_table(
        "business_type",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("zone", sa.String(length=16), nullable=False),
        sa.Column("counter_zone", sa.String(length=16), nullable=True),
        sa.Column("service_minutes", sa.Float(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_business_type")),
    )
    op.create_table(
        "counter",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("window_no", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("zones", sa.String(length=200), nullable=False),
        sa.Column("vip_window", sa.Boolean(), nullable=False),
        sa.Column("priority_window", sa.Boolean(), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counter")),
        sa.UniqueConstraint("window_no", name=op.f("uq_counter_window_no")),
    )
    op.create_table(
        "customer",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("customer_no", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("gender", sa.String(length=1), nullable=True),
        sa.Column("id_hash", sa.String(length=64), nullable=True),
        sa.Column("id_last4", sa.String(length=4), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=True),
        sa.Column("phone_prefix3", sa.String(length=3), nullable=False),
        sa.Column("phone_last4", sa.String(length=4), nullable=False),
        sa.Column("card_first6", sa.String(length=6), nullable=False),
        sa.Column("card_last4", sa.String(length=4), nullable=False),
        sa.Column("assets_fen", sa.BigInteger(), nullable=False),
        sa.Column("loans_fen", sa.BigInteger(), nullable=False),
        sa.Column("avg_assets_3m_fen", sa.BigInteger(), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("vip_card", sa.String(length=16), nullable=True),
        sa.Column("vip_special", sa.Boolean(), nullable=False),
        sa.Column("manager", sa.String(length=40), nullable=False),
        sa.Column("prospect", sa.Boolean(), nullable=False),
        sa.Column("pinyin_full", sa.String(length=120), nullable=False),
        sa.Column("pinyin_initials", sa.String(length=40), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer")),
        sa.UniqueConstraint("customer_no", name=op.f("uq_customer_customer_no")),
    )
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_card_last4"), ["card_last4"], unique=False)
        batch_op.create_index(batch_op.f("ix_customer_id_hash"), ["id_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_customer_id_last4"), ["id_last4"], unique=False)
        batch_op.create_index(batch_op.f("ix_customer_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_customer_phone_hash"), ["phone_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_customer_phone_last4"), ["phone_last4"], unique=False)
        batch_op.create_index(batch_op.f("ix_customer_pinyin_full"), ["pinyin_full"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_customer_pinyin_initials"), ["pinyin_initials"], unique=False
        )

    op.create_table(
        "number_counter",
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("prefix", sa.String(length=4), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("business_date", "prefix", name=op.f("pk_number_counter")),
    )
    op.create_table(
        "setting",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=2000), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_setting")),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("staff_no", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("staff_no", name=op.f("uq_staff_staff_no")),
    )
    op.create_table(
        "ticket",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("number", sa.String(length=12), nullable=False),
        sa.Column("prefix", sa.String(length=4), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("day_seq", sa.Integer(), nullable=False),
        sa.Column("business_code", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=True),
        sa.Column("zone", sa.String(length=16), nullable=False),
        sa.Column("suggested_zone", sa.String(length=16), nullable=False),
        sa.Column("zone_override_reason", sa.String(length=200), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=True),
        sa.Column("vip_card", sa.String(length=16), nullable=True),
        sa.Column("prospect", sa.Boolean(), nullable=False),
        sa.Column("vip", sa.Boolean(), nullable=False),
        sa.Column("vip_reason", sa.String(length=200), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=True),
        sa.Column("priority_reason", sa.String(length=200), nullable=False),
        sa.Column("green_channel", sa.Boolean(), nullable=False),
        sa.Column("greeting_note", sa.Text(), nullable=False),
        sa.Column("needs_note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("called_at", sa.DateTime(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("window_no", sa.Integer(), nullable=True),
        sa.Column("issued_by", sa.String(length=40), nullable=False),
        sa.Column("ahead_at_issue", sa.Integer(), nullable=False),
        sa.Column("estimated_wait_min", sa.Integer(), nullable=False),
        sa.Column("print_status", sa.String(length=16), nullable=False),
        sa.Column("print_error", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_code"],
            ["business_type.code"],
            name=op.f("fk_ticket_business_code_business_type"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_ticket_customer_id_customer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket")),
        sa.UniqueConstraint("business_date", "number", name="uq_ticket_business_date_number"),
    )
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ticket_customer_issued", ["customer_id", "issued_at"], unique=False
        )
        batch_op.create_index(
            "ix_ticket_day_status_zone", ["business_date", "status", "zone"], unique=False
        )

    op.create_table(
        "ticket_event",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("ticket_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
            name=op.f("fk_ticket_event_ticket_id_ticket"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_event")),
    )
    with op.batch_alter_table("ticket_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_event_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "ticket_need",
        sa.Column("ticket_id", sa.String(length=36), nullable=False),
        sa.Column("tag", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
            name=op.f("fk_ticket_need_ticket_id_ticket"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", "tag", name=op.f("pk_ticket_need")),
    )


def downgrade() -> None:

    op.drop_table("ticket_need")
    with op.batch_alter_table("ticket_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_event_ticket_id"))

    op.drop_table("ticket_event")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_day_status_zone")
        batch_op.drop_index("ix_ticket_customer_issued")

    op.drop_table("ticket")
    op.drop_table("staff")
    op.drop_table("setting")
    op.drop_table("number_counter")
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_pinyin_initials"))
        batch_op.drop_index(batch_op.f("ix_customer_pinyin_full"))
        batch_op.drop_index(batch_op.f("ix_customer_phone_last4"))
        batch_op.drop_index(batch_op.f("ix_customer_phone_hash"))
        batch_op.drop_index(batch_op.f("ix_customer_name"))
        batch_op.drop_index(batch_op.f("ix_customer_id_last4"))
        batch_op.drop_index(batch_op.f("ix_customer_id_hash"))
        batch_op.drop_index(batch_op.f("ix_customer_card_last4"))

    op.drop_table("customer")
    op.drop_table("counter")
    op.drop_table("business_type")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_at")

    op.drop_table("audit_event")
