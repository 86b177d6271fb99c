"""The branch's settings and its default tables, present in every store from the start."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from lobby_app.core.business import DEFAULT_BUSINESS_TYPES, BusinessType, Category
from lobby_app.core.i18n import tr
from lobby_app.core.queue import QueuePolicy
from lobby_app.core.zones import Zone

# SQLAlchemy and the ORM models load only where a row is written through them: reading the
# settings and the business table is plain SQL, so a ticket issues without them.
if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from lobby_app.models import BusinessTypeRow
    from lobby_app.store.db import Store

DEFAULT_SETTINGS: dict[str, str] = {
    "bank_name": "",  # asked for by the first-run set-up and `lobby-app branch --bank`
    "branch_name": tr("未命名网点"),
    "branch_code": "0000",
    "timezone": "Asia/Shanghai",
    "green_run": "3",
    "wait_target_min": "15",
    "print_kind": "folder",  # folder | printer | none
    "print_folder": "",  # empty: <data dir>/tickets
    "printer": "",
    "referral_finder_pct": "50",  # a referral sale's credit share for the finder (转介绍销售)
    "sync_url": "",  # head office; empty: a local SQLite file in the data dir (demo)
    "sync_time": "21:30",  # the nightly sync, branch time
    "open_time": "09:00",  # opening hours, branch time
    "close_time": "17:00",
    "desk_idle_lock_min": "10",  # the desk locks after this many idle minutes
    # special-approval VIP cards (特批) at most this share of the VIP card holders, in percent
    # (003 第十二条 2: 5 %); the customer import keeps to it
    "special_vip_max_pct": "5",
}


@dataclass(frozen=True)
class BranchSettings:
    bank_name: str
    branch_name: str
    branch_code: str
    timezone: str
    green_run: int
    wait_target_min: int
    print_kind: str
    print_folder: str
    printer: str
    referral_finder_pct: int
    sync_url: str = ""
    sync_time: str = "21:30"
    open_time: str = "09:00"
    close_time: str = "17:00"
    desk_idle_lock_min: int = 10
    special_vip_max_pct: int = 5

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def queue_policy(self) -> QueuePolicy:
        return QueuePolicy(green_run=self.green_run)

    @property
    def display_name(self) -> str:
        return " ".join(part for part in (self.bank_name, self.branch_name) if part)

    def business_date(self, at: datetime) -> date:
        return at.astimezone(self.tz).date()

    def ticket_folder(self, data_dir: Path) -> Path:
        return Path(self.print_folder) if self.print_folder else data_dir / "tickets"


def load_settings(session: Session) -> BranchSettings:
    """The settings, read in an ORM command's own transaction."""
    from lobby_app.store.db import sql_of

    return read_settings(sql_of(session))


def read_settings(con: sqlite3.Connection) -> BranchSettings:
    """The settings, read with plain SQL (the defaults for any the branch did not set)."""
    values = dict(DEFAULT_SETTINGS)
    values.update(con.execute("select key, value from setting").fetchall())
    return settings_from(values)


def settings_from(values: dict[str, str]) -> BranchSettings:
    """Settings from their stored text (every key of DEFAULT_SETTINGS present)."""
    return BranchSettings(
        bank_name=values["bank_name"],
        branch_name=values["branch_name"],
        branch_code=values["branch_code"],
        timezone=values["timezone"],
        green_run=max(1, int(values["green_run"])),
        wait_target_min=int(values["wait_target_min"]),
        print_kind=values["print_kind"],
        print_folder=values["print_folder"],
        printer=values["printer"],
        referral_finder_pct=int(values["referral_finder_pct"]),
        sync_url=values.get("sync_url", ""),
        sync_time=values.get("sync_time", "21:30"),
        open_time=values.get("open_time", "09:00"),
        close_time=values.get("close_time", "17:00"),
        desk_idle_lock_min=int(values.get("desk_idle_lock_min", "10")),
        special_vip_max_pct=int(values.get("special_vip_max_pct", "5")),
    )


def put_setting(session: Session, key: str, value: str) -> None:
    from lobby_app.models import Setting

    if key not in DEFAULT_SETTINGS:
        raise KeyError(key)
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value


def business_row(b: BusinessType) -> BusinessTypeRow:
    from lobby_app.models import BusinessTypeRow

    return BusinessTypeRow(
        code=b.code,
        name=b.name,
        category=b.category.value,
        zone=b.zone.value,
        counter_zone=b.counter_zone.value if b.counter_zone else None,
        service_minutes=b.service_minutes,
        sort_order=b.sort_order,
        active=b.active,
    )


def business_from_row(r: BusinessTypeRow | BusinessValues) -> BusinessType:
    return BusinessType(
        code=r.code,
        name=r.name,
        category=Category(r.category),
        zone=Zone(r.zone),
        service_minutes=r.service_minutes,
        counter_zone=Zone(r.counter_zone) if r.counter_zone else None,
        sort_order=r.sort_order,
        active=bool(r.active),
    )


@dataclass(frozen=True)
class BusinessValues:
    """A business_type row read with plain SQL (the columns of ``BusinessTypeRow``)."""

    code: str
    name: str
    category: str
    zone: str
    counter_zone: str | None
    service_minutes: float
    sort_order: int
    active: bool


_BUSINESS = (
    "select code, name, category, zone, counter_zone, service_minutes, sort_order, active "
    "from business_type"
)


def read_business_types(con: sqlite3.Connection, code: str | None = None) -> list[BusinessType]:
    """The business table (one code's row, or all of them in the store's order), plain SQL."""
    rows: Any = (
        con.execute(f"{_BUSINESS} where code = ?", (code,))
        if code is not None
        else con.execute(_BUSINESS)
    )
    return [business_from_row(BusinessValues(*r)) for r in rows]


def ensure_defaults(store: Store) -> None:
    """A new store gets the default business table, so a desk works before any set-up."""
    from sqlalchemy import select

    from lobby_app.models import BusinessTypeRow

    with store.read() as s:
        has_types = s.scalar(select(BusinessTypeRow.code).limit(1)) is not None
    if has_types:
        return
    with store.write() as s:
        if s.scalar(select(BusinessTypeRow.code).limit(1)) is None:
            s.add_all(business_row(b) for b in DEFAULT_BUSINESS_TYPES)
