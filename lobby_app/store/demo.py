"""The demo branch: staff, windows, the business table, ~2,000 customers and a few past visits.

Seeding is idempotent: everything is keyed (staff number, window number, customer number,
fixed visit ids), so running it again changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from lobby_app.core.customer_csv import parse_customer_csv
from lobby_app.core.demo_data import SHOWCASE, demo_customer_rows, rows_to_csv
from lobby_app.core.i18n import tr
from lobby_app.core.staffing import guess_counter_kind
from lobby_app.core.zones import Zone
from lobby_app.models import Counter, Customer, Setting, Staff, Ticket, TicketNeed
from lobby_app.store.db import Store
from lobby_app.store.directory import import_records

DEMO_SETTINGS = {
    "bank_name": tr("示范银行"),
    "branch_name": tr("城东支行"),
    "branch_code": "310115001",
}

DEMO_STAFF = (
    ("B01", tr("周建华"), "branch_head"),
    ("L01", tr("陈静"), "lobby_manager"),
    ("G01", tr("刘洋"), "lobby_guide"),
    ("T01", tr("王芳"), "teller_closed"),
    ("T02", tr("李强"), "teller_closed"),
    ("T03", tr("张敏"), "teller_closed"),
    ("T04", tr("赵磊"), "teller_open"),
    ("T05", tr("孙丽"), "teller_open"),
    ("T06", tr("吴涛"), "teller_closed"),
    ("M01", tr("郑雅文"), "customer_manager"),
    ("M02", tr("何志强"), "customer_manager"),
    ("M03", tr("林晓梅"), "customer_manager"),
)

DEMO_LOCATIONS = {"M01": tr("贵宾理财室一"), "M02": tr("贵宾理财室二"), "M03": tr("理财洽谈区")}

CL, OP, VIP, SS = Zone.CLOSED_COUNTER, Zone.OPEN_COUNTER, Zone.VIP, Zone.SELF_SERVICE

# window, name, zones served, VIP window, priority (爱心) window
DEMO_COUNTERS: tuple[tuple[int, str, tuple[Zone, ...], bool, bool], ...] = (
    (1, tr("1号窗口(高柜)"), (CL,), False, True),
    (2, tr("2号窗口(高柜)"), (CL,), False, False),
    (3, tr("3号窗口(高柜)"), (CL,), False, False),
    (4, tr("4号窗口(贵宾现金)"), (VIP, CL), True, False),
    (5, tr("5号窗口(低柜)"), (OP,), False, False),
    (6, tr("6号窗口(低柜)"), (OP,), False, False),
    (7, tr("贵宾理财室"), (VIP,), True, False),
    (8, tr("自助服务区引导"), (SS,), False, False),
)

# Who is signed in at each demo window when the demo branch opens.
DEMO_WINDOW_STAFF = {1: "T01", 2: "T02", 3: "T03", 4: "T06", 5: "T04", 6: "T05", 7: "M01", 8: "G01"}

# Earlier visits of the showcase customers, so their history shows at the desk.
DEMO_HISTORY = (
    (
        "vip_black_gold",
        3,
        "wealth",
        tr("老客户，偏好上午来，习惯在理财室办理"),
        tr("关注大额存单到期后的稳健理财"),
        ("deposit_maturing", "wealth"),
    ),
    (
        "vip_black_gold",
        17,
        "cash",
        tr("带家人一起来"),
        tr("询问贵金属积存金"),
        ("precious_metals",),
    ),
    (
        "platinum",
        9,
        "wealth",
        tr("客户对基金净值波动较在意"),
        tr("考虑养老保险"),
        ("insurance", "pension"),
    ),
    (
        "prospect",
        5,
        "card",
        tr("新入职，单位代发工资"),
        tr("想办信用卡，了解定投"),
        ("credit_card", "fund"),
    ),
    (
        "mass",
        2,
        "remit_cash",
        tr("每月给外地子女汇款"),
        tr("可推荐手机银行转账"),
        ("remote_remit", "ebanking"),
    ),
)


@dataclass(frozen=True)
class DemoReport:
    staff: int
    counters: int
    customers_created: int
    customers_total: int
    visits: int

    def as_json(self) -> dict[str, int]:
        return self.__dict__.copy()


def seed_demo(store: Store, *, customers: int = 2000, today: date | None = None) -> DemoReport:
    with store.write() as s:
        for key, value in DEMO_SETTINGS.items():
            if s.get(Setting, key) is None:
                s.add(Setting(key=key, value=value))
        have_staff = set(s.scalars(select(Staff.staff_no)))
        new_staff = [
            Staff(staff_no=n, name=nm, role=r, location=DEMO_LOCATIONS.get(n, ""))
            for n, nm, r in DEMO_STAFF
            if n not in have_staff
        ]
        s.add_all(new_staff)
        have_windows = set(s.scalars(select(Counter.window_no)))
        now = datetime.now(UTC)
        new_counters = [
            Counter(
                window_no=no,
                name=name,
                zones=",".join(z.value for z in zones),
                kind=guess_counter_kind([z.value for z in zones], vipw),
                vip_window=vipw,
                priority_window=prio,
                is_open=True,
                staff_no=DEMO_WINDOW_STAFF.get(no),
                signed_in_at=now if no in DEMO_WINDOW_STAFF else None,
            )
            for no, name, zones, vipw, prio in DEMO_COUNTERS
            if no not in have_windows
        ]
        s.add_all(new_counters)
    parsed = parse_customer_csv(rows_to_csv(demo_customer_rows(customers)))
    with store.read() as s:
        known = set(s.scalars(select(Customer.customer_no)))
    parsed.records = [r for r in parsed.records if r.customer_no not in known]
    report = import_records(store, parsed, strict=True, actor="demo", source="demo")
    visits = _seed_history(store, today or datetime.now(UTC).date())
    _seed_pins(store)
    with store.read() as s:
        total = len(s.scalars(select(Customer.id)).all())
    return DemoReport(len(new_staff), len(new_counters), report.created, total, visits)


DEMO_PIN = "1234"  # every demo staff member's PIN; a real branch sets its own


def _seed_pins(store: Store) -> None:
    from lobby_app.core.pins import hash_pin

    with store.read() as s:
        missing = list(s.scalars(select(Staff.staff_no).where(Staff.pin_hash == "")))
    hashes = {no: hash_pin(DEMO_PIN) for no in missing}
    with store.write() as s:
        for staff in s.scalars(select(Staff).where(Staff.staff_no.in_(list(hashes)))):
            staff.pin_hash = hashes[staff.staff_no]


def _seed_history(store: Store, today: date) -> int:
    added = 0
    with store.write() as s:
        for i, (key, days_ago, business, greeting, needs_note, tags) in enumerate(DEMO_HISTORY):
            cust = s.scalar(select(Customer).where(Customer.customer_no == SHOWCASE[key]))
            if cust is None:
                continue
            tid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"lobby-app-demo-visit-{i}"))
            if s.get(Ticket, tid) is not None:
                continue
            day = today - timedelta(days=days_ago)
            at = datetime(day.year, day.month, day.day, 2, 30, tzinfo=UTC)
            zone = (
                Zone.VIP
                if cust.tier == "mid_high" or cust.vip_card
                else (
                    Zone.CLOSED_COUNTER if business in ("cash", "remit_cash") else Zone.OPEN_COUNTER
                )
            )
            t = Ticket(
                id=tid,
                business_date=day,
                number=f"{zone.prefix}{900 + i:03d}",
                prefix="H",
                seq=900 + i,
                day_seq=900 + i,
                business_code=business,
                customer_id=cust.id,
                zone=zone.value,
                suggested_zone=zone.value,
                tier=cust.tier,
                vip_card=cust.vip_card,
                prospect=cust.prospect,
                vip=zone is Zone.VIP,
                green_channel=zone is Zone.VIP,
                greeting_note=greeting,
                needs_note=needs_note,
                status="done",
                issued_at=at,
                called_at=at + timedelta(minutes=4),
                started_at=at + timedelta(minutes=5),
                finished_at=at + timedelta(minutes=17),
                window_no=7 if zone is Zone.VIP else 5,
                issued_by="L01",
                print_status="printed",
            )
            t.needs = [TicketNeed(tag=tag) for tag in tags]
            s.add(t)
            added += 1
    return added
