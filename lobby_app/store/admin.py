"""The branch's set-up by its head (网点负责人): the branch, its counters and its staff.

Every change is one short transaction and leaves an audit record. Counters and staff are
never deleted: a retired counter and a deactivated person stay in past days' figures.

Who may change the set-up: a branch head. A branch that has no branch head yet (a fresh
install) can be set up by whoever installs it, until its first branch head has a PIN.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lobby_app.core import limits
from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.core.pins import check_pin_format, hash_pin
from lobby_app.core.queue import CASH_KINDS
from lobby_app.core.staffing import (
    COUNTER_KINDS,
    DESK_ROLES,
    HEAD_ROLES,
    ROLE_LABELS,
    counter_roles,
    parse_counter_kind,
    parse_role,
    parse_zones,
    role_label,
)
from lobby_app.core.zones import Zone
from lobby_app.models import AuditEvent, Counter, CounterEvent, Staff, Ticket
from lobby_app.models.base import utcnow
from lobby_app.store.closed import check_staff
from lobby_app.store.db import Store
from lobby_app.store.setup import BranchSettings

# Limits shared with head office's columns (core/limits.py, used by headoffice/schema.py),
# so nothing accepted here is refused by the nightly sync.
BANK_NAME_MAX = limits.BANK_NAME_MAX
BRANCH_NAME_MAX = limits.BRANCH_NAME_MAX
BRANCH_CODE_MAX = limits.BRANCH_CODE_MAX
STAFF_NO_MAX = limits.STAFF_NO_MAX
STAFF_NAME_MAX = limits.PERSON_NAME_MAX
COUNTER_NAME_MAX = limits.COUNTER_NAME_MAX
LOCATION_MAX = limits.LOCATION_MAX
WINDOW_MAX = 999

_HOURS = re.compile(r"^(\d{1,2}):(\d{2})\s*[-–~至]\s*(\d{1,2}):(\d{2})$")
_CODE = re.compile(r"^[0-9A-Za-z]+$")
_STAFF_NO = re.compile(r"^[0-9A-Za-z_-]+$")


# ---------------------------------------------------------------- who acts


@dataclass(frozen=True)
class Person:
    staff_no: str
    name: str
    role: str

    @property
    def role_label(self) -> str:
        return role_label(self.role)


def check_person(s: Session, staff_no: str, roles: Sequence[str], *, doing: str) -> Person:
    """The person a command acts for: must exist, be active, not locked, and hold a role
    (the rule: ``closed.check_staff``, plain SQL, which ``lobby-app ticket`` uses alone)."""
    return Person(*check_staff(s, staff_no, roles, doing=doing))


def require_person(store: Store, staff_no: str, roles: Sequence[str], *, doing: str) -> Person:
    with store.read() as s:
        return check_person(s, staff_no, roles, doing=doing)


def has_branch_head(s: Session) -> bool:
    """Is there an active branch head who can sign in (has a PIN)?"""
    return (
        s.scalar(
            select(Staff.staff_no)
            .where(Staff.role == "branch_head", Staff.active.is_(True), Staff.pin_hash != "")
            .limit(1)
        )
        is not None
    )


def anyone_can_sign_in_at_desk(store: Store) -> bool:
    """Is there a lobby manager, guide or branch head who could sign in at the desk? A
    freshly installed branch has nobody: its set-up comes first."""
    with store.read() as s:
        return (
            s.scalar(
                select(Staff.staff_no)
                .where(
                    Staff.role.in_(DESK_ROLES),
                    Staff.active.is_(True),
                    Staff.locked.is_(False),
                    Staff.pin_hash != "",
                )
                .limit(1)
            )
            is not None
        )


def branch_has_head(store: Store) -> bool:
    with store.read() as s:
        return has_branch_head(s)


def check_head(s: Session, actor: str) -> str:
    """A set-up change needs a branch head, once the branch has one (see the module doc)."""
    if not has_branch_head(s):
        return limits.check_actor(actor or "") or "setup"
    return check_person(s, actor, HEAD_ROLES, doing=tr("修改网点设置")).staff_no


# ---------------------------------------------------------------- the branch


def parse_hours(value: str) -> tuple[str, str]:
    m = _HOURS.match(value.strip())
    if not m or int(m[1]) > 23 or int(m[3]) > 23 or int(m[2]) > 59 or int(m[4]) > 59:
        raise LobbyError("bad_hours", tr(f"营业时间“{value}”应写成 09:00-17:00"), field="hours")
    start, end = f"{int(m[1]):02d}:{m[2]}", f"{int(m[3]):02d}:{m[4]}"
    if start >= end:
        raise LobbyError("bad_hours", tr(f"营业时间的开始 {start} 应早于结束 {end}"), field="hours")
    return start, end


def _text(value: str, label: str, limit: int, fld: str, *, required: bool = True) -> str:
    """Typed set-up text: the limit is head office's column (core/limits.py)."""
    return limits.check_text(
        value or "", field=fld, label=label, limit=limit, code="too_long", required=required
    )


