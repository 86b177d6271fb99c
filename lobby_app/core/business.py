"""The business table (业务类型), need tags and priority kinds, with the default set."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.core.zones import Zone


class Category(StrEnum):
    CASH = "cash"  # handled at the closed counter
    NON_CASH = "non_cash"  # handled at the open counter
    SELF_SERVICE = "self_service"  # a machine or e-banking can do it


@dataclass(frozen=True)
class BusinessType:
    code: str
    name: str
    category: Category
    zone: Zone  # where the business is normally done
    service_minutes: float  # typical minutes at the counter, for wait estimates
    # Where a customer who should not be sent to a machine (priority flag) goes instead.
    counter_zone: Zone | None = None
    sort_order: int = 0
    active: bool = True


def _b(
    code: str,
    name: str,
    cat: Category,
    zone: Zone,
    minutes: float,
    order: int,
    counter: Zone | None = None,
) -> BusinessType:
    return BusinessType(code, name, cat, zone, minutes, counter, order)


C, N, S = Category.CASH, Category.NON_CASH, Category.SELF_SERVICE
CL, OP, SS = Zone.CLOSED_COUNTER, Zone.OPEN_COUNTER, Zone.SELF_SERVICE

# Service minutes are typical figures (teller lines run about 15 transactions per hour).
DEFAULT_BUSINESS_TYPES: tuple[BusinessType, ...] = (
    _b("cash", tr("现金存取款"), C, CL, 4, 10),
    _b("remit_cash", tr("现金汇款"), C, CL, 6, 20),
    _b("large_cash", tr("大额现金(预约)"), C, CL, 10, 30),
    _b("exchange_notes", tr("零钞兑换/残钞兑换"), C, CL, 5, 40),
    _b("open_account", tr("个人开户"), N, OP, 12, 50),
    _b("close_account", tr("销户/挂失"), N, OP, 10, 60),
    _b("card", tr("银行卡业务"), N, OP, 8, 70),
    _b("wealth", tr("理财/基金/保险"), N, OP, 15, 80),
    _b("loan", tr("个人贷款"), N, OP, 20, 90),
    _b("corporate", tr("对公业务"), N, OP, 15, 100),
    _b("fx", tr("外汇业务"), N, OP, 10, 110),
    _b("ebank_signup", tr("电子银行签约"), N, OP, 8, 120),
    _b("transfer", tr("转账汇款(非现金)"), S, SS, 3, 130, counter=OP),
    _b("self_service", tr("自助设备引导"), S, SS, 3, 140, counter=CL),
    _b("query", tr("查询/打印流水"), S, SS, 3, 150, counter=OP),
)


def find_business(code: str, table: list[BusinessType] | tuple[BusinessType, ...]) -> BusinessType:
    for b in table:
        if b.code == code and b.active:
            return b
    codes = "、".join(b.code for b in table if b.active)
    raise LobbyError(
        "unknown_business",
        tr(f"未知的业务代码“{code}”。可用的业务代码：{codes}"),
        field="business",
    )


class PriorityKind(StrEnum):
    ELDERLY = "elderly"
    DISABLED = "disabled"
    ILL = "ill"
    PREGNANT = "pregnant"
    MILITARY = "military"
    OTHER = "other"

    @property
    def label(self) -> str:
        return PRIORITY_LABELS[self]


PRIORITY_LABELS: dict[PriorityKind, str] = {
    PriorityKind.ELDERLY: tr("老年人"),
    PriorityKind.DISABLED: tr("残障人士"),
    PriorityKind.ILL: tr("病患"),
    PriorityKind.PREGNANT: tr("孕妇"),
    PriorityKind.MILITARY: tr("军人"),
    PriorityKind.OTHER: tr("其他"),
}


def green_channel_marker(vip: bool, priority_label: str | None) -> str:
    """What a green-channel ticket says it is, on the desk's result and on the paper: a
    VIP who is also a priority customer (an elderly VIP) shows both, since the priority
    decides the order within the green channel (priority before VIP, DOMAIN.md) and tells
    the teller who needs help. Empty for an ordinary ticket."""
    if vip and priority_label:
        return tr(f"贵宾 · 优先服务（{priority_label}）· 绿色通道")
    if vip:
        return tr("贵宾 · 绿色通道")
    if priority_label:
        return tr(f"优先服务 · 绿色通道（{priority_label}）")
    return ""


def parse_priority(value: str) -> PriorityKind:
    v = value.strip()
    for k in PriorityKind:
        if v.lower() == k.value or v == k.label:
            return k
    names = "、".join(f"{k.value}({k.label})" for k in PriorityKind)
    raise LobbyError(
        "unknown_priority", tr(f"未知的优先类型“{value}”。可选：{names}"), field="priority"
    )


NEED_TAGS: dict[str, str] = {
    "savings": tr("储蓄存款"),
    "deposit_maturing": tr("存款到期"),
    "wealth": tr("理财"),
    "fund": tr("基金"),
    "insurance": tr("保险"),
    "loan": tr("贷款"),
    "credit_card": tr("信用卡"),
    "precious_metals": tr("贵金属"),
    "ebanking": tr("电子银行"),
    "remote_remit": tr("异地汇款"),
    "fx": tr("外汇"),
    "pension": tr("养老金"),
    "large_cash": tr("大额现金"),
}


def parse_need(value: str) -> str:
    v = value.strip()
    for code, label in NEED_TAGS.items():
        if v.lower() == code or v == label:
            return code
    names = "、".join(f"{c}({n})" for c, n in NEED_TAGS.items())
    raise LobbyError("unknown_need", tr(f"未知的需求标签“{value}”。可选：{names}"), field="need")


def parse_business_table(text: str) -> list[BusinessType]:
    """A branch's own business table from CSV:
    ``code,name,zone,service_minutes[,active][,counter_zone]``.

    ``zone`` is where the business is done; the category follows from it. ``counter_zone``
    is where a priority customer goes instead of a machine (self-service work only). The whole table is
    checked before anything changes; the first bad line is reported with its field.
    """
    import csv
    import io

    from lobby_app.core.customer_csv import broken_csv, guarded
    from lobby_app.core.zones import parse_zone

    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    need = {"code", "name", "zone", "service_minutes"}
    try:
        header = {h.strip() for h in reader.fieldnames or []}
    except csv.Error as exc:
        raise broken_csv(exc, reader.line_num) from None
    if not need <= header:
        missing = "、".join(sorted(need - header))
        raise LobbyError("missing_column", tr(f"业务类型表缺少列：{missing}"), line=1)
    out: list[BusinessType] = []
    seen: set[str] = set()
    for i, raw in enumerate(guarded(reader, lambda: reader.line_num)):
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
        line = reader.line_num

        def bad(field: str, why: str, line: int = line) -> LobbyError:
            return LobbyError("bad_row", tr(f"第{line}行：{why}"), line=line, field=field)

        def zone_of(field: str, row: dict[str, str] = row) -> Zone:
            try:
                return parse_zone(row[field])
            except LobbyError as exc:
                raise bad(field, exc.message) from None

        code = row["code"]
        if not code or not code.replace("_", "").isalnum() or len(code) > 32:
            raise bad("code", tr("业务代码应为英文字母、数字或下划线"))
        if code in seen:
            raise bad("code", tr(f"业务代码 {code} 重复"))
        seen.add(code)
        if not row["name"] or len(row["name"]) > 40:
            raise bad("name", tr("业务名称不能为空且不超过40字"))
        zone = zone_of("zone")
        try:
            minutes = float(row["service_minutes"])
        except ValueError:
            minutes = 0.0
        if not 0 < minutes <= 240:
            raise bad("service_minutes", tr("办理时长应为 1–240 之间的分钟数"))
        active = row.get("active", "1").lower() not in ("0", "false", "no", "否")
        category = {
            Zone.CLOSED_COUNTER: Category.CASH,
            Zone.SELF_SERVICE: Category.SELF_SERVICE,
        }.get(zone, Category.NON_CASH)
        counter = None
        if zone is Zone.SELF_SERVICE:
            counter = zone_of("counter_zone") if row.get("counter_zone") else Zone.OPEN_COUNTER
        out.append(
            BusinessType(code, row["name"], category, zone, minutes, counter, (i + 1) * 10, active)
        )
    if not out:
        raise LobbyError("empty_table", tr("业务类型表没有任何业务"), line=1)
    return out
