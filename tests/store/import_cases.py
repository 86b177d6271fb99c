"""Directory files that exercise every way a row is read, filled or refused, shared by the
import tests. Their expected store rows (``data/import_expected.json``) were written by the
import as it was before issue 17 (parse everything, ORM objects, one transaction), so the
streaming import is checked against what the old code did with the same files."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import text

from lobby_app.core.demo_data import COLUMNS, iter_customer_rows
from lobby_app.store import Store
from tests.conftest import make_id

TODAY = date(2026, 12, 1)  # the day approvals are checked against
KEY = "import-equivalence-key"  # LOBBY_ID_HASH_KEY: the same hashes in every run
EXPECTED = Path(__file__).with_name("data") / "import_expected.json"

ID1 = make_id("31010119600301001")
ID2 = make_id("11010219840922717")
ID3 = make_id("44030519751231002")
ID4 = make_id("32050219881111003")
ID5 = make_id("51010719930228004")

FILE_A = (
    "customer_no,name,id_number,phone,assets,loans,avg_assets_3m,vip_card,manager,prospect,"
    "card_no,vip_approved_by,vip_approved_until\n"
    f'A001,欧阳明华,{ID1},13800138001,"8,000,000",0,680万,,M01,0,6222 0212 3456 7890 123,,\n'
    f"A002,曾志伟,{ID2.lower()},+86 139 1234 5678,12345.67,0,1000,,,是,,,\n"
    "A003,单田芳,,010-62345678,3000元,50万,0,标准卡,,否,,,\n"
    f"A004,长孙无忌,{ID3},,600万,0,600万,黑金卡,M02,1,,,\n"
    f"A005,李特批,{ID4},15000005678,30000,0,30000,白金卡,,0,,总行 刘建新,2027-06-30\n"
    f"A006,王过期,{ID5},,30000,0,30000,白金卡,,0,,总行 刘建新,2026-06-30\n"
    "A007,张重庆,,,1.5万,0,0,,,,,,\n"
    "A008,错电话,,12345,0,0,0,,,,,,\n"
    "A009,错证件,110101199913320000,,0,0,0,,,,,,\n"
    "A001,重复,,,0,0,0,,,,,,\n"
    ",无号,,,0,0,0,,,,,,\n"
    "\n"
    "A010,多列,,,0,0,0,,,,,,,x\n"
    "A011,=cmd|' /C calc'!A0,,,0,0,0,,,,,,\n"
    "A012,卡号错,,,0,0,0,,,,abc,,\n"
    "A013,负资产,,,-5,0,0,,,,,,\n"
    "A014,错卡,,,0,0,0,金卡,,,,,\n"
    "A015,潜在错,,,0,0,0,,,maybe,,,\n"
    "A016,无卡特批,,,0,0,0,,,,,总行 刘建新,2027-06-30\n"
    "A017,Émile Zola,,,0,0,0,,,,,,\n"
    "A018,吕绿,,13912345679,0,0,0,,,,,,\n"
    "A019,赵特批,,,30000,0,30000,黑金卡,,0,,总行 刘建新,2027/05/01\n"
    "A020,钱标准,,,250000,0,250000,标准卡,M03,0,,,\n"
    '"A021","周 引号","","","1,000.5","0","0","","M,04","0","","",""\n'
    "A022,万俟云,,,0,0,0,standard,,,,,\n"
    "A023,Y-2,,,0,0,0,,,,,,\n"
)

# Chinese headers, semicolons, GBK: updates A002 (no ID now: gender kept), A003 (a walk-in
# registered at the branch before: its source stays), and adds B001
FILE_B = (
    "客户号;姓名;证件号码;手机号;金融资产;贷款余额;三个月日均资产;贵宾卡;客户经理;潜在客户\n"
    "A002;曾志伟;;13912345678;2500000;0;2400000;;M09;否\n"
    "A003;单田芳;;;0;0;0;;;\n"
    f"B001;解晓东;{make_id('11010519900101002')};18612345678;1200;0;1200;;;是\n"
)


def generated_directory(n: int) -> str:
    """``n`` rows of the demo directory, its approval dates fixed (the demo's follow today)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS))
    writer.writeheader()
    for row in iter_customer_rows(n):
        if row.get("vip_approved_until"):
            row["vip_approved_until"] = "2027-06-01"
        writer.writerow(row)
    return out.getvalue()


def add_walk_in(store: Store) -> None:
    """A003 as a walk-in registered at the desk before the directory came."""
    with store.write() as s:
        s.execute(
            text(
                "INSERT INTO customer (id, customer_no, name, gender, id_last4, phone_prefix3,"
                " phone_last4, card_first6, card_last4, assets_fen, loans_fen, avg_assets_3m_fen,"
                " tier, vip_special, vip_approved_by, manager, prospect, pinyin_full,"
                " pinyin_initials, updated_at, source) VALUES ('walk-in-1', 'A003', '单田芳',"
                " 'F', '', '', '', '', '', 0, 0, 0, 'mass', 0, '', '', 1, '', '',"
                " '2026-11-30 08:00:00.000000', 'branch')"
            )
        )


def dump(store: Store) -> list[dict[str, Any]]:
    """Every customer row as the store holds it, without its random id and its time."""
    with store.read() as s:
        result = s.execute(text("SELECT * FROM customer ORDER BY customer_no"))
        rows = [dict(r._mapping) for r in result]
    for r in rows:
        if r["id"] != "walk-in-1":
            r.pop("id")
        r.pop("updated_at")
    return rows


def expected() -> dict[str, Any]:
    return json.loads(EXPECTED.read_text("utf-8"))  # type: ignore[no-any-return]
