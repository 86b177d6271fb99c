"""The close of a business day (日终) with its frozen figures, and the open/close history of
the service windows that the day's idle-time figures need."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lobby_app.models.base import Base, UtcDateTime, new_id, utcnow


class DayClose(Base):
    """One version of a closed day's figures. Version 1 is the close itself; a later
    correction adds version 2, 3, ... with its reason; nothing is overwritten."""

    __tablename__ = "day_close"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    business_date: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # close / correction
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(40), default="")
    reason: Mapped[str] = mapped_column(String(200), default="")
    settled: Mapped[str] = mapped_column(Text, default="")  # JSON: what the close settled
    figures: Mapped[str] = mapped_column(Text)  # JSON: the day's figures as they stood

    __table_args__ = (
        UniqueConstraint("business_date", "version", name="uq_day_close_business_date_version"),
    )


class CounterEvent(Base):
    """A window opened or paused for service."""

    __tablename__ = "counter_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    window_no: Mapped[int] = mapped_column(Integer, index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    is_open: Mapped[bool] = mapped_column(Boolean)
    actor: Mapped[str] = mapped_column(String(40), default="")
