"""Which zone a ticket goes to: suggested from business, tier and flags; overridable."""

from __future__ import annotations

from dataclasses import dataclass

from lobby_app.core.business import BusinessType, Category, PriorityKind
from lobby_app.core.i18n import tr
from lobby_app.core.tiers import Tier, VipCard
from lobby_app.core.zones import Zone


@dataclass(frozen=True)
class ZoneSuggestion:
    zone: Zone
    reason: str  # Chinese, shown beside the suggestion so the lobby manager knows why


def suggest_zone(
    business: BusinessType,
    *,
    tier: Tier | None,
    vip_card: VipCard | None = None,
    vip: bool = False,
    priority: PriorityKind | None = None,
) -> ZoneSuggestion:
    """Suggest a zone the way DOMAIN.md routes customers.

    VIPs (flagged, mid/high-end or card holders) go to the VIP area whatever the business;
    everyone else goes where the business is done: cash to the closed counter, non-cash to
    the open counter, simple work to self-service, except priority customers, who are
    served at a counter rather than sent to a machine.
    """
    if vip or tier is Tier.MID_HIGH or vip_card is not None:
        why = tr("贵宾客户，引导至贵宾区")
        if not vip and tier is Tier.MID_HIGH:
            why = tr("中高端客户，引导至贵宾区")
        elif not vip and vip_card is not None:
            why = tr(f"{vip_card.label}客户，引导至贵宾区")
        return ZoneSuggestion(Zone.VIP, why)
    if business.category is Category.SELF_SERVICE:
        if priority is not None:
            counter = business.counter_zone or Zone.OPEN_COUNTER
            return ZoneSuggestion(
                counter, tr(f"{priority.label}优先，不引导至自助设备，到{counter.short_label}办理")
            )
        return ZoneSuggestion(Zone.SELF_SERVICE, tr("简单业务，引导至自助服务区分流"))
    if business.category is Category.CASH:
        return ZoneSuggestion(Zone.CLOSED_COUNTER, tr("现金业务，到高柜办理"))
    return ZoneSuggestion(business.zone, tr(f"非现金业务，到{business.zone.short_label}办理"))
