"""What each kind of station may ask the hub, and how each request runs on the store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from lobby_app.core import staffing
from lobby_app.core.business import parse_priority
from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.core.limits import check_amount_fen, check_day
from lobby_app.core.zones import parse_zone
from lobby_app.hub.protocol import is_int
from lobby_app.models.base import utcnow
from lobby_app.store import admin, commands, dayclose, referrals, teller, walkin
from lobby_app.store.db import Store
from lobby_app.store.views import LobbySnapshot

DESK_ROLES = staffing.DESK_ROLES
TELLER_ROLES = staffing.SELF_SERVICE_ROLES  # the counter itself narrows it (sign_in_counter)


@dataclass(frozen=True)
class Station:
    kind: str  # desk / teller / manager / display
    window: int | None
    staff_no: str
    role: str
    name: str = ""  # the person's name, for their own station's title

    @property
    def actor(self) -> str:
        return self.staff_no or self.kind


Run = Callable[[Store, Station, dict[str, Any], str], object]


@dataclass(frozen=True)
class Command:
    run: Run
    stations: tuple[str, ...]
    changes_lobby: bool


# Arguments are taken as their JSON type says, strictly: ``true`` is not window 1, the
# string "false" is not a yes, a list is not a customer id (issue 16 item 12).


def _window(station: Station, args: dict[str, Any]) -> int:
    window = station.window if station.kind == "teller" else args.get("window")
    if not is_int(window):
        raise LobbyError("bad_args", tr("缺少窗口号 window(整数)"), field="window")
    return window


def _str(args: dict[str, Any], key: str, default: str = "") -> str:
    value = args.get(key, default)
    if not isinstance(value, str):
        raise LobbyError("bad_args", tr(f"{key} 应为字符串"), field=key)
    return value


def _opt_str(args: dict[str, Any], key: str) -> str | None:
    """An optional string: absent, null or empty is None."""
    value = args.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise LobbyError("bad_args", tr(f"{key} 应为字符串或省略"), field=key)
    return value or None


def _bool(args: dict[str, Any], key: str, default: bool = False) -> bool:
    value = args.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise LobbyError("bad_args", tr(f"{key} 应为 true 或 false"), field=key)
    return value


def _opt_int(args: dict[str, Any], key: str) -> int | None:
    value = args.get(key)
    if value is None:
        return None
    if not is_int(value):
        raise LobbyError("bad_args", tr(f"{key} 应为整数"), field=key)
    return value


def _issue(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
    needs = a.get("needs")
    needs = [] if needs is None else needs
    if not isinstance(needs, list) or not all(isinstance(n, str) for n in needs):
        raise LobbyError("bad_args", tr("needs 应为字符串列表"), field="needs")
    priority, zone = _opt_str(a, "priority"), _opt_str(a, "zone")
    req = commands.IssueRequest(
        business_code=_str(a, "business"),
        customer_id=_opt_str(a, "customer_id"),
        vip=_bool(a, "vip"),
        vip_reason=_str(a, "vip_reason"),
        priority=parse_priority(priority) if priority else None,
        priority_reason=_str(a, "priority_reason"),
        needs=tuple(needs),
        greeting_note=_str(a, "greeting_note"),
        needs_note=_str(a, "needs_note"),
        zone=parse_zone(zone) if zone else None,
        zone_reason=_str(a, "zone_reason"),
        actor=st.actor,
    )
    return commands.issue_ticket(store, req, request_id=rid).as_json()


def _teller(fn: Callable[..., teller.WindowTicket], *, card: bool = False) -> Run:
    """A window command; calls hand the teller the pop-up card in the same reply."""

    def run(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
        result = fn(store, _window(st, a), actor=st.actor, request_id=rid).as_json()
        if card:
            result["card"] = referrals.ticket_card(store, str(result["ticket_id"]))
        return result

    return run


def _call_back(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
    result = teller.call_back(
        store, _window(st, a), _str(a, "ticket"), actor=st.actor, request_id=rid
    ).as_json()
    result["card"] = referrals.ticket_card(store, str(result["ticket_id"]))
    return result


def _rate(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
    score = a.get("score")
    if not is_int(score):
        raise LobbyError("bad_args", tr("score 应为 1 到 5 的整数"), field="score")
    return teller.rate(store, _window(st, a), score, request_id=rid).as_json()


def _day_arg(a: dict[str, Any], key: str) -> date | None:
    value = a.get(key)
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        raise LobbyError("bad_args", tr(f"{key} 应为日期，如 2026-11-20"), field=key) from None
    return check_day(day, field=key)


def _report(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
    start = _day_arg(a, "date") or commands.settings(store).business_date(utcnow())
    return dayclose.summary(store, start, _day_arg(a, "to") or start)


def _close_day(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
    return dayclose.close_day(
        store,
        _day_arg(a, "date"),
        actor=st.staff_no,
        reason=_str(a, "reason"),
        waiting=_str(a, "waiting", "left"),
        self_service=_str(a, "self_service", "done"),
        force=_bool(a, "force"),
    ).as_json()


def _sync_status(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
    from lobby_app.sync.engine import sync_status

    status = sync_status(store).as_json()
    status.pop("target", None)  # where head office is stays on the hub
    return status


def _window_open(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
    is_open = a.get("open")
    if not isinstance(is_open, bool):
        raise LobbyError("bad_args", tr("open 应为 true 或 false"), field="open")
    window = _window(st, a)
    return {
        "window": window,
        "open": teller.set_window_open(store, window, is_open, actor=st.actor),
    }


def _sign_out(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
    """The teller leaves the window (closing the teller window, end of shift): it closes."""
    window = _window(st, a)
    return admin.sign_out_counter(store, window, actor=st.actor, only_if=st.staff_no).as_json()


def _register(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
    return walkin.register_walk_in(
        store,
        name=_str(a, "name"),
        phone=_str(a, "phone"),
        id_number=_opt_str(a, "id_number"),
        consent=_bool(a, "consent"),
        actor=st.actor,
    ).as_json()


def _counters(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
    return [c.as_json() for c in teller.counters_view(store)]


def _card(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
    return referrals.ticket_card(store, _str(a, "ticket_id"))


def _refer(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
    """``slip_here``: the referring station prints the slip on its own printer (a teller's
    PC that has one), so the desk, told so in the ``referral`` event, does not."""
    ref = referrals.refer(
        store,
        ticket_number=_str(a, "ticket"),
        to_staff=_str(a, "to"),
        need=_str(a, "need"),
        note=_str(a, "note"),
        actor=st.actor,
        request_id=rid,
    )
    return {**ref, "slip_here": _bool(a, "slip_here")}


def _head(st: Station) -> bool:
    return st.role == "branch_head"


def _inbox(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
    """A manager's own referrals (the branch head's all, with ``all``); at the desk, the
    status of all (the branch head: the details). ``referrals.referrals_for`` decides."""
    mine = st.kind == "manager" and not (_head(st) and _bool(a, "all"))
    return [
        r.as_json()
        for r in referrals.referrals_for(
            store,
            st.staff_no,
            to_staff=st.staff_no if mine else None,
            open_only=not _bool(a, "closed"),
        )
    ]


def _referral_detail(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
    """Only the manager it was sent to and the branch head see the details; refused and
    audited for another manager (``referrals.referral_detail``)."""
    return referrals.referral_detail(store, _str(a, "referral"), viewer=st.staff_no).as_json()


def _accept(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
    return referrals.accept(
        store, _str(a, "referral"), actor=st.actor, any_manager=_head(st), request_id=rid
    )


def _contact(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
    return referrals.contact(
        store, _str(a, "referral"), actor=st.actor, any_manager=_head(st), request_id=rid
    )


def _outcome(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
    amount = check_amount_fen(a.get("amount_fen", 0), field="amount_fen")
    follow = _str(a, "follow_up_on")
    try:
        follow_on = check_day(date.fromisoformat(follow), field="follow_up_on") if follow else None
    except ValueError:
        raise LobbyError(
            "bad_date", tr(f"跟进日期“{follow}”应为 YYYY-MM-DD"), field="follow_up_on"
        ) from None
    return referrals.record_outcome(
        store,
        _str(a, "referral"),
        outcome=_str(a, "outcome"),
        product=_str(a, "product"),
        amount_fen=amount,
        follow_up_on=follow_on,
        note=_str(a, "note"),
        actor=st.actor,
        any_manager=_head(st),
        request_id=rid,
    )


def _managers(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
    return referrals.managers(store)


def _transfer(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
    to_zone = _opt_str(a, "to_zone")
    zone = parse_zone(to_zone) if to_zone else None
    to_window = _opt_int(a, "to_window")
    return teller.transfer(
        store,
        _window(st, a),
        to_zone=zone,
        to_window=to_window,
        reason=_str(a, "reason"),
        actor=st.actor,
        request_id=rid,
    ).as_json()


def _lookup(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
    return [c.as_json() | {"id": c.id} for c in commands.lookup_customers(store, _str(a, "query"))]


def _customer(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
    return commands.customer_detail(store, _str(a, "customer_id"), actor=st.actor).as_json()


def _business_types(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
    return [
        {
            "code": b.code,
            "name": b.name,
            "category": b.category.value,
            "zone": b.zone.value,
            "service_minutes": b.service_minutes,
            "counter_zone": b.counter_zone.value if b.counter_zone else None,
            "sort_order": b.sort_order,
        }
        for b in commands.business_types(store)
    ]


def _branch(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
    settings = asdict(commands.settings(store))
    settings.pop("sync_url", None)  # carries the head office's password: not for stations
    return settings


def _lobby(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
    """The whole lobby for a desk: every waiting ticket with its business, flags and tier."""
    return commands.lobby_snapshot(store).as_json()


def _record_print(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
    ok = a.get("ok")
    if not isinstance(ok, bool):
        raise LobbyError("bad_args", tr("ok 应为 true 或 false"), field="ok")
    commands.record_print(
        store, _str(a, "ticket_id"), ok=ok, detail=_str(a, "detail")[:500], actor=st.actor
    )
    return {"recorded": True}


def _queue(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
    return lobby_for_all(store)


def lobby_for_all(store: Store) -> dict[str, object]:
    from lobby_app.store.lanes import recent_calls

    snap = commands.lobby_snapshot(store)
    with store.read_sql() as con:  # a display started mid-day lists the day's last calls
        recent = recent_calls(con, snap.business_date)
    return {**public_lobby(snap, snap.branch_name, snap.timezone), "recent_calls": recent}


def public_lobby(
    snap: LobbySnapshot, branch_name: str = "", timezone: str = ""
) -> dict[str, object]:
    """What any station, the public display included, may see: numbers and counts only."""
    return {
        "business_date": snap.business_date.isoformat(),
        "branch_name": branch_name,
        "timezone": timezone,
        "issued_today": snap.issued_today,
        "zones": [
            {
                "zone": z.zone.value,
                "waiting_count": len(z.waiting),
                "longest_wait_min": z.longest_wait_min,
                "estimated_wait_min": z.estimated_wait_min,
                "open_windows": z.open_windows,
                "waiting": [
                    {"number": e.number, "green_channel": e.green_channel} for e in z.waiting
                ],
            }
            for z in snap.zones
        ],
    }


TELLER = ("teller",)
DESK = ("desk",)
COMMANDS: dict[str, Command] = {
    "issue_ticket": Command(_issue, DESK, True),
    "lookup": Command(_lookup, (*DESK, "manager"), False),
    "customer": Command(_customer, (*DESK, "manager"), False),
    "business_types": Command(_business_types, (*DESK, *TELLER), False),
    "branch": Command(_branch, (*DESK, *TELLER, "manager"), False),
    "lobby": Command(_lobby, DESK, False),
    "record_print": Command(_record_print, DESK, False),
    "queue": Command(_queue, ("desk", "teller", "manager", "display"), False),
    "call_next": Command(_teller(teller.call_next, card=True), TELLER, True),
    "recall": Command(_teller(teller.recall, card=True), TELLER, True),
    "call_back": Command(_call_back, TELLER, True),
    "window_open": Command(_window_open, (*TELLER, *DESK), True),
    "counters": Command(_counters, (*DESK, *TELLER), False),
    "sign_out": Command(_sign_out, TELLER, True),
    "register_customer": Command(_register, DESK, False),
    "ticket_card": Command(_card, (*DESK, *TELLER, "manager"), False),
    "refer": Command(_refer, (*DESK, *TELLER), False),
    "referrals": Command(_inbox, (*DESK, "manager"), False),
    "referral": Command(_referral_detail, (*DESK, "manager"), False),
    "accept_referral": Command(_accept, ("manager",), False),
    "contact_referral": Command(_contact, ("manager",), False),
    "record_outcome": Command(_outcome, ("manager",), False),
    "managers": Command(_managers, (*DESK, *TELLER), False),
    "start": Command(_teller(teller.start), TELLER, True),
    "finish": Command(_teller(teller.finish), TELLER, True),
    "no_show": Command(_teller(teller.no_show), TELLER, True),
    "transfer": Command(_transfer, TELLER, True),
    "rate": Command(_rate, TELLER, False),
    "report": Command(_report, DESK, False),
    "close_day": Command(_close_day, DESK, True),
    "sync_status": Command(_sync_status, DESK, False),
}

# Commands that announce themselves to every station (and the display) with a public event.
ANNOUNCED = {"call_next": "called", "recall": "called", "call_back": "called"}
# Commands whose result goes, as a ``referral`` event, to the desks and the manager it names.
REFERRAL_EVENTS = ("refer", "accept_referral", "contact_referral", "record_outcome")
