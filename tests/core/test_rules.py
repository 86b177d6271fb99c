import pytest

from lobby_app.core.business import (
    DEFAULT_BUSINESS_TYPES,
    PriorityKind,
    find_business,
    parse_need,
    parse_priority,
)
from lobby_app.core.errors import LobbyError
from lobby_app.core.routing import suggest_zone
from lobby_app.core.tiers import YUAN, Tier, VipCard, is_vip, parse_vip_card, tier_for, vip_card_for
from lobby_app.core.zones import Zone, parse_zone

B = {b.code: b for b in DEFAULT_BUSINESS_TYPES}


@pytest.mark.parametrize(
    ("assets", "loans", "tier"),
    [
        (0, 0, Tier.MASS),
        (49_999.99, 0, Tier.MASS),
        (50_000, 0, Tier.POTENTIAL),
        (199_999.99, 0, Tier.POTENTIAL),
        (200_000, 0, Tier.MID_HIGH),
        (1_000, 499_999.99, Tier.MASS),
        (1_000, 500_000, Tier.MID_HIGH),
    ],
)
def test_tier_thresholds(assets: float, loans: float, tier: Tier) -> None:
    assert tier_for(round(assets * YUAN), round(loans * YUAN)) is tier


@pytest.mark.parametrize(
    ("avg", "card"),
    [
        (199_999.99, None),
        (200_000, VipCard.STANDARD),
        (1_499_999, VipCard.STANDARD),
        (1_500_000, VipCard.PLATINUM),
        (5_999_999.99, VipCard.PLATINUM),
        (6_000_000, VipCard.BLACK_GOLD),
    ],
)
def test_vip_card_thresholds(avg: float, card: VipCard | None) -> None:
    assert vip_card_for(round(avg * YUAN)) is card


def test_vip_card_names() -> None:
    assert parse_vip_card("白金卡") is VipCard.PLATINUM
    assert parse_vip_card("黑金") is VipCard.BLACK_GOLD
    assert parse_vip_card("") is None
    with pytest.raises(ValueError):
        parse_vip_card("钻石卡")


def test_vip_by_tier_or_card() -> None:
    assert is_vip(Tier.MID_HIGH, None)
    assert is_vip(Tier.MASS, VipCard.STANDARD)  # a special-approval card
    assert not is_vip(Tier.POTENTIAL, None)


def test_routing_by_business() -> None:
    assert suggest_zone(B["cash"], tier=Tier.MASS).zone is Zone.CLOSED_COUNTER
    assert suggest_zone(B["open_account"], tier=Tier.POTENTIAL).zone is Zone.OPEN_COUNTER
    assert suggest_zone(B["query"], tier=None).zone is Zone.SELF_SERVICE


def test_routing_vip_goes_to_vip_area_with_reason() -> None:
    s = suggest_zone(B["cash"], tier=Tier.MID_HIGH)
    assert s.zone is Zone.VIP and "中高端" in s.reason
    s = suggest_zone(B["cash"], tier=Tier.MASS, vip_card=VipCard.PLATINUM)
    assert s.zone is Zone.VIP and "白金卡" in s.reason
    assert suggest_zone(B["query"], tier=None, vip=True).zone is Zone.VIP


def test_priority_customers_are_served_ahead_in_the_zone_their_business_needs() -> None:
    """Issue 15 item 5 (DOMAIN.md: "Served ahead in the zone their business needs")."""
    s = suggest_zone(B["self_service"], tier=Tier.MASS, priority=PriorityKind.ELDERLY)
    assert s.zone is Zone.SELF_SERVICE and "老年人" in s.reason and "引导员" in s.reason
    assert suggest_zone(B["cash"], tier=None, priority=PriorityKind.PREGNANT).zone is (
        Zone.CLOSED_COUNTER
    )


def test_vip_routing_follows_the_open_vip_counters() -> None:
    """Issue 15 items 1-2: VIP cash to the VIP cash counter, else the high counter's green
    channel; VIP non-cash to the VIP room, else the counter their business needs."""
    all_open = {"vip", "vip_cash", "closed_counter", "open_counter"}
    card = VipCard.BLACK_GOLD
    assert suggest_zone(B["cash"], tier=Tier.MID_HIGH, served=all_open).zone is Zone.VIP
    no_cash = all_open - {"vip_cash"}
    s = suggest_zone(B["cash"], tier=Tier.MASS, vip_card=card, served=no_cash)
    assert s.zone is Zone.CLOSED_COUNTER and "贵宾现金柜台未开放" in s.reason
    assert suggest_zone(B["wealth"], tier=Tier.MID_HIGH, served=no_cash).zone is Zone.VIP
    no_room = all_open - {"vip"}
    s = suggest_zone(B["wealth"], tier=Tier.MID_HIGH, served=no_room)
    assert s.zone is Zone.OPEN_COUNTER and "贵宾理财室未开放" in s.reason
    assert suggest_zone(B["query"], tier=None, vip=True, served=set()).zone is Zone.OPEN_COUNTER


def test_unknown_codes_are_clear_errors() -> None:
    with pytest.raises(LobbyError) as e:
        find_business("bogus", DEFAULT_BUSINESS_TYPES)
    assert e.value.code == "unknown_business" and "cash" in e.value.message
    with pytest.raises(LobbyError):
        parse_zone("lobby")
    with pytest.raises(LobbyError):
        parse_priority("tired")
    with pytest.raises(LobbyError):
        parse_need("yacht")


def test_parsers_accept_chinese() -> None:
    assert parse_zone("贵宾") is Zone.VIP
    assert parse_zone("A") is Zone.CLOSED_COUNTER
    assert parse_priority("孕妇") is PriorityKind.PREGNANT
    assert parse_need("存款到期") == "deposit_maturing"


def test_every_zone_has_its_own_prefix() -> None:
    assert len({z.prefix for z in Zone}) == len(Zone)
