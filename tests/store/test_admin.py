"""A branch set up from nothing: the branch, counters, staff, sign-in at windows, walk-ins."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from lobby_app.core.errors import LobbyError
from lobby_app.models import AuditEvent, Counter, Customer, Registration, Staff
from lobby_app.store import Store, admin, commands, teller, walkin
from lobby_app.store.commands import IssueRequest
from lobby_app.store.staff import login
from tests.conftest import make_id

STAFF_CSV = (
    "工号,姓名,岗位,初始密码,位置\n"
    "B01,周建华,branch_head,2468,\n"
    "L01,陈静,大堂经理,1357,迎宾台\n"
    "G01,刘洋,guide,,\n"
    "T01,王芳,teller,1111,\n"
    "T02,李强,teller,2222,\n"
    "M01,郑雅文,customer_manager,3333,贵宾理财室一\n"
)


@pytest.fixture
def branch(store: Store) -> Store:
    """A fresh branch set up as its head would: four counters and six staff."""
    admin.set_branch(
        store,
        admin.branch_changes(
            bank="江南银行", name="鼓楼支行", code="320106001", hours="08:30-17:00"
        ),
        actor="",
    )
    result = admin.import_staff(store, STAFF_CSV, actor="")
    assert (result.created, result.errors) == (6, [])
    for no, name, kind in (
        (1, "1号窗口", "closed_cash"),
        (2, "2号窗口", "closed_cash"),
        (3, "3号窗口", "open_service"),
        (4, "贵宾理财室一", "vip_room"),
    ):
        admin.add_counter(store, no, name=name, kind=kind, actor="B01")
    return store


def test_fresh_branch_set_up_from_nothing(branch: Store) -> None:
    st = commands.settings(branch)
    assert (st.bank_name, st.branch_name, st.branch_code) == ("江南银行", "鼓楼支行", "320106001")
    assert (st.open_time, st.close_time) == ("08:30", "17:00")
    counters = admin.list_counters(branch)
    assert [(c.window, c.kind, c.zones, c.vip_window) for c in counters] == [
        (1, "closed_cash", ["closed_counter"], False),
        (2, "closed_cash", ["closed_counter"], False),
        (3, "open_service", ["open_counter"], False),
        (4, "vip_room", ["vip"], True),
    ]
    assert not any(c.open for c in counters)  # nobody signed in yet
    people = {p.staff_no: p for p in admin.list_staff(branch)}
    assert people["G01"].role == "lobby_guide" and not people["G01"].has_pin
    assert people["L01"].role == "lobby_manager" and people["L01"].location == "迎宾台"
    assert login(branch, "L01", "1357").name == "陈静"


def test_set_up_needs_the_branch_head_once_there_is_one(branch: Store) -> None:
    with pytest.raises(LobbyError) as e:
        admin.add_counter(branch, 5, name="5号窗口", kind="closed_cash", actor="")
    assert e.value.code == "actor_required"
    with pytest.raises(LobbyError) as e:
        admin.add_counter(branch, 5, name="5号窗口", kind="closed_cash", actor="L01")
    assert e.value.code == "wrong_role" and "网点负责人" in e.value.message
    with pytest.raises(LobbyError) as e:
        admin.add_counter(branch, 5, name="5号窗口", kind="closed_cash", actor="X99")
    assert e.value.code == "unknown_staff"
    admin.add_counter(branch, 5, name="5号窗口", kind="closed_cash", actor="B01")


def test_flexible_counter_keeps_zone_order_and_edits(branch: Store) -> None:
    c = admin.add_counter(
        branch, 6, name="6号窗口", kind="vip_cash", zones="closed_counter,vip", actor="B01"
    )
    assert c.zones == ["closed_counter", "vip"] and c.vip_window
    c = admin.edit_counter(branch, 6, zones="vip,高柜", priority_window=True, actor="B01")
    assert c.zones == ["vip", "closed_counter"] and c.priority_window
    with pytest.raises(LobbyError) as e:
        admin.edit_counter(branch, 6, zones="vip,vip", actor="B01")
    assert e.value.code == "duplicate_zone"
    with pytest.raises(LobbyError) as e:
        admin.add_counter(branch, 1, name="重复", kind="closed_cash", actor="B01")
    assert e.value.code == "window_exists"
    with pytest.raises(LobbyError) as e:
        admin.add_counter(branch, 7, name="x" * 41, kind="closed_cash", actor="B01")
    assert e.value.field == "name"


def test_retired_counter_leaves_service_but_stays_on_record(branch: Store) -> None:
    teller.set_window_open(branch, 2, True, actor="T02")
    assert admin.list_counters(branch)[1].open
    admin.retire_counter(branch, 2, actor="B01")
    assert [c.window for c in admin.list_counters(branch)] == [1, 3, 4]
    every = admin.list_counters(branch, include_retired=True)
    assert [c.window for c in every if c.retired] == [2]
    with pytest.raises(LobbyError) as e:
        teller.call_next(branch, 2, actor="T02")
    assert e.value.code == "window_retired"
    assert 2 not in {c.window for c in teller.counters_view(branch)}


def test_window_serves_only_with_a_signed_in_teller(branch: Store) -> None:
    # a paused-or-not flag alone does not open a window: a teller must be signed in
    with pytest.raises(LobbyError) as e:
        teller.call_next(branch, 1, actor="T01")
    assert e.value.code == "no_teller"
    with pytest.raises(LobbyError) as e:
        teller.set_window_open(branch, 1, True, actor="")
    assert e.value.code == "no_teller"
    assert teller.set_window_open(branch, 1, True, actor="T01")  # signs T01 in
    assert teller.set_window_open(branch, 2, True, actor="T02")
    for _ in range(6):
        commands.issue_ticket(branch, IssueRequest(business_code="cash", actor="L01"))
    snap = {z.zone.value: z for z in commands.lobby_snapshot(branch).zones}
    assert snap["closed_counter"].open_windows == 2
    two_windows = snap["closed_counter"].estimated_wait_min
    admin.sign_out_counter(branch, 2, actor="T02")
    snap = {z.zone.value: z for z in commands.lobby_snapshot(branch).zones}
    assert snap["closed_counter"].open_windows == 1
    assert snap["closed_counter"].estimated_wait_min > two_windows
    with pytest.raises(LobbyError) as e:
        teller.call_next(branch, 2, actor="T02")
    assert e.value.code == "no_teller"
    got = teller.call_next(branch, 1, actor="T01")
    assert got.number == "A001"
    state = {c.window: c for c in teller.counters_view(branch)}
    assert state[1].is_open and state[1].staff_name == "王芳"
    assert not state[2].is_open and state[2].staff_no is None


def test_takeover_and_lock_sign_a_teller_out(branch: Store) -> None:
    teller.set_window_open(branch, 1, True, actor="T01")
    admin.sign_in_counter(branch, 1, "T02")  # shift change at window 1
    assert {c.window: c.staff_no for c in admin.list_counters(branch)}[1] == "T02"
    # the first teller's station closing later does not sign out the colleague
    admin.sign_out_counter(branch, 1, actor="T01", only_if="T01")
    assert admin.list_counters(branch)[0].open
    admin.set_staff_state(branch, "T02", "lock", actor="B01")
    assert not admin.list_counters(branch)[0].open
    with pytest.raises(LobbyError) as e:
        admin.sign_in_counter(branch, 1, "T02")
    assert e.value.code == "staff_locked"
    with pytest.raises(LobbyError) as e:
        login(branch, "T02", "2222")
    assert e.value.code == "login_locked"
    admin.set_staff_state(branch, "T02", "unlock", actor="B01")
    assert login(branch, "T02", "2222").staff_no == "T02"
    with pytest.raises(LobbyError) as e:
        admin.sign_in_counter(branch, 1, "L01")  # a lobby manager is no teller
    assert e.value.code == "wrong_role"
    admin.sign_in_counter(branch, 1, "M01")  # a customer manager may cover a counter
    admin.sign_in_counter(branch, 4, "M01")  # ... one window at a time
    signed = {c.window: c.staff_no for c in admin.list_counters(branch)}
    assert (signed[1], signed[4]) == (None, "M01")


def test_deactivated_staff_kept_and_refused(branch: Store) -> None:
    admin.set_staff_state(branch, "T01", "deactivate", actor="B01")
    assert "T01" not in {p.staff_no for p in admin.list_staff(branch)}
    assert "T01" in {p.staff_no for p in admin.list_staff(branch, include_inactive=True)}
    with pytest.raises(LobbyError) as e:
        admin.require_person(branch, "T01", ("teller",), doing="叫号")
    assert e.value.code == "staff_inactive"
    with pytest.raises(LobbyError) as e:
        admin.set_staff_state(branch, "B01", "deactivate", actor="B01")
    assert e.value.code == "last_branch_head"


def test_staff_csv_errors_name_line_and_field_and_import_nothing(store: Store) -> None:
    bad = (
        "staff_no,name,role,pin\n"
        "T01,王芳,teller,1111\n"
        "T02,,teller,\n"
        "T03,张敏,cashier,\n"
        "T01,王芳二,teller,\n"
        "T04,赵磊,teller,12\n"
    )
    result = admin.import_staff(store, bad, actor="")
    assert result.rejected and result.created == 0
    assert [(e["line"], e["field"]) for e in result.errors] == [
        (3, "name"),
        (4, "role"),
        (5, "staff_no"),
        (6, "pin"),
    ]
    assert admin.list_staff(store) == []
    missing = admin.import_staff(store, "工号,姓名\nT01,王芳\n", actor="")
    assert missing.errors[0]["line"] == 1 and "role" in str(missing.errors[0]["field"])


def test_forty_people_import_and_update(store: Store) -> None:
    rows = "\n".join(f"T{i:02d},员工{i},teller," for i in range(1, 41))
    result = admin.import_staff(store, "staff_no,name,role,pin\n" + rows + "\n", actor="")
    assert result.created == 40
    again = admin.import_staff(store, "staff_no,name,role\nT01,王芳,branch_head\n", actor="")
    assert (again.created, again.updated) == (0, 1)
    assert {p.staff_no: p.role for p in admin.list_staff(store)}["T01"] == "branch_head"


def test_branch_values_checked_with_head_office_limits(store: Store) -> None:
    for kwargs, fld in (
        ({"name": "网" * 121}, "name"),
        ({"code": "1" * 17}, "code"),
        ({"code": "32-01"}, "code"),
        ({"bank": "银行\x00"}, "bank"),
        ({"hours": "17:00-09:00"}, "hours"),
        ({"hours": "9点到5点"}, "hours"),
        ({"wait_target": "0"}, "wait_target"),
    ):
        with pytest.raises(LobbyError) as e:
            admin.branch_changes(**kwargs)
        assert e.value.field == fld, kwargs
    with pytest.raises(LobbyError):
        commands.change_settings(store, {"branch_name": "网" * 121}, actor="t")


@given(
    st.integers(min_value=0, max_value=23),
    st.integers(min_value=0, max_value=59),
    st.integers(min_value=0, max_value=23),
    st.integers(min_value=0, max_value=59),
)
def test_opening_hours_property(h1: int, m1: int, h2: int, m2: int) -> None:
    text = f"{h1}:{m1:02d}-{h2:02d}:{m2:02d}"
    if (h1, m1) < (h2, m2):
        assert admin.parse_hours(text) == (f"{h1:02d}:{m1:02d}", f"{h2:02d}:{m2:02d}")
    else:
        with pytest.raises(LobbyError):
            admin.parse_hours(text)


# ---------------------------------------------------------------- walk-ins


def test_walk_in_registered_found_and_audited(branch: Store) -> None:
    idn = make_id("32010219500101002")
    reg = walkin.register_walk_in(
        branch, name="钱老伯", phone="139 0000 1234", id_number=idn, consent=True, actor="G01"
    )
    assert reg.customer_no == "W32010600100001" and reg.phone_masked == "139****1234"
    for query in ("钱老伯", "13900001234", idn, "qlb", reg.customer_no):
        found = commands.lookup_customers(branch, query)
        assert [c.customer_no for c in found] == [reg.customer_no], query
    with branch.read() as s:
        cust = s.scalar(select(Customer).where(Customer.customer_no == reg.customer_no))
        assert cust is not None and cust.source == "branch" and cust.prospect
        assert cust.gender == "F" and cust.id_last4 == idn[-4:]
        row = s.scalar(select(Registration))
        assert row is not None and row.registered_by == "G01"
        audit = s.scalar(select(AuditEvent).where(AuditEvent.action == "register_customer"))
        assert audit is not None and audit.actor == "G01"
    # no full number anywhere in the store file
    raw = Path(branch.db_path).read_bytes()
    assert idn.encode() not in raw and b"13900001234" not in raw


def test_walk_in_refusals(branch: Store) -> None:
    with pytest.raises(LobbyError) as e:
        walkin.register_walk_in(branch, name="钱", phone="13900001234", consent=False, actor="L01")
    assert e.value.code == "consent_required"
    with pytest.raises(LobbyError) as e:
        walkin.register_walk_in(branch, name="钱", phone="13900001234", consent=True, actor="T01")
    assert e.value.code == "wrong_role"
    with pytest.raises(LobbyError) as e:
        walkin.register_walk_in(branch, name="钱", phone="02588886666", consent=True, actor="L01")
    assert e.value.field == "phone"
    walkin.register_walk_in(branch, name="钱", phone="13900001234", consent=True, actor="L01")
    with pytest.raises(LobbyError) as e:
        walkin.register_walk_in(branch, name="钱二", phone="13900001234", consent=True, actor="L01")
    assert e.value.code == "customer_exists" and "W320106001" in e.value.message
    with branch.read() as s:
        assert s.scalar(select(Staff).where(Staff.staff_no == "L01")) is not None
        assert len(s.scalars(select(Counter)).all()) == 4


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.text(alphabet="赵钱孙李周吴郑王冯陈褚卫", min_size=1, max_size=6), st.integers(0, 10**8 - 1)
)
def test_registered_walk_in_is_found_by_phone_property(branch: Store, name: str, tail: int) -> None:
    phone = f"186{tail:08d}"
    try:
        reg = walkin.register_walk_in(branch, name=name, phone=phone, consent=True, actor="L01")
    except LobbyError as exc:
        assert exc.code == "customer_exists"  # the same number drawn twice
        return
    assert reg.customer_no in [c.customer_no for c in commands.lookup_customers(branch, phone)]
