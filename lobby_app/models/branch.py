"""The branch's set-up: settings, staff, counters (windows) and the business table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lobby_app.models.base import Base, UtcDateTime, new_id


class Setting(Base):
    __tablename__ = "setting"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(2000))


class Staff(Base):
    __tablename__ = "staff"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    staff_no: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(40))
    # lobby_manager, lobby_guide, teller_closed, teller_open, customer_manager, branch_head
    role: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    location: Mapped[str] = mapped_column(String(40), default="")  # where customers find them
    pin_hash: Mapped[str] = mapped_column(String(200), default="")  # scrypt, salted
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # locked by the branch head (until unlocked), apart from the lock after wrong PINs
    locked: Mapped[bool] = mapped_column(Boolean, default=False)


class Counter(Base):
    """A service window; ``zones`` is a comma-separated list of the zones it serves, in order
    of preference. It is open for customers only while ``is_open`` and a teller is signed in
    (``staff_no``). A retired counter keeps its row, so past days still name it."""

    __tablename__ = "counter"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    window_no: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(40))
    zones: Mapped[str] = mapped_column(String(200))
    vip_window: Mapped[bool] = mapped_column(Boolean, default=False)
    priority_window: Mapped[bool] = mapped_column(Boolean, default=False)
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    kind: Mapped[str] = mapped_column(String(16), default="closed_cash")
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    staff_no: Mapped[str | None] = mapped_column(String(32))  # the teller signed in here
    signed_in_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class BusinessTypeRow(Base):
    __tablename__ = "business_type"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(16))
    zone: Mapped[str] = mapped_column(String(16))
    counter_zone: Mapped[str | None] = mapped_column(String(16))
    service_minutes: Mapped[float] = mapped_column(Float)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
