"""The four service zones a ticket can route to, their queue prefixes and waiting areas."""

from __future__ import annotations

from enum import StrEnum

from lobby_app.core.i18n import tr


class Zone(StrEnum):
    SELF_SERVICE = "self_service"
    CLOSED_COUNTER = "closed_counter"
    OPEN_COUNTER = "open_counter"
    VIP = "vip"

    @property
    def label(self) -> str:
        return ZONE_LABELS[self]

    @property
    def short_label(self) -> str:
        return ZONE_SHORT_LABELS[self]

    @property
    def prefix(self) -> str:
        """Ticket number prefix: one queue per zone, numbered per business date."""
        return ZONE_PREFIXES[self]

    @property
    def wait_area(self) -> str:
        return ZONE_WAIT_AREAS[self]


ZONE_LABELS: dict[Zone, str] = {
    Zone.SELF_SERVICE: tr("自助服务区"),
    Zone.CLOSED_COUNTER: tr("封闭式柜台服务区(高柜)"),
    Zone.OPEN_COUNTER: tr("开放式柜台服务区(低柜)"),
    Zone.VIP: tr("贵宾客户服务区"),
}

ZONE_SHORT_LABELS: dict[Zone, str] = {
    Zone.SELF_SERVICE: tr("自助"),
    Zone.CLOSED_COUNTER: tr("高柜"),
    Zone.OPEN_COUNTER: tr("低柜"),
    Zone.VIP: tr("贵宾"),
}

# A for cash (the closed counter), B for non-cash (the open counter), V for VIP and
# C for self-service guidance, as on the ticket machines branches already know.
ZONE_PREFIXES: dict[Zone, str] = {
    Zone.CLOSED_COUNTER: "A",
    Zone.OPEN_COUNTER: "B",
    Zone.SELF_SERVICE: "C",
    Zone.VIP: "V",
}

ZONE_WAIT_AREAS: dict[Zone, str] = {
    Zone.SELF_SERVICE: tr("请到自助服务区，大堂引导员将协助您办理"),
    Zone.CLOSED_COUNTER: tr("请在等候区就座，留意叫号屏，到高柜窗口办理"),
    Zone.OPEN_COUNTER: tr("请在等候区就座，留意叫号屏，到低柜窗口办理"),
    Zone.VIP: tr("请到贵宾客户服务区(理财室)休息等候"),
}


def parse_zone(value: str) -> Zone:
    """Accept the JSON id (``vip``), the prefix (``V``) or a Chinese label."""
    from lobby_app.core.errors import LobbyError

    v = value.strip()
    for z in Zone:
        if v.lower() == z.value or v.upper() == z.prefix or v in (z.label, z.short_label):
            return z
    names = "、".join(f"{z.value}({z.short_label})" for z in Zone)
    raise LobbyError("unknown_zone", tr(f"未知的服务区“{value}”。可选：{names}"), field="zone")
