"""The 80 mm queue ticket (排队票): a receipt-sized PDF with the number large and a QR code.

It carries no full name, ID or phone number: at most the surname with 先生/女士.
"""

from __future__ import annotations

import importlib.util
import io
import os
import sys
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from types import ModuleType

import reportlab
from reportlab import rl_config
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from lobby_app.core.business import green_channel_marker
from lobby_app.core.i18n import tr
from lobby_app.printing.files import write_atomically
from lobby_app.printing.fonts import cjk_font

# Binary streams, not ASCII85: smaller files and less work per ticket.
rl_config.useA85 = 0

PAGE_W = 80 * mm
MARGIN = 4 * mm


@dataclass(frozen=True)
class TicketPrint:
    branch_name: str
    number: str
    business_name: str
    zone_label: str
    wait_area: str
    ahead: int
    estimated_wait_min: int
    issued_at: datetime  # in the branch's local time
    ticket_id: str  # only in the QR code
    green_channel: bool
    vip: bool
    priority_label: str | None
    salutation: str | None
    windows: tuple[str, ...] = ()  # the windows open for this queue, as the customer sees them


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Break text to fit ``width``; Chinese breaks anywhere, Latin words stay whole."""
    lines: list[str] = []
    line = ""
    for token in _tokens(text):
        if stringWidth(line + token, font, size) <= width:
            line += token
            continue
        if line:
            lines.append(line.rstrip())
        line = token.lstrip()
        while stringWidth(line, font, size) > width:  # a single over-long token
            cut = len(line)
            while cut > 1 and stringWidth(line[:cut], font, size) > width:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
    if line:
        lines.append(line.rstrip())
    return lines or [""]


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    word = ""
    for ch in text:
        if ch.isascii() and not ch.isspace():
            word += ch
            continue
        if word:
            out.append(word)
            word = ""
        out.append(ch)
    if word:
        out.append(word)
    return out


def fit_size(text: str, font: str, size: float, width: float, smallest: float) -> float:
    while size > smallest and stringWidth(text, font, size) > width:
        size -= 0.5
    return size


class Layout:
    """Lays out lines top-down, measuring first so the page is exactly as tall as needed."""

    def __init__(self, font: str) -> None:
        self.font = font
        self.ops: list[tuple[str, tuple[object, ...]]] = []
        self.y = 0.0  # distance from the top

    def text(self, s: str, size: float, *, center: bool = True, gap: float = 1.2) -> None:
        for line in wrap(s, self.font, size, PAGE_W - 2 * MARGIN):
            self.y += size * gap
            self.ops.append(("text", (line, size, center, self.y)))

    def rule(self, pad: float = 2 * mm) -> None:
        self.y += pad
        self.ops.append(("rule", (self.y,)))
        self.y += pad

    def space(self, h: float) -> None:
        self.y += h

    def qr(self, value: str, side: float) -> None:
        self.ops.append(("qr", (value, side, self.y)))
        self.y += side

    def render(self, canvas: Canvas, height: float) -> None:
        for kind, args in self.ops:
            if kind == "text":
                line, size, center, y = args
                assert isinstance(line, str) and isinstance(size, float | int)
                assert isinstance(y, float | int)
                canvas.setFont(self.font, size)
                base = height - y + size * 0.2
                if center:
                    canvas.drawCentredString(PAGE_W / 2, base, line)
                else:
                    canvas.drawString(MARGIN, base, line)
            elif kind == "rule":
                (y,) = args
                assert isinstance(y, float | int)
                canvas.setLineWidth(0.5)
                canvas.setDash(2, 2)
                canvas.line(MARGIN, height - y, PAGE_W - MARGIN, height - y)
                canvas.setDash()
            else:
                value, side, y = args
                assert isinstance(value, str) and isinstance(side, float)
                assert isinstance(y, float | int)
                _draw_qr(canvas, value, (PAGE_W - side) / 2, height - y - side, side)


def qr_modules(value: str) -> list[list[bool]]:
    """The QR code of ``value`` as a grid of dark modules.

    Upper-case ticket ids fit QR's alphanumeric mode (a smaller code), and a fixed mask
    pattern skips the encoder's eight-way mask scoring, which in pure Python costs more
    than the rest of the ticket; any of the eight masks is valid for a scanner.
    """
    qrencoder = _qrencoder()
    qr = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    qr.addData(value.upper())
    qr.version = qr.calculate_version()
    qr.makeImpl(False, 0)
    n = qr.getModuleCount()
    return [[bool(qr.isDark(r, c)) for c in range(n)] for r in range(n)]


_QRENCODER = "reportlab.graphics.barcode.qrencoder"


@cache
def _qrencoder() -> ModuleType:
    """reportlab's QR encoder, without its package.

    ``qrencoder`` needs only ``re`` and ``itertools``, but importing it the usual way runs
    ``reportlab.graphics.barcode``, which imports every barcode widget and with them
    reportlab's drawing and layout engines (platypus): about 200 ms that a ticket never
    uses. So the module's own file is loaded under a private name. Where there is no such
    file (a frozen build) or it cannot be loaded, the usual import is used.
    """
    if _QRENCODER in sys.modules:
        return sys.modules[_QRENCODER]
    source = Path(reportlab.__file__).parent / "graphics" / "barcode" / "qrencoder.py"
    name = "lobby_app.printing._reportlab_qrencoder"
    spec = importlib.util.spec_from_file_location(name, source)
    if source.is_file() and spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception:  # pragma: no cover - an unexpected reportlab layout
            pass
        else:
            return module
    from reportlab.graphics.barcode import qrencoder

    usual: ModuleType = qrencoder
    return usual


def _draw_qr(canvas: Canvas, value: str, x: float, y: float, side: float) -> None:
    """Dark runs of each row as filled rectangles, in one path: no fonts, few operators."""
    grid = qr_modules(value)
    n = len(grid) + 8  # a four-module quiet zone on each side
    cell = side / n
    path = canvas.beginPath()
    for r, row in enumerate(grid):
        top = y + side - (r + 4 + 1) * cell
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            path.rect(x + (start + 4) * cell, top, (c - start) * cell, cell)
    canvas.saveState()
    canvas.setFillColorRGB(0, 0, 0)
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()


def render_ticket_pdf(ticket: TicketPrint) -> bytes:
    font = cjk_font()
    lay = Layout(font)
    inner = PAGE_W - 2 * MARGIN
    lay.space(2 * mm)
    lay.text(ticket.branch_name, fit_size(ticket.branch_name, font, 12, inner, 9))
    lay.rule()
    lay.text(tr("您的号码"), 10)
    num_size = fit_size(ticket.number, font, 60, inner, 30)
    lay.text(ticket.number, num_size, gap=1.05)
    lay.space(1 * mm)
    if ticket.green_channel:
        marker = green_channel_marker(
            ticket.vip, ticket.priority_label or (None if ticket.vip else tr("优先"))
        )
        lay.text(f"【{marker}】", fit_size(f"【{marker}】", font, 11, inner, 8))
    if ticket.salutation:
        lay.text(tr(f"{ticket.salutation}，您好"), 10.5)
    lay.space(1 * mm)
    lay.text(tr(f"业务：{ticket.business_name}"), 10.5)
    lay.text(tr(f"区域：{ticket.zone_label}"), 10.5)
    lay.text(ticket.wait_area, 9.5)
    if ticket.windows:
        lay.text(tr(f"办理窗口：{'、'.join(ticket.windows)}"), 10.5)
    else:
        lay.text(tr("该区域暂无开放窗口，请听从大堂经理安排"), 9.5)
    lay.space(1 * mm)
    if ticket.ahead == 0 and ticket.estimated_wait_min > 0:  # every window is busy
        lay.text(tr(f"您前面没有人在等候，预计约 {ticket.estimated_wait_min} 分钟后叫号"), 10.5)
    elif ticket.ahead == 0:
        lay.text(tr("您前面没有人在等候，请留意叫号"), 10.5)
    else:
        lay.text(
            tr(f"您前面还有 {ticket.ahead} 人，预计等候约 {ticket.estimated_wait_min} 分钟"), 10.5
        )
    lay.text(tr(f"取号时间 {ticket.issued_at:%Y-%m-%d %H:%M}"), 9.5)
    lay.space(2 * mm)
    lay.qr(ticket.ticket_id, 22 * mm)
    lay.rule()
    lay.text(tr("请妥善保管此票，过号请与大堂经理联系"), 8.5)
    lay.text(tr("本票当日有效"), 8.5)
    lay.space(3 * mm)
    height = max(lay.y, 100 * mm)
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=(PAGE_W, height), pageCompression=1, initialFontName=font)
    canvas.setTitle(tr(f"排队票 {ticket.number}"))
    canvas.setAuthor("lobby-app")
    lay.render(canvas, height)
    canvas.showPage()
    canvas.save()
    return buf.getvalue()


def write_ticket_pdf(ticket: TicketPrint, path: str | os.PathLike[str]) -> Path:
    """Write atomically: a reader never sees half a ticket."""
    return write_atomically(render_ticket_pdf(ticket), path, ".ticket-")
