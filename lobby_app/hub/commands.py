"""What each kind of station may ask the hub, and how each request runs on the store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lobby_app.core.business import parse_priority
from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.core.zones import parse_zone
from lobby_app.store import commands, teller
from lobby_app.store.db import Store
from lobby_app.store.views import LobbySnapshot

DESK_ROLES = ("lobby_manager", "lobby_guide", "branch_head")
TELLER_ROLES = ("teller_closed", "teller_open", "branch_head", "customer_manager")


@dataclass(frozen=True)
class Station:
    kind: str  # desk / teller / manager / display
    window: int | None
    staff_no: str
    role: str

    @property
    def actor(self) -> str:
        return self.staff_no or self.kind


Run = Callable[[Store, Station, dict[str, Any], str], object]


@dataclass(frozen=True)
class Command:
    run: Run
    stations: tuple[str, ...]
    changes_lobby: bool


def _window(station: Station, args: dict[str, Any]) -> int:
    window = station.window if station.kind == "teller" else args.get("window")
    if not isinstance(window, int):
        raise LobbyError("bad_args", tr("缺少窗口号 window"), field="window")
    return window


def _str(args: dict[str, Any], key: str, default: str = "") -> str:
    value = args.get(key, default)
    if not isinstance(value, str):
        raise LobbyError("bad_args", tr(f"{key} 应为字符串"), field=key)
    return value


def _issue(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
    needs = a.get("needs", [])
    if not isinstance(needs, list) or not all(isinstance(n, str) for n in needs):
        raise LobbyError("bad_args", tr("needs 应为字符串列表"), field="needs")
    req = commands.IssueRequest(
        business_code=_str(a, "business"),
        customer_id=a.get("customer_id") or None,
        vip=bool(a.get("vip", False)),
        vip_reason=_str(a, "vip_reason"),
        priority=parse_priority(_str(a, "priority")) if a.get("priority") else None,
        priority_reason=_str(a, "priority_reason"),
        needs=tuple(needs),
        greeting_note=_str(a, "greeting_note"),
        needs_note=_str(a, "needs_note"),
        zone=parse_zone(_str(a, "zone")) if a.get("zone") else None,
        zone_reason=_str(a, "zone_reason"),
        actor=st.actor,
    )
    return commands.issue_ticket(store, req, request_id=rid).as_json()


def _teller(fn: Callable[..., teller.WindowTicket]) -> Run:
    def run(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
        return fn(store, _window(st, a), actor=st.actor, request_id=rid).as_json()

    return run


def _transfer(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
    zone = parse_zone(_str(a, "to_zone")) if a.get("to_zone") else None
    to_window = a.get("to_window")
    if to_window is not None and not isinstance(to_window, int):
        raise LobbyError("bad_args", tr("to_window 应为整数"), field="to_window")
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


def _queue(store: Store, st: Station, a: dict[str, Any], rid: str) -> object:
    return public_lobby(commands.lobby_snapshot(store))


def public_lobby(snap: LobbySnapshot) -> dict[str, object]:
    """What any station, the public display included, may see: numbers and counts only."""
    return {
        "business_date": snap.business_date.isoformat(),
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
    "queue": Command(_queue, ("desk", "teller", "manager", "display"), False),
    "call_next": Command(_teller(teller.call_next), TELLER, True),
    "recall": Command(_teller(teller.recall), TELLER, True),
    "start": Command(_teller(teller.start), TELLER, True),
    "finish": Command(_teller(teller.finish), TELLER, True),
    "no_show": Command(_teller(teller.no_show), TELLER, True),
    "transfer": Command(_transfer, TELLER, True),
}

# Commands that announce themselves to every station (and the display) with a public event.
ANNOUNCED = {"call_next": "called", "recall": "called"}
