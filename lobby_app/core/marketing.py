"""一句话营销: the one sentence a teller says, chosen from the tier and the needs by an
editable rules table, and the credit rules for a referral sale (DOMAIN.md)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lobby_app.core.business import NEED_TAGS
from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.core.tiers import Tier


@dataclass(frozen=True)
class Rule:
    tier: str  # "" matches any tier
    need: str  # "" matches any need (and a visit without needs)
    sentence: str
    sort_order: int = 0
    active: bool = True


def _r(tier: str, need: str, sentence: str, order: int) -> Rule:
    return Rule(tier, need, sentence, order)


M, P, H, Q = Tier.MASS.value, Tier.POTENTIAL.value, Tier.MID_HIGH.value, "prospect"
DEFAULT_RULES: tuple[Rule, ...] = (
    _r(
        "",
        "deposit_maturing",
        tr("您的存款快到期了，我们有几款稳健理财，收益比定期更灵活，可以帮您对比一下。"),
        10,
    ),
    _r("", "remote_remit", tr("异地汇款用手机银行转账免手续费、实时到账，我帮您开通一下？"), 20),
    _r("", "large_cash", tr("大额取现建议提前一天预约，下次来就不用等了。"), 30),
    _r("", "pension", tr("养老金可以设置自动转存，零钱也能有收益，需要了解一下吗？"), 40),
    _r(H, "wealth", tr("您的专属客户经理刚好在理财室，新发的理财产品可以请她给您详细介绍。"), 50),
    _r("", "wealth", tr("我们有起点较低的稳健型理财，我请客户经理给您介绍一下？"), 60),
    _r("", "fund", tr("基金定投每月几百元就能开始，适合长期积累，需要了解吗？"), 70),
    _r(
        "",
        "insurance",
        tr("我们代理的保障型保险可以为家人多一份安心，客户经理可以为您详细讲解。"),
        80,
    ),
    _r("", "loan", tr("我们的个人贷款审批快，客户经理可以帮您测算额度。"), 90),
    _r("", "credit_card", tr("现在办信用卡有新客礼，我帮您看看适合哪一款？"), 100),
    _r("", "precious_metals", tr("我们有积存金业务，每月小额积存，可以了解一下。"), 110),
    _r("", "ebanking", tr("手机银行查询、转账都能自己办，不用排队，我帮您开通？"), 120),
    _r("", "fx", tr("出国用汇可以在手机银行预约购汇，到网点直接取。"), 130),
    _r("", "savings", tr("我们的大额存单利率比普通定期高一些，可以了解一下。"), 140),
    _r(H, "", tr("感谢您一直以来的支持，贵宾理财室随时为您服务，需要时请找您的客户经理。"), 900),
    _r(Q, "", tr("您可以留个方便联系的时间，我们的客户经理为您做一次免费的资产规划。"), 910),
    _r(P, "", tr("我们的稳健理财和大额存单很适合您，需要请客户经理给您介绍吗？"), 920),
    _r(M, "", tr("小额存取款用门口的自助设备更快，下次可以试试手机银行。"), 930),
    _r("", "", tr("手机银行可以办理大部分业务，不用排队，需要帮您开通吗？"), 999),
)


def pick_sentence(
    rules: Iterable[Rule], tier: str | None, needs: Sequence[str], *, prospect: bool = False
) -> str:
    """The most specific active rule that fits (tier and need > need > tier > any).

    A rule's tier ``prospect`` fits a customer staff flagged as a prospect (潜在客户)."""
    best: tuple[int, int, str] | None = None
    for r in rules:
        fits_tier = not r.tier or r.tier == tier or (r.tier == "prospect" and prospect)
        if not r.active or not fits_tier or (r.need and r.need not in needs):
            continue
        specificity = (2 if r.need else 0) + (1 if r.tier else 0)
        key = (-specificity, r.sort_order, r.sentence)
        if best is None or key < best:
            best = key
    return best[2] if best else ""


def parse_rules_csv(text: str) -> list[Rule]:
    """``tier,need,sentence[,sort_order][,active]``; the whole table is checked first."""
    from lobby_app.core.customer_csv import broken_csv, guarded

    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = {h.strip() for h in reader.fieldnames or []}
    except csv.Error as exc:
        raise broken_csv(exc, reader.line_num) from None
    if not {"tier", "need", "sentence"} <= header:
        raise LobbyError("missing_column", tr("营销话术表须有列：tier,need,sentence"), line=1)
    tiers = {t.value for t in Tier} | {"prospect"}
    out: list[Rule] = []
    for i, raw in enumerate(guarded(reader, lambda: reader.line_num)):
        line = i + 2
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
        tier, need, sentence = row["tier"], row["need"], row["sentence"]
        if tier and tier not in tiers:
            raise LobbyError(
                "bad_tier",
                tr(f"第{line}行 tier“{tier}”无效，可选：{'、'.join(tiers)} 或留空"),
                line=line,
                field="tier",
            )
        if need and need not in NEED_TAGS:
            raise LobbyError(
                "unknown_need",
                tr(f"第{line}行 need“{need}”无效，可选：{'、'.join(NEED_TAGS)} 或留空"),
                line=line,
                field="need",
            )
        if not sentence or len(sentence) > 200:
            raise LobbyError(
                "bad_sentence", tr(f"第{line}行话术为空或超过200字"), line=line, field="sentence"
            )
        try:
            order = int(row.get("sort_order") or 0)
        except ValueError:
            raise LobbyError(
                "bad_number", tr(f"第{line}行 sort_order 应为整数"), line=line, field="sort_order"
            ) from None
        active = (row.get("active") or "1").lower() not in ("0", "false", "no", "否")
        out.append(Rule(tier, need, sentence, order, active))
    if not out:
        raise LobbyError("empty_table", tr("营销话术表没有任何一行"))
    return out


def rules_to_csv(rules: Iterable[Rule]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["tier", "need", "sentence", "sort_order", "active"])
    for r in rules:
        w.writerow([r.tier, r.need, r.sentence, r.sort_order, int(r.active)])
    return buf.getvalue()


@dataclass(frozen=True)
class Credit:
    staff_no: str
    kind: str  # complete / finder / seller / owner
    share_pct: int


def sale_credit(
    *, finder: str, seller: str, assigned_manager: str, vip: bool, finder_pct: int
) -> list[Credit]:
    """Who is credited with a sale made on a referral.

    A VIP already assigned to a customer manager credits that manager (客户归属); a sale by
    the person who found the customer is a complete sale (完全销售); otherwise the finder and
    the seller split the credit (转介绍销售), the finder taking ``finder_pct`` per cent.
    """
    if vip and assigned_manager:
        return [Credit(assigned_manager, "owner", 100)]
    if finder == seller:
        return [Credit(seller, "complete", 100)]
    pct = max(0, min(100, finder_pct))
    return [Credit(finder, "finder", pct), Credit(seller, "seller", 100 - pct)]
