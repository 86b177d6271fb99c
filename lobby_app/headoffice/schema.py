"""Head-office tables (SQLAlchemy Core). Every branch row is keyed by branch code and the
row's global id, so thousands of branches write into the same tables without colliding.

Up (the branch owns): visit, visit_need, visit_event, referral, referral_credit,
day_summary, audit_event, counter_event, registration (walk-ins for head office to confirm
into its directory). Down (head office owns): customer_directory,
staff_directory (per branch), business_type, marketing_sentence (for every branch); each
down row carries ``version`` (bumped by a trigger on every insert and update, from one
counter) and ``deleted`` (a tombstone).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
    func,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}
meta = MetaData(naming_convention=NAMING)
TS = DateTime(timezone=True)
JSONDOC = JSON().with_variant(JSONB(), "postgresql")


def _branch_key(name: str = "id", kind: String | Integer | None = None) -> list[Column]:  # type: ignore[type-arg]
    return [
        Column("branch_code", String(16), primary_key=True),
        Column(name, kind if kind is not None else String(36), primary_key=True),
    ]


def _synced() -> Column:  # type: ignore[type-arg]
    return Column("synced_at", TS, nullable=False, server_default=func.now())


branch = Table(
    "branch",
    meta,
    Column("branch_code", String(16), primary_key=True),
    Column("bank_name", String(80), nullable=False, server_default=""),
    Column("branch_name", String(120), nullable=False, server_default=""),
    Column("timezone", String(40), nullable=False, server_default="Asia/Shanghai"),
    Column("high_water", BigInteger, nullable=False, server_default="0"),
    Column("first_sync_at", TS),
    Column("last_sync_at", TS),
    Column("client_version", String(20), nullable=False, server_default=""),
)

visit = Table(
    "visit",
    meta,
    *_branch_key(),
    Column("business_date", Date, nullable=False),
    Column("number", String(12), nullable=False),
    Column("prefix", String(4), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("day_seq", Integer, nullable=False),
    Column("business_code", String(32), nullable=False),
    Column("customer_id", String(36)),
    Column("customer_no", String(32)),
    Column("zone", String(16), nullable=False),
    Column("suggested_zone", String(16), nullable=False),
    Column("zone_override_reason", String(200), nullable=False),
    Column("tier", String(16)),
    Column("vip_card", String(16)),
    Column("prospect", Boolean, nullable=False),
    Column("vip", Boolean, nullable=False),
    Column("vip_reason", String(200), nullable=False),
    Column("priority", String(16)),
    Column("priority_reason", String(200), nullable=False),
    Column("green_channel", Boolean, nullable=False),
    Column("greeting_note", Text, nullable=False),
    Column("needs_note", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("issued_at", TS, nullable=False),
    Column("called_at", TS),
    Column("first_called_at", TS),
    Column("started_at", TS),
    Column("finished_at", TS),
    Column("window_no", Integer),
    Column("assigned_window", Integer),
    Column("recalls", Integer, nullable=False),
    Column("served_by", String(32), nullable=False),
    Column("rating", Integer),
    Column("settle_reason", String(200), nullable=False),
    Column("issued_by", String(40), nullable=False),
    Column("ahead_at_issue", Integer, nullable=False),
    Column("estimated_wait_min", Integer, nullable=False),
    Column("print_status", String(16), nullable=False),
    Column("print_error", String(500), nullable=False),
    _synced(),
    Index("ix_visit_business_date", "business_date", "branch_code"),
    Index("ix_visit_customer_no", "customer_no"),
)

visit_need = Table(
    "visit_need",
    meta,
    Column("branch_code", String(16), primary_key=True),
    Column("ticket_id", String(36), primary_key=True),
    Column("tag", String(32), primary_key=True),
    _synced(),
)

visit_event = Table(
    "visit_event",
    meta,
    *_branch_key(),
    Column("ticket_id", String(36), nullable=False),
    Column("at", TS, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("actor", String(40), nullable=False),
    Column("detail", Text, nullable=False),
    _synced(),
    Index("ix_visit_event_ticket", "branch_code", "ticket_id"),
)

referral = Table(
    "referral",
    meta,
    *_branch_key(),
    Column("referral_no", String(40), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("ticket_id", String(36)),
    Column("ticket_number", String(12), nullable=False),
    Column("customer_id", String(36)),
    Column("customer_no", String(32)),
    Column("need", String(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("referrer", String(32), nullable=False),
    Column("to_staff", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("accepted_at", TS),
    Column("contacted_at", TS),
    Column("closed_at", TS),
    Column("product", String(80), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("follow_up_on", Date),
    Column("outcome_note", Text, nullable=False),
    Column("sold_by", String(32), nullable=False),
    _synced(),
    Index("ix_referral_business_date", "business_date", "branch_code"),
)

referral_credit = Table(
    "referral_credit",
    meta,
    Column("branch_code", String(16), primary_key=True),
    Column("referral_id", String(36), primary_key=True),
    Column("staff_no", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("share_pct", Integer, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    _synced(),
)

day_summary = Table(
    "day_summary",
    meta,
    *_branch_key(),
    Column("business_date", Date, nullable=False),
    Column("version", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("at", TS, nullable=False),
    Column("actor", String(40), nullable=False),
    Column("reason", String(200), nullable=False),
    Column("settled", Text, nullable=False),
    Column("figures", JSONDOC, nullable=False),
    _synced(),
    Index("ix_day_summary_business_date", "business_date", "branch_code"),
)

audit_event = Table(
    "audit_event",
    meta,
    *_branch_key(),
    Column("at", TS, nullable=False),
    Column("actor", String(40), nullable=False),
    Column("action", String(32), nullable=False),
    Column("detail", Text, nullable=False),
    _synced(),
)

counter_event = Table(
    "counter_event",
    meta,
    *_branch_key("id", Integer()),
    Column("window_no", Integer, nullable=False),
    Column("at", TS, nullable=False),
    Column("is_open", Boolean, nullable=False),
    Column("actor", String(40), nullable=False),
    _synced(),
)


# A walk-in registered at the branch (store table ``registration``), for head office to confirm
# into ``customer_directory``. Limits as the branch's; hashes and last digits only, never full
# numbers. ``customer_no`` is the branch's provisional number (``W`` + branch code + 5 digits).
registration = Table(
    "registration",
    meta,
    *_branch_key(),
    Column("customer_id", String(36), nullable=False),
    Column("customer_no", String(32), nullable=False),
    Column("name", String(40), nullable=False),
    Column("gender", String(1)),
    Column("id_hash", String(64)),
    Column("id_last4", String(4), nullable=False),
    Column("phone_hash", String(64), nullable=False),
    Column("phone_prefix3", String(3), nullable=False),
    Column("phone_last4", String(4), nullable=False),
    Column("consent_at", TS, nullable=False),
    Column("registered_by", String(32), nullable=False),
    Column("registered_at", TS, nullable=False),
    _synced(),
    Index("ix_registration_registered_at", "registered_at", "branch_code"),
    Index("ix_registration_phone_hash", "phone_hash"),
    Index("ix_registration_id_hash", "id_hash"),
)


def _down(*cols: Column) -> list[Column]:  # type: ignore[type-arg]
    return [
        *cols,
        Column("deleted", Boolean, nullable=False, server_default=false()),
        Column("version", BigInteger, nullable=False, server_default="0"),
        Column("updated_at", TS, nullable=False, server_default=func.now()),
    ]


customer_directory = Table(
    "customer_directory",
    meta,
    *_down(
        Column("branch_code", String(16), primary_key=True),
        Column("customer_no", String(32), primary_key=True),
        Column("name", String(40), nullable=False),
        Column("gender", String(1)),
        Column("id_hash", String(64)),
        Column("id_last4", String(4), nullable=False, server_default=""),
        Column("phone_hash", String(64)),
        Column("phone_prefix3", String(3), nullable=False, server_default=""),
        Column("phone_last4", String(4), nullable=False, server_default=""),
        Column("card_first6", String(6), nullable=False, server_default=""),
        Column("card_last4", String(4), nullable=False, server_default=""),
        Column("assets_fen", BigInteger, nullable=False, server_default="0"),
        Column("loans_fen", BigInteger, nullable=False, server_default="0"),
        Column("avg_assets_3m_fen", BigInteger, nullable=False, server_default="0"),
        Column("tier", String(16), nullable=False),
        Column("vip_card", String(16)),
        Column("vip_special", Boolean, nullable=False, server_default=false()),
        # a special card's approval and the card held when due for downgrade (ho0003)
        Column("vip_approved_by", String(40), nullable=False, server_default=""),
        Column("vip_approved_until", Date),
        Column("vip_card_held", String(16)),
        Column("manager", String(40), nullable=False, server_default=""),
        Column("prospect", Boolean, nullable=False, server_default=false()),
    ),
    Index("ix_customer_directory_version", "branch_code", "version"),
)

staff_directory = Table(
    "staff_directory",
    meta,
    *_down(
        Column("branch_code", String(16), primary_key=True),
        Column("staff_no", String(32), primary_key=True),
        Column("name", String(40), nullable=False),
        Column("role", String(32), nullable=False),
        Column("active", Boolean, nullable=False, server_default=true()),
        Column("location", String(40), nullable=False, server_default=""),
    ),
    Index("ix_staff_directory_version", "branch_code", "version"),
)

business_type = Table(
    "business_type",
    meta,
    *_down(
        Column("code", String(32), primary_key=True),
        Column("name", String(40), nullable=False),
        Column("category", String(16), nullable=False),
        Column("zone", String(16), nullable=False),
        Column("counter_zone", String(16)),
        Column("service_minutes", Float, nullable=False),
        Column("sort_order", Integer, nullable=False, server_default="0"),
        Column("active", Boolean, nullable=False, server_default=true()),
    ),
    Index("ix_business_type_version", "version"),
)

marketing_sentence = Table(
    "marketing_sentence",
    meta,
    *_down(
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("tier", String(16), nullable=False, server_default=""),
        Column("need", String(32), nullable=False, server_default=""),
        Column("sentence", String(200), nullable=False),
        Column("sort_order", Integer, nullable=False, server_default="0"),
        Column("active", Boolean, nullable=False, server_default=true()),
    ),
    Index("ix_marketing_sentence_version", "version"),
)

ho_version = Table(
    "ho_version",
    meta,
    Column("id", Integer, primary_key=True),
    Column("value", BigInteger, nullable=False),
)

# branch table -> head-office table, in the order a batch is written
UP: dict[str, Table] = {
    "ticket": visit,
    "ticket_need": visit_need,
    "ticket_event": visit_event,
    "referral": referral,
    "referral_credit": referral_credit,
    "day_close": day_summary,
    "audit_event": audit_event,
    "counter_event": counter_event,
    "registration": registration,
}
DOWN: tuple[Table, ...] = (customer_directory, staff_directory, business_type, marketing_sentence)
