"""The branch's end-of-day summary (营业日终汇总表): A4, Chinese, embedded font, signed by the
branch head. Drawn from the figures dict of ``store.report`` (or a day close's frozen copy),
so the paper says exactly what ``report --json`` says. No names of customers: ticket numbers.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import _ContainerSpace, _listWrapOn

from lobby_app.core.i18n import tr
from lobby_app.printing.files import write_atomically
from lobby_app.printing.fonts import cjk_font

PAGE_W, PAGE_H = A4
MARGIN = 15 * mm
BODY_W = PAGE_W - 2 * MARGIN
HEAD_BG = colors.HexColor("#e8edf3")
LINE = colors.HexColor("#8a96a3")
ARRIVED = colors.HexColor("#4c78a8")
SERVED = colors.HexColor("#f2a541")
DASH = "—"
# the figures of a group row (docs/report.md), with their column headings and widths
GROUP_COLS: tuple[tuple[str, str, float], ...] = (
    (tr("取号"), "issued", 10),
    (tr("办理"), "served", 10),
    (tr("过号"), "no_show", 10),
    (tr("离开"), "left", 10),
    (tr("平均等候"), "wait_avg_min", 12),
    (tr("90%等候"), "wait_p90_min", 12),
    (tr("最长等候"), "wait_max_min", 12),
    (tr("超时人数"), "over_target", 12),
)
BUSINESS_COLS: tuple[tuple[str, str, float], ...] = (
    (tr("取号"), "issued", 10),
    (tr("办理"), "served", 10),
    (tr("平均办理"), "service_avg_min", 12),
    (tr("办理中位"), "service_median_min", 12),
    (tr("平均等候"), "wait_avg_min", 12),
    (tr("最长等候"), "wait_max_min", 12),
)
# the referral states of the referrer's and the manager's tables, each named as everywhere
# else (store/referrals.py STATUS_LABELS; printing does not import the store, a test holds
# the two together). Both tables count them alike: each referral in exactly one column.
OPEN_LABEL = tr("尚无结果")  # new + accepted + contacted: no outcome recorded yet
REFERRAL_STATE_COLS: tuple[tuple[str, str], ...] = (
    (tr("已成交"), "sold"),
    (tr("客户婉拒"), "declined"),
    (tr("待跟进"), "follow_up"),
    (OPEN_LABEL, "open"),
)
OPEN_STATE_LABELS = (tr("待接收"), tr("已接收"), tr("已联系"))
# how many of a period's not-closed days the header lists by date
NOT_CLOSED_LISTED = 40
# rows of the last table that stay on the page of the sign-off
TAIL_ROWS = 2


class _TableTail(_ContainerSpace, Flowable):  # type: ignore[misc]
    """The report's last table with what follows it down to the sign-off. Only the table
    may break across pages, and its last ``keep`` rows stay with what follows, so the
    sign-off never stands alone on a page. ``make(rows)`` draws the table for some of its
    rows with the heading row, so a part on a new page has its heading."""

    def __init__(
        self,
        before: list[Flowable],
        make: Callable[[list[list[Any]]], Table],
        rows: list[list[Any]],
        after: list[Flowable],
        keep: int = TAIL_ROWS,
    ) -> None:
        super().__init__()
        self.before, self.make, self.rows, self.after, self.keep = before, make, rows, after, keep
        self._content = [*before, make(rows), *after]

    def wrap(self, aW: float, aH: float) -> tuple[float, float]:
        return aW, 0xFFFFFF  # always split: ``split`` decides what goes on this page

    def split(self, aW: float, aH: float) -> list[Flowable]:
        whole = self._content
        if _listWrapOn(whole, aW, self.canv)[1] <= aH:
            return list(whole)
        # the most rows that fit here under what precedes the table, leaving ``keep`` rows
        best, lo, hi = 0, 1, len(self.rows) - self.keep
        while lo <= hi:
            mid = (lo + hi) // 2
            if _listWrapOn([*self.before, self.make(self.rows[:mid])], aW, self.canv)[1] <= aH:
                best, lo = mid, mid + 1
            else:
                hi = mid - 1
        if best:
            rest = _TableTail([], self.make, self.rows[best:], self.after, self.keep)
            return [*self.before, self.make(self.rows[:best]), rest]
        frame = getattr(self, "_frame", None)
        if frame is None or getattr(frame, "_atTop", False):
            return list(whole)  # not even a fresh page holds it: break where the table must
        return []  # on to the next page, whole

    def identity(self, maxLen: int | None = None) -> str:
        return f"<_TableTail of {len(self.rows)} rows>"


def _fmt(v: Any, unit: str = "") -> str:
    if v is None:
        return DASH
    if isinstance(v, float):
        text = f"{v:,.1f}" if abs(v) < 1e6 else f"{v:,.0f}"
        return text + unit
    if isinstance(v, int):
        return f"{v:,}{unit}"
    return f"{v}{unit}"


def _pct(v: Any) -> str:
    return DASH if v is None else f"{v:.1f}%"


def _money(v: Any) -> str:
    return DASH if v is None else f"{v:,.2f}"


class _Styles:
    def __init__(self, font: str) -> None:
        def st(name: str, size: float, **kw: Any) -> ParagraphStyle:
            return ParagraphStyle(
                name, fontName=font, fontSize=size, leading=size * 1.25, wordWrap="CJK", **kw
            )

        self.title = st("title", 17, alignment=TA_CENTER, spaceAfter=2 * mm)
        self.sub = st("sub", 9.5, alignment=TA_CENTER, textColor=colors.HexColor("#333333"))
        self.h = st(
            "h", 11.5, spaceBefore=3 * mm, spaceAfter=1.2 * mm, textColor=colors.HexColor("#0b2545")
        )
        self.body = st("body", 9)
        self.small = st("small", 8, textColor=colors.HexColor("#444444"))
        self.cell = st("cell", 7.8)
        self.cell_r = st("cell_r", 7.8, alignment=TA_RIGHT)
        self.warn = st("warn", 9, textColor=colors.HexColor("#a4161a"))


class _Summary:
    def __init__(self, fig: dict[str, Any], prepared_by: str, printed_at: datetime) -> None:
        self.f = fig
        self.font = cjk_font()
        self.s = _Styles(self.font)
        self.prepared_by = prepared_by
        self.printed_at = printed_at
        self.single = fig["from"] == fig["to"]

    # -------------------------------------------------------------- helpers

    def p(self, text: str, style: ParagraphStyle | None = None) -> Paragraph:
        safe = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return Paragraph(safe, style or self.s.body)

    def table(
        self,
        head: list[str],
        rows: list[list[Any]],
        widths: Sequence[float],
        *,
        text_cols: tuple[int, ...] = (0,),
        total: bool = False,
        width: float = BODY_W,
        padding: float | None = None,
    ) -> Table:
        """A ruled table; text columns wrap, number columns align right. ``padding``: the
        cells' left and right padding, narrower for tables of many columns in half a page."""
        data: list[list[Any]] = [[self.p(h, self.s.cell) for h in head]]
        for row in rows:
            data.append(
                [
                    self.p(str(v), self.s.cell if i in text_cols else self.s.cell_r)
                    for i, v in enumerate(row)
                ]
            )
        scale = width / sum(widths)
        t = Table(data, colWidths=[w * scale for w in widths], repeatRows=1)
        style = [
            ("FONT", (0, 0), (-1, -1), self.font, 8.5),
            ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
            ("GRID", (0, 0), (-1, -1), 0.4, LINE),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 0.8),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1.2),
        ]
        if padding is not None:
            style += [
                ("LEFTPADDING", (0, 0), (-1, -1), padding),
                ("RIGHTPADDING", (0, 0), (-1, -1), padding),
            ]
        if total and rows:
            style.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f5f5f5")))
        t.setStyle(TableStyle(style))
        return t

    def heading(self, text: str) -> list[Flowable]:
        return [CondPageBreak(40 * mm), self.p(text, self.s.h)]

    # -------------------------------------------------------------- sections

    def header(self) -> list[Flowable]:
        f = self.f
        # the branch's opening hours (settings) for a day and a period alike; the day also
        # says its first ticket and last finish, which are times of that day, not hours
        hours = (
            tr(f"营业时间：{f['open_time']}–{f['close_time']}")
            if f.get("open_time") and f.get("close_time")
            else ""  # figures frozen before the hours were part of them
        )
        if self.single:
            title = tr(f"{f['bank_name']} {f['branch_name']} 营业日终汇总表").strip()
            period = tr(f"营业日期：{f['from']}（{_weekday(f['from'])}）")
            times = tr(f"首位取号 {f['first_issue'] or DASH}，末位办结 {f['last_finish'] or DASH}")
        else:
            title = tr(f"{f['bank_name']} {f['branch_name']} 营业汇总表").strip()
            ticket_days = sum(1 for d in f["per_day"] if d["issued"])
            period = tr(
                f"期间：{f['from']} 至 {f['to']}（共 {f['days']} 天，有取号的营业日 {ticket_days} 天）"
            )
            times = ""
        target = tr(f"等候目标：{f['wait_target_min']} 分钟")
        out: list[Flowable] = [
            self.p(title, self.s.title),
            self.p(f"{tr('网点代码')}：{f['branch_code']}　{period}", self.s.sub),
            self.p("　".join(x for x in (hours, times, target) if x), self.s.sub),
            self.p(
                tr(f"制表：{self.prepared_by or DASH}　打印时间：{self.printed_at:%Y-%m-%d %H:%M}"),
                self.s.sub,
            ),
        ]
        if not self.single:
            out.append(self.period_closes())
        close = f.get("close")
        if close:
            kind = tr("日终") if close["kind"] == "close" else tr("更正")
            at = _local(close["at"], f["timezone"])
            line = tr(
                f"本表为{kind}冻结数字（第 {close['version']} 版，{at}，{close['actor_name']}）"
            )
            if close["kind"] == "correction":
                line += tr(f"；更正原因：{close['reason']}")
            out.append(self.p(line, self.s.sub))
            if f.get("changed_since_close"):
                out.append(
                    self.p(
                        tr(
                            "注意：日终后系统数据又有变动（例如转介结果），本表仍为冻结数字。"
                            "如需更新，请执行日终更正（close-day --correct）。"
                        ),
                        self.s.warn,
                    )
                )
        elif self.single:
            out.append(
                self.p(
                    tr(
                        f"本日尚未日终：数字截至 {_local(f['computed_at'], f['timezone'])}，仍会变化"
                    ),
                    self.s.warn,
                )
            )
        out.append(Spacer(1, 2 * mm))
        return out

    def period_closes(self) -> Paragraph:
        """Which days of a period are not closed (日终), from the per-day rows: a day with
        tickets, referrals or a close is listed there, closed or not."""
        f = self.f
        days = f["per_day"]
        open_days = [d["date"] for d in days if not d["closed"]]
        if not days:
            return self.p(tr("期间内没有营业记录"), self.s.sub)
        if not open_days:
            return self.p(tr(f"日终：期间内 {len(days)} 个营业日全部已日终"), self.s.sub)
        same_year = f["from"][:4] == f["to"][:4]
        shown = [d[5:] if same_year else d for d in open_days[:NOT_CLOSED_LISTED]]
        listed = "、".join(shown) + ("…" if len(open_days) > len(shown) else "")
        return self.p(
            tr(
                f"日终未完成：{listed}（共 {len(open_days)} 天，这些日期的数字仍会变化）；"
                f"已日终 {len(days) - len(open_days)} 天"
            ),
            self.s.warn,
        )

    def customers(self) -> list[Flowable]:
        f = self.f
        left = f["left"] + f["not_served"]
        key = [
            [
                tr("取号"),
                tr("已办理"),
                tr("过号"),
                tr("离开未办理"),
                tr("转移"),
                tr("识别客户"),
                tr("贵宾办理"),
                tr("优先办理"),
            ],
            [
                _fmt(f["issued"]),
                _fmt(f["served"]),
                _fmt(f["no_show"]),
                _fmt(left),
                _fmt(f["transfers"]),
                _fmt(f["identified"]),
                _fmt(f["vip"]["served"]),
                _fmt(f["priority"]["served"]),
            ],
        ]
        t = Table(
            [[self.p(c, self.s.cell) for c in key[0]], [self.p(c, _big(self.s)) for c in key[1]]],
            colWidths=[BODY_W / 8] * 8,
        )
        t.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, LINE),
                    ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
                    ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                ]
            )
        )
        out: list[Flowable] = [*self.heading(tr("一、客户")), t, Spacer(1, 2 * mm)]
        if f["waiting"] or f["in_service"]:
            out.append(
                self.p(
                    tr(
                        f"仍在等候 {f['waiting']} 人，窗口办理中 {f['in_service']} 人（日终时结算）"
                    ),
                    self.s.small,
                )
            )
        if f["priority"]["by_kind"]:
            kinds = "、".join(f"{k['label']} {k['issued']}" for k in f["priority"]["by_kind"])
            out.append(self.p(tr(f"优先客户：{kinds}"), self.s.small))
        out += self.grouped(tr("按区域（等候单位：分钟）"), tr("区域"), f["by_zone"], GROUP_COLS)
        out += self.grouped(tr("按客户层级"), tr("客户层级"), f["by_tier"], GROUP_COLS[:-1])
        return out

    def businesses(self) -> list[Flowable]:
        if not self.f["by_business"]:
            return []
        return self.grouped(
            tr("按业务（办理时长、等候：分钟）"), tr("业务"), self.f["by_business"], BUSINESS_COLS
        )

    def grouped(
        self,
        caption: str,
        first: str,
        rows: list[dict[str, Any]],
        cols: Sequence[tuple[str, str, float]],
    ) -> list[Flowable]:
        """A table of group rows (zone, tier, business): the label, then the named figures."""
        return [
            Spacer(1, 1.5 * mm),
            self.p(caption, self.s.small),
            self.table(
                [first, *(head for head, _, _ in cols)],
                [
                    [r.get("label") or r["name"], *(_fmt(r[key]) for _, key, _ in cols)]
                    for r in rows
                ],
                [34, *(width for _, _, width in cols)],
            ),
        ]

    def waits(self) -> list[Flowable]:
        f = self.f
        target = f["wait_target_min"]

        def row(label: str, w: dict[str, Any]) -> list[str]:
            return [
                label,
                _fmt(w["n"]),
                _fmt(w["avg_min"]),
                _fmt(w["median_min"]),
                _fmt(w["p90_min"]),
                _fmt(w["max_min"]),
                _fmt(w["over_target"]),
                _pct(w["over_target_pct"]),
            ]

        rows = [
            row(tr("全部客户"), f["wait"]),
            row(tr("绿色通道"), f["green_channel"]["wait"]),
            row(tr("其中：贵宾"), f["vip"]["wait"]),
            row(tr("其中：优先"), f["priority"]["wait"]),
        ]
        out: list[Flowable] = [
            *self.heading(tr("二、等候与办理")),
            self.table(
                [
                    tr("等候（分钟）"),
                    tr("叫号人数"),
                    tr("平均"),
                    tr("中位数"),
                    tr("90%"),
                    tr("最长"),
                    tr(f"超过{target}分钟"),
                    tr("超时占比"),
                ],
                rows,
                [26, 12, 10, 10, 10, 10, 14, 12],
            ),
            self.p(
                tr(
                    f"平均办理时长 {_fmt(f['service_avg_min'])} 分钟。等候自取号至首次叫号；"
                    "中位数与90%按最近秩计算。"
                ),
                self.s.small,
            ),
        ]
        longest = f["longest_waits"]
        if longest:
            head = [
                tr("序"),
                tr("号码"),
                tr("区域"),
                tr("业务"),
                tr("取号时间"),
                tr("等候（分钟）"),
            ]
            widths = [6, 12, 10, 30, 14, 14]
            if not self.single:
                head.insert(1, tr("日期"))
                widths.insert(1, 16)
            rows = []
            for i, t in enumerate(longest, 1):
                r = [
                    str(i),
                    t["number"] + (tr("（绿）") if t["green_channel"] else ""),
                    t["zone_label"],
                    t["business"],
                    t["issued_at"],
                    _fmt(t["wait_min"]),
                ]
                if not self.single:
                    r.insert(1, t["date"])
                rows.append(r)
            out += [
                Spacer(1, 1.5 * mm),
                self.p(tr("等候最久的客户（只列号码）"), self.s.small),
                self.table(
                    head, rows, widths, text_cols=(1, 2, 3) if self.single else (1, 2, 3, 4)
                ),
            ]
        return out

    def chart(self) -> list[Flowable]:
        hours = self.f["hourly"]
        if not hours or not any(h["arrivals"] or h["served"] for h in hours):
            return []
        width, height = BODY_W, 54 * mm
        d = Drawing(width, height)
        bc = VerticalBarChart()
        bc.x, bc.y = 12 * mm, 12 * mm
        bc.width, bc.height = width - 16 * mm, height - 22 * mm
        bc.data = [[h["arrivals"] for h in hours], [h["served"] for h in hours]]
        bc.categoryAxis.categoryNames = [f"{h['hour']}-{h['hour'] + 1}" for h in hours]
        bc.categoryAxis.labels.fontName = self.font
        bc.categoryAxis.labels.fontSize = 7.5
        bc.valueAxis.labels.fontName = self.font
        bc.valueAxis.labels.fontSize = 7.5
        bc.valueAxis.valueMin = 0
        top = max(max(s) for s in bc.data)
        bc.valueAxis.valueMax = max(5, _nice(top))
        bc.valueAxis.valueStep = max(1, _nice(top) // 5)
        bc.valueAxis.gridStrokeColor = colors.HexColor("#dddddd")
        bc.valueAxis.visibleGrid = True
        bc.bars[0].fillColor = ARRIVED
        bc.bars[1].fillColor = SERVED
        bc.bars.strokeColor = None
        bc.groupSpacing = 4
        bc.barLabels.fontName = self.font
        bc.barLabels.fontSize = 6.5
        bc.barLabelFormat = lambda v: str(int(v)) if v else ""
        bc.barLabels.nudge = 5
        d.add(bc)
        legend = Legend()
        legend.x, legend.y = width - 58 * mm, height - 3 * mm
        legend.fontName = self.font
        legend.fontSize = 8
        legend.alignment = "right"
        legend.columnMaximum = 1
        legend.deltax = 26 * mm
        legend.colorNamePairs = [(ARRIVED, tr("到店取号")), (SERVED, tr("窗口办结"))]
        d.add(legend)
        title = tr("每小时到店与办结人数") + ("" if self.single else tr("（期间合计）"))
        d.add(String(12 * mm, height - 6 * mm, title, fontName=self.font, fontSize=9))
        return [KeepTogether([Spacer(1, 3 * mm), d])]

    def counters(self) -> list[Flowable]:
        f = self.f
        out: list[Flowable] = [*self.heading(tr("三、窗口与人员"))]
        rows = [
            [
                f"{w['window']}",
                w["name"],
                _fmt(w["served"]),
                _fmt(w["service_avg_min"]),
                _fmt(w["idle_while_waiting_min"]),
            ]
            for w in f["windows"]
        ]
        out.append(
            self.table(
                [
                    tr("窗口"),
                    tr("名称"),
                    tr("办理人数"),
                    tr("平均办理（分钟）"),
                    tr("有客等候时空闲（分钟）"),
                ],
                rows,
                [10, 36, 14, 18, 22],
                text_cols=(0, 1),
            )
        )
        tellers = [
            [
                t["staff_no"],
                t["name"],
                _fmt(t["served"]),
                _fmt(t["service_avg_min"]),
                "、".join(str(w) for w in t["windows"]),
            ]
            for t in f["tellers"]
        ]
        if tellers:
            out += [
                Spacer(1, 2 * mm),
                self.table(
                    [tr("工号"), tr("柜员"), tr("办理人数"), tr("平均办理（分钟）"), tr("窗口")],
                    tellers,
                    [12, 34, 14, 18, 22],
                    text_cols=(0, 1, 4),
                ),
            ]
        out.append(
            self.p(
                tr(
                    "空闲：该窗口当日首次叫号至最后办结之间，窗口开放、无人办理而其服务区域有客户等候的时间。"
                ),
                self.s.small,
            )
        )
        return out

    def sales(self, closing: list[Flowable] | None = None) -> list[Flowable]:
        """四、营销与服务. With ``closing`` (the sign-off, when this is the last section) the
        section's tail (its last table's last rows and its closing lines) stays with it."""
        f = self.f
        r = f["referrals"]
        cond, heading = self.heading(tr("四、营销与服务"))
        outcomes = "、".join(f"{s['label']} {s['count']}" for s in r["by_status"]) or DASH
        body: list[Flowable] = [
            heading,
            self.p(
                tr(
                    f"转介 {r['made']} 笔，已成交 {r['sold']} 笔，成交金额 {_money(r['sold_amount_yuan'])} 元。"
                    f"结果：{outcomes}。"
                )
            ),
        ]
        half = (BODY_W - 4 * mm) / 2
        states = [label for label, _ in REFERRAL_STATE_COLS]
        pair: list[Flowable] = []
        for who, rows, total in (
            (tr("转介人"), r["by_referrer"], "made"),
            (tr("客户经理"), r["by_manager"], "received"),
        ):
            if rows:
                pair.append(
                    self.table(
                        [who, tr("工号"), tr("转介"), *states],
                        [
                            [
                                x["name"],
                                x["staff_no"],
                                _fmt(x[total]),
                                *(_fmt(x.get(key)) for _, key in REFERRAL_STATE_COLS),
                            ]
                            for x in rows
                        ],
                        [74, 22, 21, 30, 38, 30, 38],  # points: the headings on one line
                        text_cols=(0, 1),
                        width=half,
                        padding=2,
                    )
                )
        if pair:
            side = Table([pair], colWidths=[half + 4 * mm, half][: len(pair)])
            side.setStyle(
                TableStyle(
                    [
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                        ("LEFTPADDING", (0, 0), (-1, -1), 0),
                        ("RIGHTPADDING", (0, 0), (0, 0), 4 * mm),
                        ("RIGHTPADDING", (1, 0), (-1, -1), 0),
                    ]
                )
            )
            body += [
                Spacer(1, 1.5 * mm),
                side,
                self.p(
                    tr(f"“{OPEN_LABEL}”即{'、'.join(OPEN_STATE_LABELS)}，尚未记录结果。"),
                    self.s.small,
                ),
            ]
        after: list[Flowable] = []
        needs = f["needs"]
        if needs:
            cells = [f"{n['label']} {n['count']}" for n in needs]
            after += [Spacer(1, 2 * mm), self.p(tr("记录的客户需求：") + "、".join(cells))]
        dv = f["diversion"]  # each ticket once (store/report.py ``_diversion``)
        kept = dv.get("kept_at_counter") or 0
        after.append(
            self.p(
                tr(
                    f"电子渠道分流：{dv['to_self_service']} 人次在自助服务区办理"
                    f"（取号时引导 {dv['at_desk']}，由柜台转来 {dv['by_transfer']}），"
                    f"占取号 {_pct(dv['share_pct'])}"
                )
                + (tr(f"；建议自助但留在柜台办理 {kept} 人次") if kept else "")
                + "。"
            )
        )
        rt = f["ratings"]
        if rt["n"]:
            scores = "、".join(f"{k}分 {v}" for k, v in rt["by_score"].items())
            after.append(
                self.p(
                    tr(
                        f"服务评价：{rt['n']} 人评价，平均 {rt['avg']:.2f} 分，满意（4–5分）"
                        f"{_pct(rt['satisfied_pct'])}；{scores}。"
                    )
                )
            )
        else:
            after.append(self.p(tr("服务评价：本期无评价器记录。")))
        if not r["credits"]:
            if closing is None:
                return [cond, *body, *after]
            # no table to break: the section is short, it goes with the sign-off whole
            return [cond, KeepTogether([*body, *after, *closing])]
        credit_rows = [
            [x["name"], x["staff_no"], _fmt(x["sales"]), _money(x["credit_yuan"])]
            for x in r["credits"]
        ]

        def credits(rows: list[list[Any]]) -> Table:
            return self.table(
                [tr("员工"), tr("工号"), tr("计入笔数"), tr("计入金额（元）")],
                rows,
                [34, 14, 14, 24],
                text_cols=(0, 1),
            )

        caption = [
            Spacer(1, 1.5 * mm),
            self.p(tr("销售业绩计入（转介绍销售按比例分成，贵宾归属客户经理计入）"), self.s.small),
        ]
        if closing is None:
            return [cond, *body, *caption, credits(credit_rows), *after]
        return [cond, *body, _TableTail(caption, credits, credit_rows, [*after, *closing])]

    def trend(self, closing: list[Flowable] | None = None) -> list[Flowable]:
        """五、逐日趋势 (periods only); with ``closing`` its last rows stay with the sign-off."""
        days = self.f["per_day"]
        if self.single or not days:
            return []
        rows = [
            [
                d["date"],
                _fmt(d["issued"]),
                _fmt(d["served"]),
                _fmt(d["no_show"]),
                _fmt(d["wait_avg_min"]),
                _fmt(d["wait_p90_min"]),
                _fmt(d["over_target"]),
                _fmt(d["referrals"]),
                tr("是") if d["closed"] else tr("否"),
            ]
            for d in days
        ]

        def table(part: list[list[Any]]) -> Table:
            return self.table(
                [
                    tr("日期"),
                    tr("取号"),
                    tr("办理"),
                    tr("过号"),
                    tr("平均等候"),
                    tr("90%等候"),
                    tr("超时"),
                    tr("转介"),
                    tr("已日终"),
                ],
                part,
                [18, 10, 10, 10, 12, 12, 10, 10, 10],
            )

        cond, heading = self.heading(tr("五、逐日趋势"))
        if closing is None:
            return [cond, heading, table(rows)]
        return [cond, _TableTail([heading], table, rows, closing)]

    def signoff(self) -> list[Flowable]:
        line = tr(
            "网点负责人（签字）：________________　　大堂经理（签字）：________________　　日期：____________"
        )
        return [Spacer(1, 6 * mm), self.p(line)]

    def story(self) -> list[Flowable]:
        """The sections in order; the last one keeps its tail with the sign-off."""
        trend_last = not self.single and bool(self.f["per_day"])
        return [
            *self.header(),
            *self.customers(),
            *self.businesses(),
            *self.waits(),
            *self.chart(),
            *self.counters(),
            *self.sales(None if trend_last else self.signoff()),
            *self.trend(self.signoff() if trend_last else None),
        ]


def _big(s: _Styles) -> ParagraphStyle:
    return ParagraphStyle("big", parent=s.cell, fontSize=13, leading=16, alignment=TA_CENTER)


def _nice(v: float) -> int:
    """A round axis maximum at or above ``v``."""
    for step in (5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if v <= step * 5:
            return int(step * (int(v // step) + 1))
    return int(v * 1.1) + 1


def _weekday(iso: str) -> str:
    return "一二三四五六日"[date.fromisoformat(iso).weekday()].join((tr("星期"), ""))


def _local(iso: str, tz_name: str) -> str:
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(iso).astimezone(ZoneInfo(tz_name)).strftime("%Y-%m-%d %H:%M")


def _fit(text: str, font: str, size: float, width: float) -> str:
    """Cut ``text`` with an ellipsis so it fits ``width`` points."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _page_canvas(footer: str, font: str) -> type[Canvas]:
    footer = _fit(footer, font, 7.5, BODY_W - 30 * mm)

    class NumberedCanvas(Canvas):  # type: ignore[misc]
        """Holds every page until the end, so each can say "page x of y"."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont(font, 7.5)
                self.setFillColor(colors.HexColor("#555555"))
                self.drawString(MARGIN, 9 * mm, footer)
                self.drawRightString(
                    PAGE_W - MARGIN, 9 * mm, tr(f"第 {self._pageNumber} 页 共 {total} 页")
                )
                super().showPage()
            super().save()

    return NumberedCanvas


def render_summary_pdf(
    figures: dict[str, Any], *, prepared_by: str = "", printed_at: datetime | None = None
) -> bytes:
    if printed_at is None:
        from zoneinfo import ZoneInfo

        printed_at = datetime.now(ZoneInfo(figures["timezone"]))
    doc = _Summary(figures, prepared_by, printed_at)
    buf = io.BytesIO()
    period = figures["from"] if doc.single else f"{figures['from']} — {figures['to']}"
    title = tr(f"营业日终汇总表 {period}") if doc.single else tr(f"营业汇总表 {period}")
    pdf = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=16 * mm,
        title=title,
        author="lobby-app",
        pageCompression=1,
    )
    footer = f"{figures['bank_name']} {figures['branch_name']} · {title}".strip()
    pdf.build(doc.story(), canvasmaker=_page_canvas(footer, doc.font))
    return buf.getvalue()


def write_summary_pdf(
    figures: dict[str, Any],
    path: str | os.PathLike[str],
    *,
    prepared_by: str = "",
    printed_at: datetime | None = None,
) -> Path:
    data = render_summary_pdf(figures, prepared_by=prepared_by, printed_at=printed_at)
    return write_atomically(data, path, ".summary-")
