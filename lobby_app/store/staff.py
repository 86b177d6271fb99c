"""Staff log-in with staff number + PIN, lockout after repeated failures; the station key."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.core.pins import LOCK_MINUTES, MAX_FAILURES, hash_pin, verify_pin
from lobby_app.models import AuditEvent, Setting, Staff
from lobby_app.models.base import utcnow
from lobby_app.store.db import Store

STATION_KEY = "station_key"


@dataclass(frozen=True)
class StaffView:
    staff_no: str
    name: str
    role: str


def set_pin(store: Store, staff_no: str, pin: str, *, actor: str) -> None:
    """Set or reset a PIN: a branch head's change, like the rest of the set-up."""
    from lobby_app.store.admin import check_head

    digest = hash_pin(pin)  # slow: outside the transaction
    with store.write() as s:
        who = check_head(s, actor)
        staff = s.scalar(select(Staff).where(Staff.staff_no == staff_no))
        if staff is None:
            raise LobbyError("unknown_staff", tr(f"没有工号 {staff_no}"), field="staff")
        staff.pin_hash, staff.failed_logins, staff.locked_until = digest, 0, None
        s.add(AuditEvent(actor=who, action="set_pin", detail=staff_no))


def login(store: Store, staff_no: str, pin: str, *, now: datetime | None = None) -> StaffView:
    now = now or utcnow()
    refused = LobbyError("login_failed", tr("工号或密码不正确"), field="pin")
    with store.read() as s:
        staff = s.scalar(select(Staff).where(Staff.staff_no == staff_no, Staff.active.is_(True)))
        if staff is None or not staff.pin_hash:
            raise refused
        if staff.locked:
            raise LobbyError(
                "login_locked",
                tr(f"工号 {staff_no} 已被网点负责人锁定，请网点负责人解锁"),
                field="pin",
            )
        if staff.locked_until and staff.locked_until > now:
            minutes = int((staff.locked_until - now).total_seconds() // 60) + 1
            raise LobbyError(
                "login_locked",
                tr(
                    f"密码错误次数过多，工号 {staff_no} 已锁定，请 {minutes} 分钟后再试"
                    "或请网点负责人重置密码"
                ),
                field="pin",
            )
        stored = staff.pin_hash
    ok = verify_pin(pin, stored)  # slow: outside any transaction
    with store.write() as s:
        staff = s.scalar(select(Staff).where(Staff.staff_no == staff_no))
        assert staff is not None
        if ok:
            staff.failed_logins, staff.locked_until = 0, None
            return StaffView(staff.staff_no, staff.name, staff.role)
        staff.failed_logins += 1
        if staff.failed_logins >= MAX_FAILURES:
            staff.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            staff.failed_logins = 0
        s.add(AuditEvent(actor=staff_no, action="login_failed", detail=""))
    raise refused


def station_key(store: Store) -> str:
    """The branch's station key (made on first use); stations prove they belong with it."""
    with store.read() as s:
        row = s.get(Setting, STATION_KEY)
        if row is not None:
            return row.value
    with store.write() as s:
        row = s.get(Setting, STATION_KEY)
        if row is None:
            row = Setting(key=STATION_KEY, value=secrets.token_urlsafe(24))
            s.add(row)
        return row.value
