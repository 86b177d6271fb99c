"""Queue tickets (one per visit), their needs and events, and the per-day number counters."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lobby_app.models.base import Base, UtcDateTime, new_id, utcnow


class NumberCounter(Base):
    """The last number issued per business date and prefix; bumped in the issuing transaction."""

    __tablename__ = "number_counter"
    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(4), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)


class Ticket(Base):
    __tablename__ = "ticket"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    business_date: Mapped[date] = mapped_column(Date)
    number: Mapped[str] = mapped_column(String(12))
    prefix: Mapped[str] = mapped_column(String(4))
    seq: Mapped[int] = mapped_column(Integer)
    day_seq: Mapped[int] = mapped_column(Integer)  # issue order across all prefixes of the day
    business_code: Mapped[str] = mapped_column(ForeignKey("business_type.code"))
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customer.id"))
    zone: Mapped[str] = mapped_column(String(16))
    suggested_zone: Mapped[str] = mapped_column(String(16))
    zone_override_reason: Mapped[str] = mapped_column(String(200), default="")
    tier: Mapped[str | None] = mapped_column(String(16))
    vip_card: Mapped[str | None] = mapped_column(String(16))
    prospect: Mapped[bool] = mapped_column(Boolean, default=False)
    vip: Mapped[bool] = mapped_column(Boolean, default=False)
    vip_reason: Mapped[str] = mapped_column(String(200), default="")
    priority: Mapped[str | None] = mapped_column(String(16))
    priority_reason: Mapped[str] = mapped_column(String(200), default="")
    green_channel: Mapped[bool] = mapped_column(Boolean, default=False)
    greeting_note: Mapped[str] = mapped_column(Text, default="")
    needs_note: Mapped[str] = mapped_column(Text, default="")
    # waiting -> called -> serving -> done; or no_show; the day close may settle a ticket
    # as done, not_served or left
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    called_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # the first call ends the wait; a transfer or a call back calls again later
    first_called_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    window_no: Mapped[int | None] = mapped_column(Integer)
    # set by a transfer to a particular window: only that window calls the ticket
    assigned_window: Mapped[int | None] = mapped_column(Integer)
    recalls: Mapped[int] = mapped_column(Integer, default=0)
    served_by: Mapped[str] = mapped_column(String(32), default="")  # the teller who called it
    rating: Mapped[int | None] = mapped_column(Integer)  # evaluation pad, 1 (poor) to 5
    settle_reason: Mapped[str] = mapped_column(String(200), default="")  # set by the day close
    issued_by: Mapped[str] = mapped_column(String(40), default="")
    ahead_at_issue: Mapped[int] = mapped_column(Integer, default=0)
    estimated_wait_min: Mapped[int] = mapped_column(Integer, default=0)
    print_status: Mapped[str] = mapped_column(String(16), default="pending")  # printed/failed/none
    print_error: Mapped[str] = mapped_column(String(500), default="")

    needs: Mapped[list[TicketNeed]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("business_date", "number", name="uq_ticket_business_date_number"),
        Index("ix_ticket_day_status_zone", "business_date", "status", "zone"),
        Index("ix_ticket_customer_issued", "customer_id", "issued_at"),
        Index("ix_ticket_business_date_window_no", "business_date", "window_no"),
    )


class TicketNeed(Base):
    __tablename__ = "ticket_need"
    ticket_id: Mapped[str] = mapped_column(
        ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(32), primary_key=True)
    ticket: Mapped[Ticket] = relationship(back_populates="needs")


class TicketEvent(Base):
    """What happened to a ticket and when: issued, zone overridden, printed, print failed."""

    __tablename__ = "ticket_event"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(40), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


class CommandLog(Base):
    """Commands that carried a request id, with their answer: a retry gets the same answer
    and does not act twice."""

    __tablename__ = "command_log"
    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    command: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    result: Mapped[str] = mapped_column(Text)
