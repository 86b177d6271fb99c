"""Staff log-in with staff number + PIN, lockout after repeated failures; the station key,
kept as its hash."""

from __future__ import annotations

import hashlib
import hmac
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


# ---------------------------------------------------------------- the station key

# Stations prove they belong to the branch with its station key. The store keeps only its
# SHA-256 (the key is 24 random bytes: a slow hash adds nothing), so a copy of the store
# or of a backup does not let a PC join the branch. The key itself is shown once, when it
# is made (``lobby-app station-key``, or the hub's first start) or replaced (``--rotate``).
_DIGEST = "sha256:"


def _digest(key: str) -> str:
    return _DIGEST + hashlib.sha256(key.encode()).hexdigest()


def _hidden() -> LobbyError:
    return LobbyError(
        "station_key_hidden",
        tr(
            "本网点的站点密钥已设置，只保存其校验值，无法再次显示。新站点请使用已配置站点上的"
            "密钥；如已遗失，请网点负责人运行 lobby-app station-key --rotate 换发新密钥"
            "(旧密钥随即失效，各站点须改用新密钥)"
        ),
    )


def ensure_station_key(store: Store) -> str | None:
    """Make the branch's station key if it has none: the new key (to be shown this once),
    or None when the branch already has one."""
    with store.read() as s:
        if s.get(Setting, STATION_KEY) is not None:
            return None
    key = secrets.token_urlsafe(24)
    with store.write() as s:
        if s.get(Setting, STATION_KEY) is not None:
            return None  # another process made it meanwhile
        s.add(Setting(key=STATION_KEY, value=_digest(key)))
        s.add(AuditEvent(actor="setup", action="station_key", detail="created"))
    return key


def station_key(store: Store) -> str:
    """A new station key for a branch that has none (shown this once); refused once the
    branch has one: it is not kept, so it cannot be shown again."""
    key = ensure_station_key(store)
    if key is None:
        raise _hidden()
    return key


def rotate_station_key(store: Store, *, actor: str) -> str:
    """Replace the station key (a branch head's change): the old one stops working at once;
    every station has to be given the new one, returned here to be shown once."""
    from lobby_app.store.admin import check_head

    key = secrets.token_urlsafe(24)
    with store.write() as s:
        who = check_head(s, actor)
        row = s.get(Setting, STATION_KEY)
        if row is None:
            s.add(Setting(key=STATION_KEY, value=_digest(key)))
        else:
            row.value = _digest(key)
        s.add(AuditEvent(actor=who, action="station_key", detail="rotated"))
    return key


def check_station_key(store: Store, key: object) -> bool:
    """Is ``key`` the branch's station key? Compared by its hash, in constant time; a store
    that still keeps the key itself (an older version) is compared the same way."""
    if not isinstance(key, str) or not key:
        return False
    with store.read() as s:
        row = s.get(Setting, STATION_KEY)
        stored = row.value if row is not None else ""
    if not stored:
        return False
    expected = stored if stored.startswith(_DIGEST) else _digest(stored)
    return hmac.compare_digest(_digest(key), expected)


def protect_station_key(store: Store) -> None:
    """A store from an older version keeps the station key in plain text: keep its hash
    instead. The stations' copies go on working (the hub compares hashes)."""
    with store.read() as s:
        row = s.get(Setting, STATION_KEY)
        if row is None or row.value.startswith(_DIGEST):
            return
    with store.write() as s:
        row = s.get(Setting, STATION_KEY)
        if row is not None and not row.value.startswith(_DIGEST):
            row.value = _digest(row.value)
