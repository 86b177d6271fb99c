"""Which zone a ticket goes to: suggested from business, tier, flags and the open windows;
overridable by the lobby manager."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from lobby_app.core.business import BusinessType, Category, PriorityKind
from lobby_app.core.i18n import tr
from lobby_app.core.queue import VIP_CASH_LANE, VIP_LANE
from lobby_app.core.tiers import Tier, VipCard
from lobby_app.core.zones import Zone


@dataclass(frozen=True)
class ZoneSuggestion:
    zone: Zone
    reason: str  # Chinese, shown beside the suggestion so the lobby manager knows why


def business_zone(business: BusinessType) -> Zone:
    """The zone whose counter does this business (a machine's work: where it is done)."""
    if business.category is Category.CASH:
        return Zone.CLOSED_COUNTER
    return business.zone


def suggest_zone(
    business: BusinessType,
    *,
    tier: Tier | None,
    vip_card: VipCard | None = None,
    vip: bool = False,
    priority: PriorityKind | None = None,
    served: Collection[str] | None = None,
) -> ZoneSuggestion:
    """Suggest a zone the way DOMAIN.md routes customers.

    ``served`` is the set of lanes an open window with a signed-in teller serves now
    (``core.queue.served_lanes``); ``None`` when not known, then the VIP area is assumed open.

    - VIPs (flagged, mid/high-end or card holders) go to the VIP area: cash work to a VIP cash
      counter, other work to the VIP room. Where the one their business needs is not open,
      they are served in the green channel of the counter their business needs (003
      第二十四条: a branch without a VIP window takes flexible measures; DOMAIN.md: "where no
      VIP window is open, still served ahead of ordinary customers at the counter their
      business needs").
    - Everyone else goes where the business is done: cash to the closed counter, non-cash to
      the open counter, simple work to self-service. Priority customers are served in the zone
      their business needs, ahead of others (DOMAIN.md: "Served ahead in the zone their
      business needs"); at self-service the lobby guide helps them first.
    """
    cash = business.category is Category.CASH
    if vip or tier is Tier.MID_HIGH or vip_card is not None:
        who = tr("贵宾客户")
        if not vip and tier is Tier.MID_HIGH:
            who = tr("中高端客户")
        elif not vip and vip_card is not None:
            who = tr(f"{vip_card.label}客户")
        lane = VIP_CASH_LANE if cash else VIP_LANE
        if served is None or lane in served:
            where = tr("贵宾现金柜台") if cash else tr("贵宾理财室")
            return ZoneSuggestion(Zone.VIP, tr(f"{who}，引导至贵宾区({where})"))
        zone = business_zone(business)
        if zone is Zone.SELF_SERVICE:
            zone = business.counter_zone or Zone.OPEN_COUNTER
        missing = tr("贵宾现金柜台") if cash else tr("贵宾理财室")
        return ZoneSuggestion(
            zone, tr(f"{who}；{missing}未开放，到{zone.short_label}绿色通道优先办理")
        )
    zone = business_zone(business)
    if priority is not None:
        help_ = tr("，引导员优先协助") if zone is Zone.SELF_SERVICE else ""
        return ZoneSuggestion(
            zone, tr(f"{priority.label}优先，在{zone.short_label}绿色通道优先办理{help_}")
        )
    if zone is Zone.SELF_SERVICE:
        return ZoneSuggestion(zone, tr("简单业务，引导至自助服务区分流"))
    if cash:
        return ZoneSuggestion(zone, tr("现金业务，到高柜办理"))
    return ZoneSuggestion(zone, tr(f"非现金业务，到{zone.short_label}办理"))
