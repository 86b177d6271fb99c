"""The referral slip: read back, fonts embedded, masked, and laid out at 80 mm."""

from __future__ import annotations

import re
import subprocess
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from lobby_app.printing.referral_slip import SlipPrint, write_slip_pdf
from tests.printing.test_ticket_pdf import flat, png_size, text_of

AT = datetime(2026, 11, 23, 10, 29, tzinfo=ZoneInfo("Asia/Shanghai"))


def slip(**kw: object) -> SlipPrint:
    base: dict[str, object] = dict(
        branch_name="示范银行 城东支行",
        referral_no="ZJ261123001",
        created_at=AT,
        ticket_number="V001",
        customer="欧阳先生",
        tier_label="中高端客户",
        masked_id="**************517X",
        need_label="理财",
        note="50万存款到期，想了解理财",
        to_name="何志强",
        to_staff="M02",
        to_location="贵宾理财室二",
        referrer_name="陈静",
        referrer="L01",
    )
    base.update(kw)
    return SlipPrint(**base)  # type: ignore[arg-type]


def test_slip_reads_back_and_renders(tmp_path: Path) -> None:
    pdf = write_slip_pdf(slip(), tmp_path / "s.pdf")
    text = flat(text_of(pdf))
    for expected in (
        "转介单",
        "ZJ261123001",
        "贵宾理财室二",
        "客户经理何志强（M02）",
        "客户：欧阳先生中高端客户",
        "**************517X",
        "排队号：V001",
        "需求：理财",
        "50万存款到期，想了解理财",
        "转介人：陈静（L01）",
        "转介时间：2026-11-2310:29",
    ):
        assert expected in text, expected
    assert not re.search(r"\d{11,}", text)  # no phone or ID number, masked or not
    fonts = subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert fonts and all(" yes " in line for line in fonts)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "100", "-singlefile", str(pdf), str(tmp_path / "s")], check=True
    )
    w, h = png_size(tmp_path / "s.png")
    assert 310 <= w <= 320 and h > 340


def test_walk_in_and_long_texts_wrap(tmp_path: Path) -> None:
    note = "客户咨询个人住房贷款提前还款与再融资方案，" * 4
    pdf = write_slip_pdf(
        slip(customer="", masked_id="", tier_label="", note=note, to_location=""),
        tmp_path / "w.pdf",
    )
    text = flat(text_of(pdf))
    assert "客户：未登记客户" in text and flat(note) in text
    assert "贵宾理财区" in text  # a manager without a set location
