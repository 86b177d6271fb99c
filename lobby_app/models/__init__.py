"""SQLAlchemy 2 typed models of the branch store."""

from lobby_app.models.base import Base
from lobby_app.models.branch import BusinessTypeRow, Counter, Setting, Staff
from lobby_app.models.customer import AuditEvent, Customer, Registration
from lobby_app.models.dayclose import CounterEvent, DayClose
from lobby_app.models.referral import MarketingRule, Referral, ReferralCredit
from lobby_app.models.sync import ChangeLog, SyncQuarantine, SyncState
from lobby_app.models.ticket import CommandLog, NumberCounter, Ticket, TicketEvent, TicketNeed

__all__ = [
    "AuditEvent",
    "Base",
    "BusinessTypeRow",
    "ChangeLog",
    "CommandLog",
    "Counter",
    "CounterEvent",
    "Customer",
    "DayClose",
    "MarketingRule",
    "NumberCounter",
    "Referral",
    "ReferralCredit",
    "Registration",
    "Setting",
    "Staff",
    "SyncQuarantine",
    "SyncState",
    "Ticket",
    "TicketEvent",
    "TicketNeed",
]
