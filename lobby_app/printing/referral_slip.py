"""The referral slip (转介单): 80 mm, the customer carries it to the customer manager.

The customer holds it, and may leave it on a counter: it says where to go and to whom, and
addresses the customer by surname + 先生/女士 only (DOMAIN.md: a printed slip addresses
the customer by surname and 先生/女士 at most). No tier, no ID digits, no amounts and no
free-text note: those are for the customer manager, who sees them on screen (the
manager's inbox shows the tier, the masked ID and the referrer's note).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from lobby_app.core.i18n import tr
from lobby_app.printing.files import write_atomically
from lobby_app.printing.fonts import cjk_font
from lobby_app.printing.ticket import MARGIN, PAGE_W, Layout, fit_size


@dataclass(frozen=True)
class SlipPrint:
    branch_name: str
    referral_no: str
    created_at: datetime  # branch local time
    ticket_number: str
    customer: str  # salutation (张先生) or "" for a walk-in
    need_label: str  # the kind of need (理财, 贷款): where the manager starts, no details
    to_name: str
    to_staff: str
    to_location: str
    referrer_name: str
    referrer: str


def render_slip_pdf(slip: SlipPrint) -> bytes:
    font = cjk_font()
    lay = Layout(font)
    inner = PAGE_W - 2 * MARGIN
    lay.space(2 * mm)
    lay.text(slip.branch_name, fit_size(slip.branch_name, font, 11, inner, 8))
    lay.text(tr("转 介 单"), 20, gap=1.3)
    lay.text(tr(f"单号 {slip.referral_no}"), 10)
    lay.rule()
    lay.text(tr("请持此单前往"), 10)
    where = slip.to_location or tr("贵宾理财区")
    lay.text(where, fit_size(where, font, 18, inner, 11), gap=1.3)
    who = tr(f"客户经理 {slip.to_name or slip.to_staff}（{slip.to_staff}）")
    lay.text(who, fit_size(who, font, 12, inner, 8))
    lay.rule()
    left = {"center": False}
    lay.text(tr(f"客户：{slip.customer or '未登记客户'}"), 10.5, **left)
    if slip.ticket_number:
        lay.text(tr(f"排队号：{slip.ticket_number}"), 10.5, **left)
    lay.text(tr(f"需求：{slip.need_label}"), 10.5, **left)
    lay.rule()
    lay.text(tr(f"转介人：{slip.referrer_name or slip.referrer}（{slip.referrer}）"), 9.5, **left)
    lay.text(tr(f"转介时间：{slip.created_at:%Y-%m-%d %H:%M}"), 9.5, **left)
    lay.space(3 * mm)
    lay.text(tr("客户经理接待签字：____________"), 9.5, **left)
    lay.rule()
    lay.text(tr("本单仅限本网点内部使用，请妥善保管"), 8)
    lay.space(3 * mm)
    height = max(lay.y, 90 * mm)
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=(PAGE_W, height), pageCompression=1, initialFontName=font)
    canvas.setTitle(tr(f"转介单 {slip.referral_no}"))
    canvas.setAuthor("lobby-app")
    lay.render(canvas, height)
    canvas.showPage()
    canvas.save()
    return buf.getvalue()


def write_slip_pdf(slip: SlipPrint, path: str | os.PathLike[str]) -> Path:
    """Write atomically, like the ticket."""
    return write_atomically(render_slip_pdf(slip), path, ".slip-")
