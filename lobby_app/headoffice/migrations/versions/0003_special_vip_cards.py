"""head office: special-approval VIP cards in the customer directory (who approved, until when;
the card held when due for downgrade), as the branch keeps them (store revision 0008)

Revision ID: ho0003
Revises: ho0002
Create Date: 2026-12-01 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ho0003"
down_revision = "ho0002"
branch_labels = None
depends_on = None


def _columns() -> tuple[sa.Column, ...]:  # type: ignore[type-arg]
    """Frozen copy of schema.customer_directory's columns added at this revision."""
    return (
        sa.Column("vip_approved_by", sa.String(length=40), nullable=False, server_default=""),
        sa.Column("vip_approved_until", sa.Date(), nullable=True),
        sa.Column("vip_card_held", sa.String(length=16), nullable=True),
    )


def upgrade() -> None:
    # ho0001 builds its tables from schema.py as it stands, so a database created by this
    # program's ho0001 already has them; one created by an older program does not
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("customer_directory")}
    for column in _columns():
        if column.name not in have:
            op.add_column("customer_directory", column)


def downgrade() -> None:
    for column in reversed(_columns()):
        op.drop_column("customer_directory", column.name)