def branch_changes(
    *,
    bank: str | None = None,
    name: str | None = None,
    code: str | None = None,
    hours: str | None = None,
    wait_target: int | str | None = None,
    idle_lock: int | str | None = None,
) -> dict[str, str]:
    """The settings a branch set-up changes, checked; only what was given."""
    out: dict[str, str] = {}
    if bank is not None:
        out["bank_name"] = _text(bank, tr("银行名称"), BANK_NAME_MAX, "bank")
    if name is not None:
        out["branch_name"] = _text(name, tr("网点名称"), BRANCH_NAME_MAX, "name")
    if code is not None:
        c = _text(code, tr("网点代码"), BRANCH_CODE_MAX, "code")
        if not _CODE.match(c):
            raise LobbyError("bad_code", tr("网点代码只能是字母和数字"), field="code")
        out["branch_code"] = c
    if hours is not None:
        out["open_time"], out["close_time"] = parse_hours(hours)
    if wait_target is not None:
        out["wait_target_min"] = str(_minutes(wait_target, tr("等候目标"), "wait_target", 120))
    if idle_lock is not None:
        out["desk_idle_lock_min"] = str(_minutes(idle_lock, tr("空闲锁屏时间"), "idle_lock", 240))
    return out


def _minutes(value: int | str, label: str, fld: str, most: int) -> int:
    try:
        n = int(str(value).strip())
    except ValueError:
        n = -1
    if not 1 <= n <= most:
        raise LobbyError("bad_minutes", tr(f"{label}应为 1 到 {most} 分钟"), field=fld)
    return n


def set_branch(store: Store, changes: dict[str, str], *, actor: str) -> dict[str, str]:
    """Apply ``branch_changes(...)``; returns the branch's set-up after the change."""
    from lobby_app.store.setup import load_settings, put_setting

    with store.write() as s:
        who = check_head(s, actor)
        for key, value in changes.items():
            put_setting(s, key, value)
        s.add(AuditEvent(actor=who, action="branch", detail=",".join(sorted(changes))))
        return branch_view(load_settings(s))


def branch_view(st: BranchSettings) -> dict[str, str]:
    """The branch as its head sets it up (``lobby-app branch``, the 网点 tab)."""
    return {
        "bank_name": st.bank_name,
        "branch_name": st.branch_name,
        "branch_code": st.branch_code,
        "hours": f"{st.open_time}-{st.close_time}",
        "wait_target_min": str(st.wait_target_min),
        "desk_idle_lock_min": str(st.desk_idle_lock_min),
    }


# ---------------------------------------------------------------- counters


@dataclass(frozen=True)
class CounterInfo:
    window: int
    name: str
    kind: str
    kind_label: str
    zones: list[str]
    vip_window: bool
    priority_window: bool
    retired: bool
    open: bool  # open for customers: paused or not, and a teller signed in
    staff_no: str | None
    staff_name: str | None

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def _counter_info(c: Counter, names: dict[str, str]) -> CounterInfo:
    kind = COUNTER_KINDS.get(c.kind)
    return CounterInfo(
        window=c.window_no,
        name=c.name,
        kind=c.kind,
        kind_label=kind.label if kind else c.kind,
        zones=[z for z in c.zones.split(",") if z],
        vip_window=c.vip_window,
        priority_window=c.priority_window,
        retired=c.retired_at is not None,
        open=is_serving(c),
        staff_no=c.staff_no,
        staff_name=names.get(c.staff_no or ""),
    )


def is_serving(c: Counter) -> bool:
    """A window counts as open only while a signed-in teller has it open (not retired)."""
    return bool(c.is_open and c.staff_no and c.retired_at is None)


def list_counters(store: Store, *, include_retired: bool = False) -> list[CounterInfo]:
    with store.read() as s:
        names = dict(s.execute(select(Staff.staff_no, Staff.name)).all())
        q = select(Counter).order_by(Counter.window_no)
        if not include_retired:
            q = q.where(Counter.retired_at.is_(None))
        return [_counter_info(c, names) for c in s.scalars(q)]


