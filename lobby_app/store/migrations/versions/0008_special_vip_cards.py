"""special-approval VIP cards: who approved and until when; the card held when due for
downgrade (003 第十二条, 第十四条)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("vip_approved_by", sa.String(length=40), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("vip_approved_until", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("vip_card_held", sa.String(length=16), nullable=True))
    # A special card kept before this revision has no approval on record: it is due for
    # downgrade until the directory brings its approval (003 第十二条 2: 特批 needs head
    # office's approval). Its holder is served at the level the assets earn (frozen copy of
    # the thresholds in core/tiers.py at this revision, in fen).
    op.execute(
        "UPDATE customer SET vip_card_held = vip_card, vip_special = 0, vip_card = CASE"
        " WHEN avg_assets_3m_fen >= 600000000 THEN 'black_gold'"
        " WHEN avg_assets_3m_fen >= 150000000 THEN 'platinum'"
        " WHEN avg_assets_3m_fen >= 20000000 THEN 'standard' ELSE NULL END"
        " WHERE vip_special = 1"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE customer SET vip_card = vip_card_held, vip_special = 1"
        " WHERE vip_card_held IS NOT NULL"
    )
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_column("vip_card_held")
        batch_op.drop_column("vip_approved_until")
        batch_op.drop_column("vip_approved_by")
