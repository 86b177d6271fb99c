"""A demo branch's customer directory: realistic names, valid IDs, phones and cards.

Rows are strings in the CSV columns a bank's export has, so the demo goes through the same
parser as a real file. Deterministic for a seed.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator
from datetime import date, timedelta

from stdnum.cn import ric

DEMO_SEED = 20261122
DEMO_MANAGERS: tuple[str, ...] = ("M01", "M02", "M03")
COLUMNS = (
    "customer_no",
    "name",
    "id_number",
    "phone",
    "assets",
    "loans",
    "avg_assets_3m",
    "vip_card",
    "manager",
    "prospect",
    "card_no",
    "vip_approved_by",  # a special card's approval (特批, 003 第十二条 2)
    "vip_approved_until",
)
# who approves special cards: head office's wealth centre (003 第十二条 2、第十三条)
DEMO_APPROVER = "总行零售银行部理财中心 刘建新"

# Common surnames, weighted roughly by how often they occur.
SURNAMES = (
    ("王", 72),
    ("李", 71),
    ("张", 69),
    ("刘", 53),
    ("陈", 45),
    ("杨", 31),
    ("黄", 25),
    ("赵", 20),
    ("吴", 20),
    ("周", 19),
    ("徐", 15),
    ("孙", 15),
    ("马", 13),
    ("朱", 13),
    ("胡", 12),
    ("郭", 11),
    ("何", 10),
    ("林", 10),
    ("高", 10),
    ("罗", 9),
    ("郑", 9),
    ("梁", 8),
    ("谢", 7),
    ("宋", 6),
    ("唐", 6),
    ("许", 6),
    ("韩", 6),
    ("冯", 5),
    ("邓", 5),
    ("曹", 5),
    ("彭", 5),
    ("曾", 5),
    ("肖", 5),
    ("田", 4),
    ("董", 4),
    ("袁", 4),
    ("潘", 4),
    ("蒋", 4),
    ("蔡", 4),
    ("余", 4),
    ("杜", 3),
    ("叶", 3),
    ("程", 3),
    ("苏", 3),
    ("魏", 3),
    ("吕", 3),
    ("丁", 3),
    ("沈", 3),
    ("姚", 2),
    ("卢", 2),
    ("欧阳", 1),
    ("司马", 1),
    ("诸葛", 1),
    ("上官", 1),
)
MALE = "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆建国志文博立新海东峰"
FEMALE = "芳娜敏静丽艳娟霞秀英玲桂兰婷雪慧莹晶佳琳燕倩颖梅月萍红洁琴云欣怡雯"
# Long-standing district codes (Shanghai's central districts, Beijing's Dongcheng/Xicheng/
# Chaoyang): codes created later fail the birth-place check for older birth dates.
AREAS = (
    "310101",
    "310104",
    "310105",
    "310106",
    "310107",
    "310109",
    "310110",
    "110101",
    "110102",
    "110105",
)
MOBILE = (
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "157",
    "158",
    "159",
    "182",
    "183",
    "187",
    "188",
    "130",
    "131",
    "132",
    "155",
    "156",
    "185",
    "186",
    "133",
    "153",
    "180",
    "181",
    "189",
    "177",
    "199",
)

# customer_no, name, gender, assets, loans, avg_3m, named card, manager, prospect
SHOWCASE_ROWS = (
    ("C000000001", "欧阳明华", "M", "7200000.00", "0.00", "6800000.00", "", "M01", "0"),
    ("C000000002", "张三", "M", "12345.67", "0.00", "11800.00", "", "", "0"),
    ("C000000003", "李秀英", "F", "2100000.00", "0.00", "1900000.00", "", "M02", "0"),
    ("C000000004", "王建国", "M", "80000.00", "1200000.00", "76000.00", "", "M03", "0"),
    ("C000000005", "陈晓雯", "F", "126000.00", "0.00", "98000.00", "", "", "1"),
)
SHOWCASE: dict[str, str] = {
    "vip_black_gold": "C000000001",
    "mass": "C000000002",
    "platinum": "C000000003",
    "loans_mid_high": "C000000004",
    "prospect": "C000000005",
}


def _id_number(rng: random.Random, gender: str, used: set[str]) -> str:
    while True:
        born = date(1945, 1, 1) + timedelta(days=rng.randrange(365 * 60))
        # area (6) + birth date (8) + order (3); the order's last digit is odd for men
        order = rng.randrange(0, 500) * 2 + (1 if gender == "M" else 0)
        body = f"{rng.choice(AREAS)}{born:%Y%m%d}{order:03d}"
        number = body + ric.calc_check_digit(body + "0")
        if number not in used and ric.is_valid(number):
            used.add(number)
            return number


def _phone(rng: random.Random, used: set[str]) -> str:
    while True:
        p = rng.choice(MOBILE) + f"{rng.randrange(10**8):08d}"
        if p not in used:
            used.add(p)
            return p


def _card(rng: random.Random) -> str:
    body = "622" + "".join(str(rng.randrange(10)) for _ in range(rng.choice((12, 15))))
    total = 0
    for i, d in enumerate(reversed(body)):
        n = int(d)
        if i % 2 == 0:
            n = n * 2 - 9 if n * 2 > 9 else n * 2
        total += n
    return body + str((10 - total % 10) % 10)


def _name(rng: random.Random, gender: str) -> str:
    surname = rng.choices([s for s, _ in SURNAMES], weights=[w for _, w in SURNAMES])[0]
    pool = MALE if gender == "M" else FEMALE
    return surname + "".join(rng.choice(pool) for _ in range(rng.choice((1, 2, 2))))


def _amount(rng: random.Random, low: float, high: float) -> str:
    return f"{rng.uniform(low, high):.2f}"


def demo_customer_rows(n: int = 2000, seed: int = DEMO_SEED) -> list[dict[str, str]]:
    return list(iter_customer_rows(n, seed))


def iter_customer_rows(n: int = 2000, seed: int = DEMO_SEED) -> Iterator[dict[str, str]]:
    """The demo directory's rows one by one (a million of them for the benchmarks without
    holding them): the showcase customers first, then a branch's mix of tiers, about 3 %
    without an ID number, 8 % without a phone, 10 % without a card."""
    rng = random.Random(seed)
    used_ids: set[str] = set()
    used_phones: set[str] = set()
    rows: list[dict[str, str]] = []
    for showcase in SHOWCASE_ROWS[:n]:
        no, name, gender, *money, card, manager, prospect = showcase
        rows.append(
            dict(
                zip(
                    COLUMNS,
                    (
                        no,
                        name,
                        _id_number(rng, gender, used_ids),
                        _phone(rng, used_phones),
                        *money,
                        card,
                        manager,
                        prospect,
                        _card(rng),
                        "",
                        "",
                    ),
                    strict=True,
                )
            )
        )
    yield from rows
    count = len(rows)
    specials = 0
    # approvals run about a year from the day the demo is built (a card is valid two years)
    until = (date.today() + timedelta(days=400)).replace(day=1).isoformat()
    for i in range(count, n):
        gender = rng.choice("MF")
        roll = rng.random()
        loans = "0.00"
        assets = avg = 0.0
        card = manager = approver = approved_until = ""
        prospect = "0"
        if roll < 0.62:  # mass
            assets = rng.uniform(0, 49_999)
            avg = assets * rng.uniform(0.7, 1.1)
            if specials < 3 and i % 97 == 13:
                card, specials = "标准卡", specials + 1  # special approval (特批)
                approver, approved_until = DEMO_APPROVER, until
        elif roll < 0.85:  # potential
            assets = rng.uniform(50_000, 199_999)
            avg = min(assets * rng.uniform(0.7, 1.05), 199_000)
            prospect = "1" if rng.random() < 0.2 else "0"
        else:  # mid/high-end
            r2 = rng.random()
            if r2 < 0.06:
                assets, loans = rng.uniform(20_000, 150_000), _amount(rng, 500_000, 3_000_000)
            elif r2 < 0.10:
                assets = rng.uniform(6_000_000, 20_000_000)
            elif r2 < 0.28:
                assets = rng.uniform(1_500_000, 5_900_000)
            else:
                assets = rng.uniform(200_000, 1_400_000)
            avg = assets * rng.uniform(0.9, 1.05) if assets >= 200_000 else assets
            manager = rng.choice(DEMO_MANAGERS)
        has_id = rng.random() > 0.03
        has_phone = rng.random() > 0.08
        yield (
            {
                "customer_no": f"C{100_000 + i:09d}",
                "name": _name(rng, gender),
                "id_number": _id_number(rng, gender, used_ids) if has_id else "",
                "phone": _phone(rng, used_phones) if has_phone else "",
                "assets": f"{assets:.2f}",
                "loans": loans,
                "avg_assets_3m": f"{avg:.2f}",
                "vip_card": card,
                "manager": manager,
                "prospect": prospect,
                "card_no": _card(rng) if rng.random() < 0.9 else "",
                "vip_approved_by": approver,
                "vip_approved_until": approved_until,
            }
        )


def rows_to_csv(rows: list[dict[str, str]]) -> str:
    """Rows as the CSV text a bank's export would be (header from the first row)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()
