"""Customer tiers and VIP card levels by DOMAIN.md's asset thresholds (amounts in fen), and
the card rule of the branch manual (003 第十二条, 第十四条): a card is earned by the 3-month
daily average, or is a special approval (特批) with an approver and an end date; any other card
is due for downgrade at the monthly review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from lobby_app.core.i18n import tr

YUAN = 100  # amounts are kept as integer fen so money never meets binary floating point

MASS_LIMIT_FEN = 50_000 * YUAN
MID_HIGH_ASSETS_FEN = 200_000 * YUAN
MID_HIGH_LOANS_FEN = 500_000 * YUAN
CARD_STANDARD_FEN = 200_000 * YUAN
CARD_PLATINUM_FEN = 1_500_000 * YUAN
CARD_BLACK_GOLD_FEN = 6_000_000 * YUAN


class Tier(StrEnum):
    MASS = "mass"
    POTENTIAL = "potential"
    MID_HIGH = "mid_high"

    @property
    def label(self) -> str:
        return {
            Tier.MASS: tr("大众客户"),
            Tier.POTENTIAL: tr("潜力客户"),
            Tier.MID_HIGH: tr("中高端客户"),
        }[self]


class VipCard(StrEnum):
    STANDARD = "standard"
    PLATINUM = "platinum"
    BLACK_GOLD = "black_gold"

    @property
    def label(self) -> str:
        return {
            VipCard.STANDARD: tr("标准卡"),
            VipCard.PLATINUM: tr("白金卡"),
            VipCard.BLACK_GOLD: tr("黑金卡"),
        }[self]


# the 3-month daily average a card level needs (003 第五条; DOMAIN.md "VIP card levels")
CARD_THRESHOLD_FEN: dict[VipCard, int] = {
    VipCard.STANDARD: CARD_STANDARD_FEN,
    VipCard.PLATINUM: CARD_PLATINUM_FEN,
    VipCard.BLACK_GOLD: CARD_BLACK_GOLD_FEN,
}
_RANK = {card: i for i, card in enumerate(VipCard, start=1)}
CARD_VALID_YEARS = 2  # 003 第十四条: 贵宾卡有效期为两年


def card_rank(card: VipCard | None) -> int:
    """0 for no card, then standard < platinum < black-gold."""
    return _RANK[card] if card is not None else 0


def tier_for(assets_fen: int, loans_fen: int = 0) -> Tier:
    """Mid/high-end at 200,000 yuan of assets or 500,000 of personal loans."""
    if assets_fen >= MID_HIGH_ASSETS_FEN or loans_fen >= MID_HIGH_LOANS_FEN:
        return Tier.MID_HIGH
    if assets_fen >= MASS_LIMIT_FEN:
        return Tier.POTENTIAL
    return Tier.MASS


def vip_card_for(avg_assets_3m_fen: int) -> VipCard | None:
    """The card level earned by the three-month daily average of assets, if any."""
    if avg_assets_3m_fen >= CARD_BLACK_GOLD_FEN:
        return VipCard.BLACK_GOLD
    if avg_assets_3m_fen >= CARD_PLATINUM_FEN:
        return VipCard.PLATINUM
    if avg_assets_3m_fen >= CARD_STANDARD_FEN:
        return VipCard.STANDARD
    return None


def parse_vip_card(value: str) -> VipCard | None:
    """A card level named in a file: English id, Chinese name, or empty for none."""
    v = value.strip().lower()
    if v in ("", "none", "无", "-"):
        return None
    for card in VipCard:
        if v in (card.value, card.label, card.label.removesuffix("卡")):
            return card
    raise ValueError(value)


def is_vip(tier: Tier, card: VipCard | None) -> bool:
    """VIP by right: mid/high-end tier or holding a VIP card (special approvals included)."""
    return tier is Tier.MID_HIGH or card is not None


class CardStanding(StrEnum):
    """Where a customer's card stands against the card rule."""

    NONE = "none"  # no card
    EARNED = "earned"  # the 3-month daily average meets the card's threshold
    SPECIAL = "special"  # 特批: above what the assets earn, approved, within its end date
    DUE_DOWNGRADE = "due_downgrade"  # above what the assets earn, with no valid approval


@dataclass(frozen=True)
class SpecialApproval:
    """A 特批 card's approval: approved by head office (003 第十二条 2、第十三条), who and until
    when."""

    approved_by: str
    valid_until: date

    def valid_on(self, day: date) -> bool:
        return day <= self.valid_until


@dataclass(frozen=True)
class CardDecision:
    """The card a customer is served at, and why.

    ``card`` is the level that entitles VIP service (what routing and the green channel read);
    ``held`` is the card the customer holds when it is due for downgrade (a higher level than
    ``card``); ``special`` marks an approved special card (then ``card`` is the held card)."""

    card: VipCard | None
    special: bool
    held: VipCard | None
    standing: CardStanding


def decide_card(
    held: VipCard | None,
    avg_assets_3m_fen: int,
    approval: SpecialApproval | None,
    today: date,
) -> CardDecision:
    """The card rule. A held card at or below what the 3-month average earns is simply the
    earned level (the asset rule wins, 003 第十二条 1). A card above it is a special approval
    only with an approval valid ``today`` (第十二条 2); without one it is due for downgrade
    (第十四条: service continues at the level the assets earn, if any)."""
    earned = vip_card_for(avg_assets_3m_fen)
    if held is None or card_rank(earned) >= card_rank(held):
        return CardDecision(
            earned, False, None, CardStanding.EARNED if earned else CardStanding.NONE
        )
    if approval is not None and approval.valid_on(today):
        return CardDecision(held, True, None, CardStanding.SPECIAL)
    return CardDecision(earned, False, held, CardStanding.DUE_DOWNGRADE)


def card_note(
    card: VipCard | None,
    avg_assets_3m_fen: int,
    *,
    special: bool,
    approved_by: str,
    approved_until: date | None,
    held: VipCard | None,
    today: date,
) -> str:
    """A short Chinese label for a customer's card, as the desk shows it: a special approval
    names its approver and end date; a card due for downgrade says which standard the
    3-month average misses; an earned card, or none, needs no note."""
    if held is not None and card_rank(held) > card_rank(card):
        if approved_until is not None and approved_until < today:
            return tr(f"待降级：{held.label}特批已于{approved_until}到期(审批人{approved_by})")
        if approved_until is not None:  # approved, but past the branch's share of 特批
            return tr(f"待降级：{held.label}特批超出网点特批名额(审批人{approved_by})")
        return tr(f"待降级：近三月日均资产未达{held.label}标准")
    if card is None:
        return ""
    if special:
        if approved_until is None or not approved_by:  # e.g. a row from before the rule
            return tr(f"待降级：{card.label}特批没有审批记录")
        if approved_until < today:
            return tr(f"待降级：{card.label}特批已于{approved_until}到期(审批人{approved_by})")
        return tr(f"特批贵宾卡(审批人{approved_by}，有效至{approved_until})")
    if avg_assets_3m_fen < CARD_THRESHOLD_FEN[card]:  # e.g. head office's row since the review
        return tr(f"待降级：近三月日均资产未达{card.label}标准")
    return ""
