"""Customer tiers and VIP card levels by DOMAIN.md's asset thresholds (amounts in fen)."""

from __future__ import annotations

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
