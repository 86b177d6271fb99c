"""The customer directory and the audit trail of who looked at it.

No full ID or phone number is kept: a keyed hash finds an exact match, and the last
digits (phone also its first three) are enough for the masked display.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lobby_app.models.base import Base, UtcDateTime, new_id, utcnow


class Customer(Base):
    __tablename__ = "customer"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_no: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(40), index=True)
    gender: Mapped[str | None] = mapped_column(String(1))
    id_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    id_last4: Mapped[str] = mapped_column(String(4), default="", index=True)
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_prefix3: Mapped[str] = mapped_column(String(3), default="")
    phone_last4: Mapped[str] = mapped_column(String(4), default="", index=True)
    card_first6: Mapped[str] = mapped_column(String(6), default="")
    card_last4: Mapped[str] = mapped_column(String(4), default="", index=True)
    assets_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    loans_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    avg_assets_3m_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    tier: Mapped[str] = mapped_column(String(16))
    # the card level served at: earned by the 3-month average, or a special approval (特批)
    vip_card: Mapped[str | None] = mapped_column(String(16))
    vip_special: Mapped[bool] = mapped_column(Boolean, default=False)
    # a special card's approval (003 第十二条): who approved it and until when
    vip_approved_by: Mapped[str] = mapped_column(String(40), default="")
    vip_approved_until: Mapped[date | None] = mapped_column(Date)
    # the card the customer holds when it is above what the assets earn and not approved:
    # due for downgrade at the monthly review (003 第十四条)
    vip_card_held: Mapped[str | None] = mapped_column(String(16))
    manager: Mapped[str] = mapped_column(String(40), default="")
    prospect: Mapped[bool] = mapped_column(Boolean, default=False)
    pinyin_full: Mapped[str] = mapped_column(String(120), default="", index=True)
    pinyin_initials: Mapped[str] = mapped_column(String(40), default="", index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # directory: from head office or an import; branch: a walk-in registered at the desk,
    # a prospect until head office's directory confirms (and then overrides) the record
    source: Mapped[str] = mapped_column(String(16), default="directory")


class Registration(Base):
    """A walk-in registered at the desk (with the customer's consent): goes up to head office
    with the nightly sync, which confirms the prospect into its directory."""

    __tablename__ = "registration"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(String(36), index=True)
    customer_no: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(40))
    gender: Mapped[str | None] = mapped_column(String(1))
    id_hash: Mapped[str | None] = mapped_column(String(64))
    id_last4: Mapped[str] = mapped_column(String(4), default="")
    phone_hash: Mapped[str] = mapped_column(String(64))
    phone_prefix3: Mapped[str] = mapped_column(String(3), default="")
    phone_last4: Mapped[str] = mapped_column(String(4), default="")
    consent_at: Mapped[datetime] = mapped_column(UtcDateTime)
    registered_by: Mapped[str] = mapped_column(String(32))
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AuditEvent(Base):
    """Looking up, importing or exporting customer data leaves a record (DOMAIN.md)."""

    __tablename__ = "audit_event"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_audit_event_at", "at"),)
