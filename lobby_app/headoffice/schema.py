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

from lobby_app.core.limits import (
    ACTOR_MAX,
    APPROVER_MAX,
    BANK_NAME_MAX,
    BRANCH_CODE_MAX,
    BRANCH_NAME_MAX,
    BUSINESS_CODE_MAX,
    BUSINESS_NAME_MAX,
    CUSTOMER_NO_MAX,
    LOCATION_MAX,
    MANAGER_MAX,
    NEED_TAG_MAX,
    PERSON_NAME_MAX,
    PRINT_ERROR_MAX,
    PRODUCT_MAX,
    REASON_MAX,
    SENTENCE_MAX,
    STAFF_NO_MAX,
    TIMEZONE_MAX,
)

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
        Column("branch_code", String(BRANCH_CODE_MAX), primary_key=True),
        Column(name, kind if kind is not None else String(36), primary_key=True),
    ]


def _synced() -> Column:  # type: ignore[type-arg]
    return Column("synced_at", TS, nullable=False, server_default=func.now())


branch = Table(
    "branch",
    meta,
    Column("branch_code", String(BRANCH_CODE_MAX), primary_key=True),
    Column("bank_name", String(BANK_NAME_MAX), nullable=False, server_default=""),
    Column("branch_name", String(BRANCH_NAME_MAX), nullable=False, server_default=""),
    Column("timezone", String(TIMEZONE_MAX), nullable=False, server_default="Asia/Shanghai"),
    Column("high_water", BigInteger, nullable=False, server_default="0"),
    Column("first_sync_at", TS),
    Column("last_sync_at", TS),
    Column("client_version", String(20), nullable=False, server_default=""),
    # the store that sends this branch's rows (ho0004): see store_epoch
    Column("owner_store_id", String(36)),
    Column("owner_epoch", String(36)),
    Column("owner_since", TS),
)

# Which store sends a branch's rows. A store has an identity (a random id made the first time
# it syncs) and an epoch (a new one after a restore from a backup, a copy of its data folder
# or a new branch code: whenever its history may have forked from what head office
# acknowledged). The high-water mark is kept per (branch, store, epoch), so a store whose
# history forked never meets a mark its own past set. ``branch.owner_*`` names the epoch that
# owns the branch code; another store is refused until it takes the branch over
# (``branch_takeover`` records each move). ``last_change`` names the last change acknowledged
# (``seq:table:key:op``): a store that no longer has it there has forked.
store_epoch = Table(
    "store_epoch",
    meta,
    Column("branch_code", String(BRANCH_CODE_MAX), primary_key=True),
    Column("store_id", String(36), primary_key=True),
    Column("epoch", String(36), primary_key=True),
    Column("reason", String(16), nullable=False, server_default=""),
    Column("host", String(120), nullable=False, server_default=""),
    Column("place", String(64), nullable=False, server_default=""),
    Column("high_water", BigInteger, nullable=False, server_default="0"),
    Column("last_change", String(160), nullable=False, server_default=""),
    Column("started_at", TS),
    Column("first_sync_at", TS),
    Column("last_sync_at", TS),
    Column("client_version", String(20), nullable=False, server_default=""),
)

branch_takeover = Table(
    "branch_takeover",
    meta,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("branch_code", String(BRANCH_CODE_MAX), nullable=False),
    Column("at", TS, nullable=False, server_default=func.now()),
    # take_over (sync --take-over-branch), restore (lobby-app restore), same_place (a store
    # put back from a copy on the PC and in the folder that owned the branch)
    Column("how", String(16), nullable=False),
    Column("from_store_id", String(36)),
    Column("from_epoch", String(36)),
    Column("from_host", String(120), nullable=False, server_default=""),
    Column("to_store_id", String(36), nullable=False),
    Column("to_epoch", String(36), nullable=False),
    Column("to_host", String(120), nullable=False, server_default=""),
    Column("note", String(200), nullable=False, server_default=""),
    Index("ix_branch_takeover_branch_code", "branch_code", "at"),
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
    Column("business_code", String(BUSINESS_CODE_MAX), nullable=False),
    Column("customer_id", String(36)),
    Column("customer_no", String(CUSTOMER_NO_MAX)),
    Column("zone", String(16), nullable=False),
    Column("suggested_zone", String(16), nullable=False),
    Column("zone_override_reason", String(REASON_MAX), nullable=False),
    Column("tier", String(16)),
    Column("vip_card", String(16)),
    Column("prospect", Boolean, nullable=False),
    Column("vip", Boolean, nullable=False),
    Column("vip_reason", String(REASON_MAX), nullable=False),
    Column("priority", String(16)),
    Column("priority_reason", String(REASON_MAX), nullable=False),
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
    Column("served_by", String(STAFF_NO_MAX), nullable=False),
    Column("rating", Integer),
    Column("settle_reason", String(REASON_MAX), nullable=False),
    Column("issued_by", String(ACTOR_MAX), nullable=False),
    Column("ahead_at_issue", Integer, nullable=False),
    Column("estimated_wait_min", Integer, nullable=False),
    Column("print_status", String(16), nullable=False),
    Column("print_error", String(PRINT_ERROR_MAX), nullable=False),
    _synced(),
    Index("ix_visit_business_date", "business_date", "branch_code"),
    Index("ix_visit_customer_no", "customer_no"),
)