def _window_no(value: int | str) -> int:
    try:
        n = int(str(value).strip())
    except ValueError:
        n = 0
    if not 1 <= n <= WINDOW_MAX:
        raise LobbyError("bad_window", tr(f"窗口号应为 1 到 {WINDOW_MAX} 的整数"), field="number")
    return n


def add_counter(
    store: Store,
    number: int | str,
    *,
    name: str,
    kind: str,
    zones: str | Sequence[str] | None = None,
    vip_window: bool | None = None,
    priority_window: bool = False,
    actor: str,
) -> CounterInfo:
    no = _window_no(number)
    label = _text(name, tr("窗口名称"), COUNTER_NAME_MAX, "name")
    k = parse_counter_kind(kind)
    zs = parse_zones(zones) if zones else k.zones
    with store.write() as s:
        who = check_head(s, actor)
        if s.scalar(select(Counter).where(Counter.window_no == no)) is not None:
            raise LobbyError(
                "window_exists",
                tr(f"{no} 号窗口已存在(含已撤销的)，请换一个窗口号，或用 counter edit 修改"),
                field="number",
            )
        c = Counter(
            window_no=no,
            name=label,
            kind=k.code,
            zones=",".join(z.value for z in zs),
            vip_window=k.vip_window if vip_window is None else vip_window,
            priority_window=priority_window,
            is_open=False,  # opens when a teller signs in and opens it
        )
        s.add(c)
        s.add(AuditEvent(actor=who, action="counter_add", detail=f"{no} {label} {k.code}"))
        s.flush()
        return _counter_info(c, {})


def edit_counter(
    store: Store,
    number: int | str,
    *,
    name: str | None = None,
    kind: str | None = None,
    zones: str | Sequence[str] | None = None,
    vip_window: bool | None = None,
    priority_window: bool | None = None,
    actor: str,
) -> CounterInfo:
    no = _window_no(number)
    with store.write() as s:
        who = check_head(s, actor)
        c = s.scalar(select(Counter).where(Counter.window_no == no))
        if c is None:
            raise LobbyError("unknown_window", tr(f"没有 {no} 号窗口"), field="number")
        changed = []
        if name is not None:
            c.name = _text(name, tr("窗口名称"), COUNTER_NAME_MAX, "name")
            changed.append("name")
        if kind is not None:
            k = parse_counter_kind(kind)
            c.kind = k.code
            changed.append("kind")
            if zones is None:  # a new kind brings its zones unless zones are given too
                c.zones = ",".join(z.value for z in k.zones)
            if vip_window is None:
                c.vip_window = k.vip_window
        if zones is not None:
            c.zones = ",".join(z.value for z in parse_zones(zones))
            changed.append("zones")
        if vip_window is not None:
            c.vip_window = vip_window
            changed.append("vip_window")
        if priority_window is not None:
            c.priority_window = priority_window
            changed.append("priority_window")
        s.add(AuditEvent(actor=who, action="counter_edit", detail=f"{no} {','.join(changed)}"))
        names = dict(s.execute(select(Staff.staff_no, Staff.name)).all())
        return _counter_info(c, names)


def retire_counter(store: Store, number: int | str, *, actor: str) -> CounterInfo:
    """Take a counter out of service for good; past days keep its name and figures."""
    no = _window_no(number)
    now = utcnow()
    with store.write() as s:
        who = check_head(s, actor)
        c = s.scalar(select(Counter).where(Counter.window_no == no))
        if c is None:
            raise LobbyError("unknown_window", tr(f"没有 {no} 号窗口"), field="number")
        busy = s.scalar(
            select(Ticket.number)
            .where(Ticket.window_no == no, Ticket.status.in_(("called", "serving")))
            .limit(1)
        )
        if busy:
            raise LobbyError(
                "window_busy",
                tr(f"{no} 号窗口正在办理 {busy}，请办完后再撤销"),
                field="number",
            )
        if c.retired_at is None:
            if is_serving(c):
                s.add(CounterEvent(window_no=no, is_open=False, actor=who, at=now))
            c.retired_at, c.is_open, c.staff_no, c.signed_in_at = now, False, None, None
            s.add(AuditEvent(actor=who, action="counter_retire", detail=str(no)))
        return _counter_info(c, {})


# ---------------------------------------------------------------- staff


