"""What the nightly sync needs in the branch store: the change log and the sync state.

Every insert, update and delete of a table that goes up to head office leaves a row in
``change_log`` (written by SQLite triggers, in the same transaction as the change), numbered
by a monotonically increasing ``seq``. A deletion is such a row with ``op = 'd'``: a tombstone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lobby_app.models.base import Base, UtcDateTime

# The tables the branch owns and sends up, with the SQL of each row's key as text.
UP_TABLES: dict[str, str] = {
    "ticket": "{r}.id",
    "ticket_need": "{r}.ticket_id || '|' || {r}.tag",
    "ticket_event": "{r}.id",
    "referral": "{r}.id",
    "referral_credit": "{r}.referral_id || '|' || {r}.staff_no",
    "day_close": "{r}.id",
    "audit_event": "{r}.id",
    "counter_event": "CAST({r}.id AS TEXT)",
    "registration": "{r}.id",
}


class ChangeLog(Base):
    __tablename__ = "change_log"
    __table_args__ = ({"sqlite_autoincrement": True},)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tbl: Mapped[str] = mapped_column(String(32))
    row_id: Mapped[str] = mapped_column(String(80))
    op: Mapped[str] = mapped_column(String(1))  # u: inserted or changed, d: deleted


class SyncState(Base):
    """Key-value state of the sync: last success, the down high-water marks, last error."""

    __tablename__ = "sync_state"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SyncQuarantine(Base):
    """A row head office refused (a value over its column limit, a NUL character): kept here,
    reported, and sent again at every sync until head office takes it."""

    __tablename__ = "sync_quarantine"
    tbl: Mapped[str] = mapped_column(String(32), primary_key=True)
    row_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    reason: Mapped[str] = mapped_column(String(300))
    first_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