visit_need = Table(
    "visit_need",
    meta,
    Column("branch_code", String(BRANCH_CODE_MAX), primary_key=True),
    Column("ticket_id", String(36), primary_key=True),
    Column("tag", String(NEED_TAG_MAX), primary_key=True),
    _synced(),
)

visit_event = Table(
    "visit_event",
    meta,
    *_branch_key(),
    Column("ticket_id", String(36), nullable=False),
    Column("at", TS, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("actor", String(ACTOR_MAX), nullable=False),
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
    Column("customer_no", String(CUSTOMER_NO_MAX)),
    Column("need", String(NEED_TAG_MAX), nullable=False),
    Column("note", Text, nullable=False),
    Column("referrer", String(STAFF_NO_MAX), nullable=False),
    Column("to_staff", String(STAFF_NO_MAX), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("accepted_at", TS),
    Column("contacted_at", TS),
    Column("closed_at", TS),
    Column("product", String(PRODUCT_MAX), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("follow_up_on", Date),
    Column("outcome_note", Text, nullable=False),
    Column("sold_by", String(STAFF_NO_MAX), nullable=False),
    _synced(),
    Index("ix_referral_business_date", "business_date", "branch_code"),
)

referral_credit = Table(
    "referral_credit",
    meta,
    Column("branch_code", String(BRANCH_CODE_MAX), primary_key=True),
    Column("referral_id", String(36), primary_key=True),
    Column("staff_no", String(STAFF_NO_MAX), primary_key=True),
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
    Column("actor", String(ACTOR_MAX), nullable=False),
    Column("reason", String(REASON_MAX), nullable=False),
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
    Column("actor", String(ACTOR_MAX), nullable=False),
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
    Column("actor", String(ACTOR_MAX), nullable=False),
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
    Column("customer_no", String(CUSTOMER_NO_MAX), nullable=False),
    Column("name", String(PERSON_NAME_MAX), nullable=False),
    Column("gender", String(1)),
    Column("id_hash", String(64)),
    Column("id_last4", String(4), nullable=False),
    Column("phone_hash", String(64), nullable=False),
    Column("phone_prefix3", String(3), nullable=False),
    Column("phone_last4", String(4), nullable=False),
    Column("consent_at", TS, nullable=False),
    Column("registered_by", String(STAFF_NO_MAX), nullable=False),
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
        Column("branch_code", String(BRANCH_CODE_MAX), primary_key=True),
        Column("customer_no", String(CUSTOMER_NO_MAX), primary_key=True),
        Column("name", String(PERSON_NAME_MAX), nullable=False),
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
        Column("vip_approved_by", String(APPROVER_MAX), nullable=False, server_default=""),
        Column("vip_approved_until", Date),
        Column("vip_card_held", String(16)),
        Column("manager", String(MANAGER_MAX), nullable=False, server_default=""),
        Column("prospect", Boolean, nullable=False, server_default=false()),
    ),
    Index("ix_customer_directory_version", "branch_code", "version"),
)

staff_directory = Table(
    "staff_directory",
    meta,
    *_down(
        Column("branch_code", String(BRANCH_CODE_MAX), primary_key=True),
        Column("staff_no", String(STAFF_NO_MAX), primary_key=True),
        Column("name", String(PERSON_NAME_MAX), nullable=False),
        Column("role", String(32), nullable=False),
        Column("active", Boolean, nullable=False, server_default=true()),
        Column("location", String(LOCATION_MAX), nullable=False, server_default=""),
    ),
    Index("ix_staff_directory_version", "branch_code", "version"),
)

business_type = Table(
    "business_type",
    meta,
    *_down(
        Column("code", String(BUSINESS_CODE_MAX), primary_key=True),
        Column("name", String(BUSINESS_NAME_MAX), nullable=False),
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
        Column("need", String(NEED_TAG_MAX), nullable=False, server_default=""),
        Column("sentence", String(SENTENCE_MAX), nullable=False),
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