@dataclass(frozen=True)
class StaffInfo:
    staff_no: str
    name: str
    role: str
    role_label: str
    active: bool
    locked: bool
    has_pin: bool
    location: str
    window: int | None  # where they are signed in, if at a counter

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def _staff_info(st: Staff, windows: dict[str, int], now: datetime) -> StaffInfo:
    locked = st.locked or bool(st.locked_until and st.locked_until > now)
    return StaffInfo(
        staff_no=st.staff_no,
        name=st.name,
        role=st.role,
        role_label=role_label(st.role),
        active=st.active,
        locked=locked,
        has_pin=bool(st.pin_hash),
        location=st.location,
        window=windows.get(st.staff_no),
    )


def list_staff(store: Store, *, include_inactive: bool = False) -> list[StaffInfo]:
    now = utcnow()
    with store.read() as s:
        windows: dict[str, int] = {
            str(no): w
            for w, no in s.execute(
                select(Counter.window_no, Counter.staff_no).where(Counter.staff_no.is_not(None))
            )
        }
        q = select(Staff).order_by(Staff.staff_no)
        if not include_inactive:
            q = q.where(Staff.active.is_(True))
        return [_staff_info(st, windows, now) for st in s.scalars(q)]


def _staff_no(value: str) -> str:
    no = _text(value, tr("工号"), STAFF_NO_MAX, "staff_no")
    if not _STAFF_NO.match(no):
        raise LobbyError(
            "bad_staff_no", tr(f"工号“{no}”只能由字母、数字、- 和 _ 组成"), field="staff_no"
        )
    return no


@dataclass
class StaffRow:
    staff_no: str
    name: str
    role: str
    pin: str | None = None
    location: str = ""


def check_staff_row(
    staff_no: str, name: str, role: str, pin: str | None = None, location: str = ""
) -> StaffRow:
    row = StaffRow(
        staff_no=_staff_no(staff_no),
        name=limits.check_name(name or "", label=tr("姓名"), code="too_long"),
        role=parse_role(role),
        pin=pin or None,
        location=_text(location, tr("位置"), LOCATION_MAX, "location", required=False),
    )
    if row.pin is not None:
        check_pin_format(row.pin)
    return row


def add_staff(
    store: Store,
    staff_no: str,
    *,
    name: str,
    role: str,
    pin: str | None = None,
    location: str = "",
    actor: str,
) -> StaffInfo:
    row = check_staff_row(staff_no, name, role, pin, location)
    digest = hash_pin(row.pin) if row.pin else ""  # slow: outside the transaction
    with store.write() as s:
        who = check_head(s, actor)
        if s.scalar(select(Staff).where(Staff.staff_no == row.staff_no)) is not None:
            raise LobbyError(
                "staff_exists",
                tr(f"工号 {row.staff_no} 已存在(含已停用的)，请用 staff edit 修改"),
                field="staff_no",
            )
        st = Staff(
            staff_no=row.staff_no,
            name=row.name,
            role=row.role,
            location=row.location,
            pin_hash=digest,
            active=True,
            locked=False,
            failed_logins=0,
        )
        s.add(st)
        s.add(AuditEvent(actor=who, action="staff_add", detail=f"{row.staff_no} {row.role}"))
        s.flush()
        return _staff_info(st, {}, utcnow())


def edit_staff(
    store: Store,
    staff_no: str,
    *,
    name: str | None = None,
    role: str | None = None,
    location: str | None = None,
    actor: str,
) -> StaffInfo:
    with store.write() as s:
        who = check_head(s, actor)
        st = _get_staff(s, staff_no)
        if name is not None:
            st.name = limits.check_name(name, label=tr("姓名"), code="too_long")
        if role is not None:
            new_role = parse_role(role)
            if st.role == "branch_head" and new_role != "branch_head":
                _keep_a_head(s, st.staff_no)
            st.role = new_role
        if location is not None:
            st.location = _text(location, tr("位置"), LOCATION_MAX, "location", required=False)
        s.add(AuditEvent(actor=who, action="staff_edit", detail=st.staff_no))
        return _staff_info(st, {}, utcnow())


def _get_staff(s: Session, staff_no: str) -> Staff:
    st = s.scalar(select(Staff).where(Staff.staff_no == (staff_no or "").strip()))
    if st is None:
        raise LobbyError("unknown_staff", tr(f"没有工号 {staff_no}"), field="staff_no")
    return st


