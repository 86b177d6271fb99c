"""The referral slip: read back, fonts embedded, laid out at 80 mm, and carrying nothing the
customer should not carry (issue 15.14)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from lobby_app.core.tiers import Tier, VipCard
from lobby_app.lobby import print_slip
from lobby_app.models import Customer
from lobby_app.printing.referral_slip import SlipPrint, write_slip_pdf
from lobby_app.store import Store, commands, referrals
from lobby_app.store.commands import IssueRequest
from tests.conftest import open_demo_copy
from tests.printing.test_ticket_pdf import flat, png_size, text_of

AT = datetime(2026, 11, 23, 10, 29, tzinfo=ZoneInfo("Asia/Shanghai"))
NOTE = "定期下周到期约30万，另有50万元理财想转"


def slip(**kw: object) -> SlipPrint:
    base: dict[str, object] = dict(
        branch_name="示范银行 城东支行",
        referral_no="ZJ261123001",
        created_at=AT,
        ticket_number="V001",
        customer="欧阳先生",
        need_label="理财",
        to_name="何志强",
        to_staff="M02",
        to_location="贵宾理财室二",
        referrer_name="陈静",
        referrer="L01",
    )
    base.update(kw)
    return SlipPrint(**base)  # type: ignore[arg-type]


@pytest.fixture
def demo(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    s = open_demo_copy(tmp_path_factory, tmp_path / "data", 100)
    yield s
    s.close()


def test_slip_reads_back_and_renders(tmp_path: Path) -> None:
    pdf = write_slip_pdf(slip(), tmp_path / "s.pdf")
    text = flat(text_of(pdf))
    for expected in (
        "转介单",
        "ZJ261123001",
        "贵宾理财室二",
        "客户经理何志强（M02）",
        "客户：欧阳先生",
        "排队号：V001",
        "需求：理财",
        "转介人：陈静（L01）",
        "转介时间：2026-11-2310:29",
        "客户经理接待签字",
    ):
        assert expected in text, expected
    fonts = subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert fonts and all(" yes " in line for line in fonts)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "100", "-singlefile", str(pdf), str(tmp_path / "s")], check=True
    )
    w, h = png_size(tmp_path / "s.png")
    assert 310 <= w <= 320 and h > 340


def test_the_slip_the_customer_carries_has_no_tier_amount_or_note(
    demo: Store, tmp_path: Path
) -> None:
    """Issue 15.14: the slip printed "客户：欧阳先生 中高端客户", the ID's last four and the
    referrer's note ("定期下周到期约30万"). The customer carries it: it names where to go,
    to whom, the salutation and the kind of need; the rest stays on the manager's screen."""
    with demo.read() as s:
        ouyang = s.scalar(select(Customer).where(Customer.customer_no == "C000000001"))
        assert ouyang is not None
        cid, id_last4, phone_last4 = ouyang.id, ouyang.id_last4, ouyang.phone_last4
    commands.issue_ticket(demo, IssueRequest("wealth", customer_id=cid, actor="L01"))
    ref = referrals.refer(
        demo, ticket_number="V001", to_staff="M02", need="wealth", note=NOTE, actor="L01"
    )
    cust = ref["customer"]
    assert isinstance(cust, dict) and cust["tier_label"] == "中高端客户"  # the store has it
    outcome = print_slip(demo, ref, pdf_path=tmp_path / "slip.pdf")
    assert outcome.ok and outcome.pdf is not None
    text = flat(text_of(outcome.pdf))
    for expected in (
        "转介单",
        str(ref["referral_no"]),
        "贵宾理财室二",
        "客户经理何志强（M02）",
        "客户：欧阳先生",
        "排队号：V001",
        "需求：理财",
        "转介人：陈静（L01）",
    ):
        assert expected in text, expected
    for tier in Tier:
        assert tier.label not in text
    for card in VipCard:
        assert card.label not in text
    assert "潜在客户" not in text and "贵宾" not in text.replace("贵宾理财室", "")
    assert flat(NOTE) not in text and "说明" not in text and "定期" not in text
    assert not re.search(r"\d\s*万|\d\s*元|[¥￥]", text)  # no amount, in any form
    assert "证件" not in text and id_last4 not in text and phone_last4 not in text
    assert "欧阳明华" not in text and "C000000001" not in text
    assert not re.search(r"\d{11,}", text)  # no phone or ID number, masked or not
    # and the manager still sees it all, on screen
    (seen,) = referrals.inbox(demo, to_staff="M02")
    assert seen.note == NOTE and seen.customer is not None
    assert seen.customer.tier_label == "中高端客户" and seen.customer.masked_id.endswith(id_last4)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-singlefile", str(outcome.pdf), str(tmp_path / "c")],
        check=True,
    )
    assert png_size(tmp_path / "c.png")[1] > 250


def test_walk_in_and_long_names_fit(tmp_path: Path) -> None:
    where = "城东支行二楼贵宾理财中心第三洽谈室（电梯右转）"
    pdf = write_slip_pdf(
        slip(
            customer="",
            branch_name="中国工商银行股份有限公司上海市浦东新区城东支行",
            to_location=where,
        ),
        tmp_path / "w.pdf",
    )
    text = flat(text_of(pdf))
    assert "客户：未登记客户" in text and flat(where) in text and "城东支行" in text
    pdf = write_slip_pdf(slip(to_location=""), tmp_path / "v.pdf")
    assert "贵宾理财区" in flat(text_of(pdf))  # a manager without a set location
