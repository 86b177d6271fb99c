"""The branch's people and counters as the branch manual names them: roles and counter kinds.

Roles (岗位, DOMAIN.md "Who works in the lobby"): what each may do is decided here, once,
for the desk, the windows, the customer managers' inbox and the command line.
Counter kinds (DOMAIN.md "Zones"): the kind says what a counter is; the zones it serves,
in order of preference, say whom it calls (a flexible window serves its home zone first).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.core.zones import Zone, parse_zone

# ---------------------------------------------------------------- roles

ROLE_LABELS: dict[str, str] = {
    "lobby_manager": tr("大堂经理"),
    "lobby_guide": tr("大堂引导员"),
    "teller": tr("柜员"),
    "teller_closed": tr("封闭式柜员"),
    "teller_open": tr("开放式柜员"),
    "customer_manager": tr("客户经理"),
    "branch_head": tr("网点负责人"),
}

# What a person types on the command line or in a CSV: the stored name, a short alias or
# the Chinese label.
ROLE_ALIASES: dict[str, str] = {"guide": "lobby_guide", "manager": "customer_manager"}

# Who may work at the greeting desk, sign in at a counter, and change the branch's set-up.
DESK_ROLES = ("lobby_manager", "lobby_guide", "branch_head")
COUNTER_ROLES = ("teller", "teller_closed", "teller_open", "customer_manager", "branch_head")
# A lobby guide assists at the self-service area (DOMAIN.md zones: "lobby guide assists").
SELF_SERVICE_ROLES = (*COUNTER_ROLES, "lobby_guide")
MANAGER_ROLES = ("customer_manager", "branch_head")
HEAD_ROLES = ("branch_head",)
# Who may close the day (the lobby manager at 5 pm, or the branch head).
CLOSE_DAY_ROLES = ("lobby_manager", "branch_head")


def parse_role(value: str, *, field: str = "role") -> str:
    v = value.strip()
    key = ROLE_ALIASES.get(v.lower(), v.lower())
    if key in ROLE_LABELS:
        return key
    for role, label in ROLE_LABELS.items():
        if v == label:
            return role
    names = "、".join(f"{r}({label})" for r, label in ROLE_LABELS.items() if r not in _LEGACY)
    raise LobbyError("unknown_role", tr(f"未知的岗位“{value}”。可选：{names}"), field=field)


_LEGACY = ("teller_closed", "teller_open")  # the demo's split teller roles, still accepted


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


# ---------------------------------------------------------------- counters


@dataclass(frozen=True)
class CounterKind:
    code: str
    label: str
    zones: tuple[Zone, ...]  # the zones it serves by default, home zone first
    vip_window: bool  # a VIP green-channel window by default


COUNTER_KINDS: dict[str, CounterKind] = {
    k.code: k
    for k in (
        CounterKind(
            "closed_cash", tr("封闭式现金柜台(高柜)"), (Zone.CLOSED_COUNTER,), vip_window=False
        ),
        CounterKind(
            "open_service", tr("开放式非现金柜台(低柜)"), (Zone.OPEN_COUNTER,), vip_window=False
        ),
        CounterKind(
            "vip_cash", tr("贵宾现金柜台"), (Zone.VIP, Zone.CLOSED_COUNTER), vip_window=True
        ),
        CounterKind("vip_room", tr("贵宾理财室"), (Zone.VIP,), vip_window=True),
        CounterKind("self_service", tr("自助服务区引导"), (Zone.SELF_SERVICE,), vip_window=False),
    )
}


def parse_counter_kind(value: str) -> CounterKind:
    v = value.strip()
    for k in COUNTER_KINDS.values():
        if v.lower() == k.code or v == k.label:
            return k
    names = "、".join(f"{k.code}({k.label})" for k in COUNTER_KINDS.values())
    raise LobbyError(
        "unknown_counter_kind", tr(f"未知的柜台类型“{value}”。可选：{names}"), field="kind"
    )


def guess_counter_kind(zones: Iterable[str], vip_window: bool) -> str:
    """The kind of a counter set up before kinds existed, from what it serves."""
    zs = list(zones)
    if "vip" in zs:
        return "vip_cash" if "closed_counter" in zs else "vip_room"
    if zs and zs[0] == "open_counter":
        return "open_service"
    if zs and zs[0] == "self_service":
        return "self_service"
    return "closed_cash"


def parse_zones(value: str | Iterable[str]) -> tuple[Zone, ...]:
    """``vip,closed_counter`` (or Chinese short labels, or prefixes) in order of preference;
    each zone once."""
    items = value.replace("，", ",").split(",") if isinstance(value, str) else list(value)
    out: list[Zone] = []
    for item in items:
        if not item.strip():
            continue
        z = parse_zone(item)
        if z in out:
            raise LobbyError("duplicate_zone", tr(f"服务区“{z.short_label}”重复了"), field="zones")
        out.append(z)
    if not out:
        raise LobbyError("no_zones", tr("至少要服务一个区域"), field="zones")
    return tuple(out)


# Who serves each zone at a counter (DOMAIN.md "Zones" and "Who works in the lobby"): cash
# work at the high counter is the closed-counter tellers'; non-cash work at the low counter
# the open-counter tellers'; the VIP room is the customer managers'; the VIP cash counter is
# a cash counter, kept by a cash teller (the VIP-window teller); a lobby guide assists at
# self-service. The generic ``teller`` serves either counter. A customer manager may cover
# a counter, and the branch head may take any window.
ZONE_ROLES: dict[Zone, tuple[str, ...]] = {
    Zone.CLOSED_COUNTER: ("teller", "teller_closed", "customer_manager", "branch_head"),
    Zone.OPEN_COUNTER: ("teller", "teller_open", "customer_manager", "branch_head"),
    Zone.VIP: ("customer_manager", "branch_head"),
    Zone.SELF_SERVICE: SELF_SERVICE_ROLES,
}
VIP_CASH_ROLES = ZONE_ROLES[Zone.CLOSED_COUNTER]


def counter_roles(zones: Iterable[Zone], *, cash: bool = False) -> tuple[str, ...]:
    """Who may sign in at a counter serving these zones: the roles that serve every one of
    them (a teller may not claim a window whose customers their post does not serve, a VIP
    room least of all). At a cash counter (``cash``) the VIP zone is the VIP cash lane."""
    allowed: tuple[str, ...] | None = None
    for zone in dict.fromkeys(zones):
        roles = VIP_CASH_ROLES if cash and zone is Zone.VIP else ZONE_ROLES[zone]
        allowed = roles if allowed is None else tuple(r for r in allowed if r in roles)
    return allowed if allowed is not None else ("branch_head",)