def _keep_a_head(s: Session, leaving: str) -> None:
    """The branch must keep a branch head who can sign in, or nobody could set it up again."""
    others = s.scalar(
        select(func.count())
        .select_from(Staff)
        .where(
            Staff.role == "branch_head",
            Staff.active.is_(True),
            Staff.locked.is_(False),
            Staff.pin_hash != "",
            Staff.staff_no != leaving,
        )
    )
    if not others:
        raise LobbyError(
            "last_branch_head",
            tr(f"工号 {leaving} 是最后一位可登录的网点负责人：请先添加另一位网点负责人"),
            field="staff_no",
        )


def set_staff_state(store: Store, staff_no: str, change: str, *, actor: str) -> StaffInfo:
    """lock / unlock / deactivate / activate one person. Deactivating or locking signs them
    out of any counter (the window closes)."""
    now = utcnow()
    with store.write() as s:
        who = check_head(s, actor)
        st = _get_staff(s, staff_no)
        if change in ("lock", "deactivate") and st.role == "branch_head":
            _keep_a_head(s, st.staff_no)
        if change == "lock":
            st.locked = True
        elif change == "unlock":
            st.locked, st.locked_until, st.failed_logins = False, None, 0
        elif change == "deactivate":
            st.active = False
        elif change == "activate":
            st.active = True
        else:
            raise LobbyError("bad_change", tr(f"未知操作“{change}”"), field="change")
        if change in ("lock", "deactivate"):
            for c in s.scalars(select(Counter).where(Counter.staff_no == st.staff_no)):
                _sign_out(s, c, who, now)
        s.add(AuditEvent(actor=who, action=f"staff_{change}", detail=st.staff_no))
        return _staff_info(st, {}, now)


def _sign_out(s: Session, c: Counter, actor: str, now: datetime) -> None:
    if is_serving(c):
        s.add(CounterEvent(window_no=c.window_no, is_open=False, actor=actor, at=now))
    c.staff_no, c.signed_in_at, c.is_open = None, None, False


# ---------------------------------------------------------------- staff from CSV

STAFF_COLUMNS = {
    "staff_no": ("staff_no", "工号"),
    "name": ("name", "姓名"),
    "role": ("role", "岗位"),
    "pin": ("pin", "密码", "初始密码"),
    "location": ("location", "位置", "办公位置"),
}


@dataclass
class StaffImport:
    created: int = 0
    updated: int = 0
    errors: list[dict[str, object]] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        return bool(self.errors)

    def as_json(self) -> dict[str, object]:
        return {
            "created": self.created,
            "updated": self.updated,
            "rejected": self.rejected,
            "errors": self.errors,
        }


def parse_staff_csv(text: str) -> tuple[list[tuple[int, StaffRow]], list[dict[str, object]]]:
    """Rows of ``staff_no,name,role[,pin][,location]`` (English or Chinese headers), each
    checked; errors name the line and the column."""
    from lobby_app.core.customer_csv import guarded

    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    lines = guarded(reader, lambda: reader.line_num)  # a 128 KiB field: refused, not a crash
    try:
        header = [h.strip().lower() for h in next(lines)]
    except StopIteration:
        return [], [{"line": 1, "field": "", "message": tr("文件是空的")}]
    cols: dict[str, int] = {}
    for key, names in STAFF_COLUMNS.items():
        for i, h in enumerate(header):
            if h in names:
                cols[key] = i
    missing = [k for k in ("staff_no", "name", "role") if k not in cols]
    if missing:
        want = "、".join(f"{k}({STAFF_COLUMNS[k][1]})" for k in missing)
        return [], [{"line": 1, "field": ",".join(missing), "message": tr(f"第1行缺少列：{want}")}]
    rows: list[tuple[int, StaffRow]] = []
    errors: list[dict[str, object]] = []
    seen: dict[str, int] = {}
    for line, values in enumerate(lines, start=2):
        if not any(v.strip() for v in values):
            continue

        def get(key: str, values: list[str] = values) -> str:
            i = cols.get(key)
            return values[i].strip() if i is not None and i < len(values) else ""

        try:
            row = check_staff_row(
                get("staff_no"), get("name"), get("role"), get("pin") or None, get("location")
            )
        except LobbyError as exc:
            errors.append({"line": line, "field": exc.field or "", "message": exc.message})
            continue
        if row.staff_no in seen:
            errors.append(
                {
                    "line": line,
                    "field": "staff_no",
                    "message": tr(f"工号 {row.staff_no} 与第 {seen[row.staff_no]} 行重复"),
                }
            )
            continue
        seen[row.staff_no] = line
        rows.append((line, row))
    return rows, errors


