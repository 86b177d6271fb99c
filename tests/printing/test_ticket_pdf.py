"""Ticket PDFs read back as text, checked for the embedded font, rendered to PNG."""

from __future__ import annotations

import re
import struct
import subprocess
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from lobby_app.printing.ticket import TicketPrint, write_ticket_pdf

AT = datetime(2026, 11, 23, 9, 5, tzinfo=ZoneInfo("Asia/Shanghai"))


def ticket(**kw: object) -> TicketPrint:
    base: dict[str, object] = dict(
        branch_name="示范银行 城东支行",
        number="V003",
        business_name="现金存取款",
        zone_label="贵宾客户服务区",
        wait_area="请到贵宾客户服务区(理财室)休息等候",
        ahead=2,
        estimated_wait_min=9,
        issued_at=AT,
        ticket_id="5b7c1f0e-1d2a-4a7b-9c3e-0a1b2c3d4e5f",
        green_channel=True,
        vip=True,
        priority_label=None,
        salutation="欧阳先生",
    )
    base.update(kw)
    return TicketPrint(**base)  # type: ignore[arg-type]


def text_of(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def flat(s: str) -> str:
    return re.sub(r"\s", "", s)


def png_size(path: Path) -> tuple[int, int]:
    w, h = struct.unpack(">II", path.read_bytes()[16:24])
    return w, h


def test_vip_ticket_text_font_and_render(tmp_path: Path) -> None:
    pdf = write_ticket_pdf(ticket(), tmp_path / "t.pdf")
    text = flat(text_of(pdf))
    for expected in (
        "示范银行城东支行",
        "V003",
        "贵宾·绿色通道",
        "欧阳先生，您好",
        "现金存取款",
        "贵宾客户服务区",
        "您前面还有2人，预计等候约9分钟",
        "取号时间2026-11-2309:05",
        "本票当日有效",
    ):
        assert expected in text, expected
    fonts = subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert fonts, "no fonts listed"
    for line in fonts:  # every font used is embedded: no reliance on the viewer's fonts
        assert " yes " in line, line
    subprocess.run(
        ["pdftoppm", "-png", "-r", "100", "-singlefile", str(pdf), str(tmp_path / "t")], check=True
    )
    w, h = png_size(tmp_path / "t.png")
    assert 310 <= w <= 320 and h > 380  # 80 mm wide at 100 dpi
    from PIL import Image

    img = Image.open(tmp_path / "t.png").convert("L")
    dark = sum(img.histogram()[:128])
    assert dark > 0.03 * w * h  # ink on the page: the big number and the QR code


def test_priority_and_walk_in(tmp_path: Path) -> None:
    pdf = write_ticket_pdf(
        ticket(vip=False, priority_label="老年人", salutation=None, number="A007", ahead=0),
        tmp_path / "p.pdf",
    )
    text = flat(text_of(pdf))
    assert "优先服务·绿色通道（老年人）" in text and "A007" in text
    assert "您好" not in text and "您前面没有人在等候" in text


def test_long_texts_wrap_without_clipping(tmp_path: Path) -> None:
    branch = "中国示范商业银行股份有限公司上海市浦东新区陆家嘴金融贸易区支行营业部"
    area = ("请在二楼东侧贵宾等候区就座，" * 8)[:120]
    pdf = write_ticket_pdf(ticket(branch_name=branch, wait_area=area), tmp_path / "l.pdf")
    text = flat(text_of(pdf))
    assert flat(branch) in text
    assert flat(area) in text


def test_no_long_digit_runs_besides_the_time(tmp_path: Path) -> None:
    pdf = write_ticket_pdf(ticket(), tmp_path / "t.pdf")
    runs = re.findall(r"\d{9,}", flat(text_of(pdf)))
    assert runs == [] or all(r.startswith("2026") for r in runs)


@pytest.mark.parametrize("ahead", [0, 1, 37])
def test_page_is_one_page(tmp_path: Path, ahead: int) -> None:
    pdf = write_ticket_pdf(ticket(ahead=ahead), tmp_path / "t.pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Pages:\s+1\b", info)
    assert "排队票 V003" in info


def test_qr_code_scans_back_to_the_ticket_id(tmp_path: Path) -> None:
    t = ticket()
    pdf = write_ticket_pdf(t, tmp_path / "q.pdf")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "150", "-singlefile", str(pdf), str(tmp_path / "q")], check=True
    )
    out = subprocess.run(
        ["zbarimg", "-q", "--raw", str(tmp_path / "q.png")], capture_output=True, text=True
    ).stdout.strip()
    assert out == t.ticket_id.upper()


def test_ticket_names_the_windows_open_for_its_queue(tmp_path: Path) -> None:
    """Issue 15: the ticket says where the customer will be served, by the counter's name,
    and says so plainly when no window is open for the queue yet."""
    pdf = write_ticket_pdf(ticket(windows=("4 号窗口", "贵宾理财室一")), tmp_path / "t.pdf")
    assert "办理窗口：4号窗口、贵宾理财室一" in flat(text_of(pdf))
    none = write_ticket_pdf(ticket(windows=()), tmp_path / "n.pdf")
    assert "暂无开放窗口" in flat(text_of(none))
    subprocess.run(["pdftoppm", "-r", "110", "-png", str(pdf), str(tmp_path / "t")], check=True)
    assert png_size(next(tmp_path.glob("t*.png")))[1] > 0


def test_a_vip_who_is_also_a_priority_customer_keeps_both_on_paper(tmp_path: Path) -> None:
    """Issue 18 item 6: an elderly VIP's ticket says both (the priority orders the green
    channel and tells the teller who needs help)."""
    pdf = write_ticket_pdf(ticket(priority_label="老年人"), tmp_path / "vp.pdf")
    text = flat(text_of(pdf))
    assert "贵宾·优先服务（老年人）·绿色通道" in text
    subprocess.run(
        ["pdftoppm", "-png", "-r", "100", "-singlefile", str(pdf), str(tmp_path / "vp")],
        check=True,
    )
    assert png_size(tmp_path / "vp.png")[0] <= 320  # the marker fits the 80 mm roll
