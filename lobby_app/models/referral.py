"""Referrals (转介) to customer managers, their outcomes and who gets the credit,
and the marketing sentences (一句话营销) a teller's pop-up offers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lobby_app.models.base import Base, UtcDateTime, new_id, utcnow


class Referral(Base):
    __tablename__ = "referral"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    referral_no: Mapped[str] = mapped_column(String(20), unique=True)
    business_date: Mapped[date] = mapped_column(Date)
    ticket_id: Mapped[str | None] = mapped_column(ForeignKey("ticket.id"))
    ticket_number: Mapped[str] = mapped_column(String(12), default="")
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customer.id"))
    need: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    referrer: Mapped[str] = mapped_column(String(32))  # staff number of the finder
    to_staff: Mapped[str] = mapped_column(String(32))  # the customer manager
    # new -> accepted -> contacted -> sold / declined / follow_up
    status: Mapped[str] = mapped_column(String(16), default="new")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    contacted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    product: Mapped[str] = mapped_column(String(80), default="")
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    follow_up_on: Mapped[date | None] = mapped_column(Date)
    outcome_note: Mapped[str] = mapped_column(Text, default="")
    sold_by: Mapped[str] = mapped_column(String(32), default="")

    __table_args__ = (
        Index("ix_referral_to_status", "to_staff", "status"),
        Index("ix_referral_business_date", "business_date"),
    )


class ReferralCredit(Base):
    """Who is credited with a sale and by what share (per cent); the shares add to 100."""

    __tablename__ = "referral_credit"
    referral_id: Mapped[str] = mapped_column(
        ForeignKey("referral.id", ondelete="CASCADE"), primary_key=True
    )
    staff_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    # finder / seller / complete (one person did both) / owner (the VIP's assigned manager)
    kind: Mapped[str] = mapped_column(String(16))
    share_pct: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)


class MarketingRule(Base):
    """One sentence for the teller to say; empty tier / need match any. The most specific
    matching rule wins, then the lowest sort order."""

    __tablename__ = "marketing_rule"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tier: Mapped[str] = mapped_column(String(16), default="")
    need: Mapped[str] = mapped_column(String(32), default="")
    sentence: Mapped[str] = mapped_column(String(200))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