def import_staff(store: Store, text: str, *, actor: str) -> StaffImport:
    """All or nothing: a file with any bad line changes nothing (a staff list is short; a
    half-imported one would be wrong at the counters)."""
    rows, errors = parse_staff_csv(text)
    result = StaffImport(errors=errors)
    if errors:
        return result
    digests = {r.staff_no: hash_pin(r.pin) for _, r in rows if r.pin}
    with store.write() as s:
        who = check_head(s, actor)
        existing = {st.staff_no: st for st in s.scalars(select(Staff))}
        for _, r in rows:
            st = existing.get(r.staff_no)
            if st is None:
                st = Staff(
                    staff_no=r.staff_no,
                    active=True,
                    locked=False,
                    failed_logins=0,
                    pin_hash="",
                )
                s.add(st)
                result.created += 1
            else:
                result.updated += 1
            st.name, st.role, st.location = r.name, r.role, r.location
            if r.staff_no in digests:
                st.pin_hash, st.failed_logins, st.locked_until = digests[r.staff_no], 0, None
        s.add(
            AuditEvent(
                actor=who,
                action="staff_import",
                detail=f"created={result.created} updated={result.updated}",
            )
        )
    return result


# ---------------------------------------------------------------- signing in at a counter


def sign_in_counter(
    store: Store, window: int, staff_no: str, *, now: datetime | None = None
) -> CounterInfo:
    """A teller takes a window (at the start of a shift, or taking over from a colleague).
    The window's open/paused state is kept; it serves only while someone is signed in."""
    now = now or utcnow()
    with store.write() as s:
        c = s.scalar(select(Counter).where(Counter.window_no == window))
        if c is None or c.retired_at is not None:
            raise LobbyError(
                "unknown_window", tr(f"没有 {window} 号窗口，请检查窗口号"), field="window"
            )
        who = sign_in(s, c, staff_no, now)
        return _counter_info(c, {who.staff_no: who.name})


def sign_in(s: Session, c: Counter, staff_no: str, now: datetime) -> Person:
    """``sign_in_counter`` inside a command's own transaction."""
    zones = [Zone(z) for z in c.zones.split(",") if z]
    # only a post that serves every zone of the window (core/staffing.py counter_roles)
    roles = counter_roles(zones, cash=c.kind in CASH_KINDS)
    who = check_person(s, staff_no, roles, doing=tr(f"在 {c.window_no} 号窗口签到"))
    # one person, one window: signing in here signs them out of any other window
    for other in s.scalars(
        select(Counter).where(Counter.staff_no == who.staff_no, Counter.window_no != c.window_no)
    ):
        _sign_out(s, other, who.staff_no, now)
    was = is_serving(c)
    previous = c.staff_no
    c.staff_no, c.signed_in_at = who.staff_no, now
    if is_serving(c) and not was:
        s.add(CounterEvent(window_no=c.window_no, is_open=True, actor=who.staff_no, at=now))
    detail = f"{c.window_no}" + (
        f" takeover from {previous}" if previous and previous != who.staff_no else ""
    )
    s.add(AuditEvent(actor=who.staff_no, action="window_sign_in", detail=detail))
    return who


def sign_out_counter(
    store: Store,
    window: int,
    *,
    actor: str,
    only_if: str | None = None,
    now: datetime | None = None,
) -> CounterInfo:
    """The teller leaves the window: it stops taking customers (closed) until someone signs
    in and opens it. ``only_if``: sign out only if that person is still the one signed in
    (a station closing does not sign out a colleague who took over)."""
    now = now or utcnow()
    with store.write() as s:
        c = s.scalar(select(Counter).where(Counter.window_no == window))
        if c is None:
            raise LobbyError(
                "unknown_window", tr(f"没有 {window} 号窗口，请检查窗口号"), field="window"
            )
        if only_if is None or c.staff_no == only_if:
            if c.staff_no:
                s.add(
                    AuditEvent(
                        actor=actor or c.staff_no, action="window_sign_out", detail=str(window)
                    )
                )
            _sign_out(s, c, actor, now)
        return _counter_info(c, {})


def role_choices() -> list[tuple[str, str]]:
    """(role, label) for the set-up window and the help text, without the legacy split."""
    return [(r, lbl) for r, lbl in ROLE_LABELS.items() if r not in ("teller_closed", "teller_open")]
