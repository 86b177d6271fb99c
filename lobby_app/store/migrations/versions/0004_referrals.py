"""referrals, their credit, marketing sentences, staff location

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from lobby_app.core.marketing import DEFAULT_RULES

    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("location", sa.String(length=40), nullable=False, server_default="")
        )
    op.create_table(
        "referral",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("referral_no", sa.String(length=20), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("ticket_id", sa.String(length=36), nullable=True),
        sa.Column("ticket_number", sa.String(length=12), nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=True),
        sa.Column("need", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("referrer", sa.String(length=32), nullable=False),
        sa.Column("to_staff", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(), nullable=True),
        sa.Column("contacted_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("product", sa.String(length=80), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("follow_up_on", sa.Date(), nullable=True),
        sa.Column("outcome_note", sa.Text(), nullable=False),
        sa.Column("sold_by", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name="fk_referral_customer_id_customer"
        ),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"], name="fk_referral_ticket_id_ticket"),
        sa.PrimaryKeyConstraint("id", name="pk_referral"),
        sa.UniqueConstraint("referral_no", name="uq_referral_referral_no"),
    )
    op.create_index("ix_referral_to_status", "referral", ["to_staff", "status"])
    op.create_index("ix_referral_business_date", "referral", ["business_date"])
    op.create_table(
        "referral_credit",
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("staff_no", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("share_pct", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
            name="fk_referral_credit_referral_id_referral",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("referral_id", "staff_no", name="pk_referral_credit"),
    )
    rules = op.create_table(
        "marketing_rule",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("need", sa.String(length=32), nullable=False),
        sa.Column("sentence", sa.String(length=200), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_marketing_rule"),
    )
    op.bulk_insert(
        rules,
        [
            {
                "tier": r.tier,
                "need": r.need,
                "sentence": r.sentence,
                "sort_order": r.sort_order,
                "active": r.active,
            }
            for r in DEFAULT_RULES
        ],
    )


def downgrade() -> None:
    op.drop_table("marketing_rule")
    op.drop_table("referral_credit")
    op.drop_index("ix_referral_business_date", table_name="referral")
    op.drop_index("ix_referral_to_status", table_name="referral")
    op.drop_table("referral")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_column("location")
