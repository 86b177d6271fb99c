"""Input the branch store refuses at the edge, with the words and the field, before it is
kept: what head office would refuse, what a terminal or a spreadsheet would run."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lobby_app.core.errors import LobbyError
from lobby_app.core.staffing import ROLE_LABELS
from lobby_app.core.zones import Zone
from lobby_app.models import Counter, Staff
from lobby_app.store import Store, admin, commands, walkin
from lobby_app.store.commands import IssueRequest
from lobby_app.store.demo import seed_demo


def test_long_actor_refused_even_before_the_branch_has_a_head(store: Store) -> None:
    """Defect pinned (issue 16 item 2): on a branch not yet set up, any ``--actor`` was
    recorded as typed (a set-up change needs no branch head yet), so 41 characters went into
    the audit and blocked the sync at head office's 40. Now refused, naming actor and 40."""
    with pytest.raises(LobbyError) as e:
        admin.add_staff(store, "L01", name="陈静", role="lobby_manager", actor="A" * 41)
    assert e.value.field == "actor" and "40" in e.value.message
    assert admin.list_staff(store) == []
    with pytest.raises(LobbyError) as e:
        commands.issue_ticket(store, IssueRequest("cash", actor="A" * 41))
    assert e.value.field == "actor"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("greeting_note", "带孙子\x00来的"),
        ("needs_note", "定期\x1b[2J到期"),
        ("vip_reason", "\u202e老客户"),
        ("zone_reason", "客户\x07要求"),
    ],
)
def test_ticket_notes_with_control_characters_refused(store: Store, field: str, value: str) -> None:
    """Defect pinned (issue 16 item 2): a NUL in a note was stored, and head office's
    database refuses NUL in text: that ticket blocked every later upload."""
    with pytest.raises(LobbyError) as e:
        commands.issue_ticket(store, IssueRequest("cash", **{field: value}))  # type: ignore[arg-type]
    assert e.value.code == "bad_text" and e.value.field == field
    assert commands.lobby_snapshot(store).issued_today == 0
    # lines and tabs are fine in a note
    assert commands.issue_ticket(store, IssueRequest("cash", needs_note="定期到期\n\t想了解理财"))


@pytest.mark.parametrize(
    "name", ["=cmd|' /C calc'!A0", "@SUM(1+1)", "张\u202e三", "李\x00四", "王\x1b[0m五"]
)
def test_walk_in_and_staff_names_refused(store: Store, name: str) -> None:
    """Defect pinned (issue 16 item 12): NUL, ESC, right-to-left overrides and ``=cmd|``
    formulas were taken into customer (import), walk-in and staff names."""
    from lobby_app.core.customer_csv import parse_customer_csv

    parsed = parse_customer_csv(f"customer_no,name\nC1,{name}\n")
    assert parsed.records == [] and [(e.line, e.field) for e in parsed.errors] == [(2, "name")]
    admin.add_staff(store, "L01", name="陈静", role="lobby_manager", actor="setup")
    with pytest.raises(LobbyError) as e:
        walkin.register_walk_in(store, name=name, phone="13800138000", consent=True, actor="L01")
    assert e.value.field == "name"
    with pytest.raises(LobbyError) as e:
        admin.add_staff(store, "T01", name=name, role="teller", actor="setup")
    assert e.value.field == "name"
    assert [p.staff_no for p in admin.list_staff(store)] == ["L01"]


@pytest.fixture
def demo(store: Store) -> Store:
    seed_demo(store, customers=20)
    return store


SIGN_INS = [
    ("T01", 7, False),  # a closed-counter teller claims the VIP room
    ("T04", 7, False),  # an open-counter teller too
    ("T04", 1, False),  # an open-counter teller at the cash counter
    ("T01", 5, False),  # a cash teller at the low counter
    ("T04", 4, False),  # the VIP cash counter is a cash counter
    ("T06", 4, True),  # the VIP-window teller
    ("T01", 2, True),
    ("T04", 6, True),
    ("M01", 7, True),  # the VIP room is the customer managers'
    ("M03", 1, True),  # a customer manager may cover a counter
    ("B01", 7, True),
    ("G01", 8, True),  # the lobby guide at self-service
    ("G01", 1, False),
]


def test_a_teller_signs_in_only_where_their_post_serves(demo: Store) -> None:
    """Defect pinned (issue 16 item 12): any teller could sign in at any window, the VIP
    room included, and so take its customers. Now the post must serve every zone the window
    serves (core/staffing.py ``counter_roles``)."""
    got = []
    for staff, window, _ in SIGN_INS:
        try:
            got.append(admin.sign_in_counter(demo, window, staff).staff_no == staff)
        except LobbyError as exc:
            assert exc.code == "wrong_role"
            got.append(False)
    assert got == [allowed for _, _, allowed in SIGN_INS]


ZONES = st.lists(st.sampled_from(list(Zone)), min_size=1, max_size=4, unique=True)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(zones=ZONES, cash=st.booleans(), role=st.sampled_from(list(ROLE_LABELS)))
def test_sign_in_rule(store: Store, zones: list[Zone], cash: bool, role: str) -> None:
    """Rule: a post may take a window only if it serves every zone the window serves (at a
    cash counter the VIP zone is cash work); the VIP room never admits a teller; the branch
    head takes any window."""
    from lobby_app.core.staffing import ZONE_ROLES, counter_roles

    allowed = counter_roles(zones, cash=cash)
    for zone in zones:
        serves = ZONE_ROLES[Zone.CLOSED_COUNTER] if cash and zone is Zone.VIP else ZONE_ROLES[zone]
        if role not in serves:
            assert role not in allowed
    if zones == [Zone.VIP] and not cash:
        assert not set(allowed) & {"teller", "teller_closed", "teller_open", "lobby_guide"}
    assert "branch_head" in allowed
    with store.write() as s:  # and the store applies that rule
        s.query(Counter).delete()
        s.query(Staff).delete()
        s.add(
            Counter(
                window_no=1,
                name="1",
                zones=",".join(z.value for z in zones),
                kind="vip_cash" if cash else "open_service",
            )
        )
        s.add(Staff(staff_no="X1", name="某", role=role, pin_hash=""))
    try:
        admin.sign_in_counter(store, 1, "X1")
        signed = True
    except LobbyError as exc:
        assert exc.code == "wrong_role"
        signed = False
    assert signed == (role in allowed)
