"""What a teller window does to the queue: call next, recall, start, finish, no-show, transfer.

Each command is one transaction that takes SQLite's write lock at its start, so two windows
pressing "call next" at the same moment are served one after the other and never get the
same customer, also across processes. A command given a request id records its answer; the
same id again returns that answer without acting twice (a retry after a lost reply).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.core.identity import mask_free_text
from lobby_app.core.limits import TICKET_REASON_MAX, check_text
from lobby_app.core.queue import pick_for_window
from lobby_app.core.zones import Zone
from lobby_app.models import (
    BusinessTypeRow,
    CommandLog,
    Counter,
    CounterEvent,
    Staff,
    Ticket,
    TicketEvent,
)
from lobby_app.models.base import utcnow
from lobby_app.store.admin import is_serving, sign_in
from lobby_app.store.closed import ensure_open
from lobby_app.store.db import Store, sql_of
from lobby_app.store.lanes import (
    ACTIVE,
    cash_codes,
    counter_place,
    counter_server,
    lane_streaks,
    waiting_tickets,
)
from lobby_app.store.setup import load_settings

# The hot statements are built once with bound parameters: building a SQLAlchemy
# expression costs more than running it on SQLite, and "call next" runs all day.
_BUSINESS_NAME = select(BusinessTypeRow.name).where(BusinessTypeRow.code == bindparam("code"))
_COUNTER = select(Counter).where(Counter.window_no == bindparam("window"))
_COUNTER_NAME = select(Counter.name).where(Counter.window_no == bindparam("window"))
_CURRENT = (
    select(Ticket)
    .where(Ticket.window_no == bindparam("window"), Ticket.status.in_(ACTIVE))
    .order_by(Ticket.called_at.desc())
    .limit(1)
)


@dataclass(frozen=True)
class WindowTicket:
    """A ticket as a teller command reports it (no personal data: the pop-up loads that)."""

    ticket_id: str
    number: str
    zone: str
    window: int
    status: str
    business: str
    green_channel: bool
    vip: bool
    priority: str | None
    recalls: int
    place: str = ""  # the window as the customer sees it: "3 号窗口", "贵宾理财室"

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def _ticket_view(s: Session, t: Ticket, window: int) -> WindowTicket:
    name = s.scalar(_BUSINESS_NAME, {"code": t.business_code})
    counter_name = s.scalar(_COUNTER_NAME, {"window": window}) or ""
    return WindowTicket(
        t.id,
        t.number,
        t.zone,
        window,
        t.status,
        name or t.business_code,
        t.green_channel,
        t.vip,
        t.priority,
        t.recalls,
        counter_place(window, counter_name),
    )


def _counter(s: Session, window: int, *, must_be_open: bool = True) -> Counter:
    counter = s.scalar(_COUNTER, {"window": window})
    if counter is None:
        raise LobbyError(
            "unknown_window", tr(f"没有 {window} 号窗口，请检查窗口号"), field="window"
        )
    if counter.retired_at is not None:
        raise LobbyError(
            "window_retired", tr(f"{window} 号窗口已撤销，不再办理业务"), field="window"
        )
    if must_be_open and not counter.staff_no:
        raise LobbyError(
            "no_teller",
            tr(f"{window} 号窗口没有柜员签到：请柜员先在本窗口登录(签到)后再开窗叫号"),
            field="window",
        )
    if must_be_open and not counter.is_open:
        raise LobbyError(
            "window_closed", tr(f"{window} 号窗口已暂停服务，请先开窗"), field="window"
        )
    return counter


def _current(s: Session, window: int) -> Ticket | None:
    return s.scalar(_CURRENT, {"window": window})


def _require_current(s: Session, window: int) -> Ticket:
    t = _current(s, window)
    if t is None:
        raise LobbyError(
            "no_current_ticket", tr(f"{window} 号窗口当前没有叫到的客户"), field="window"
        )
    return t


def _event(s: Session, t: Ticket, kind: str, now: datetime, actor: str, **detail: object) -> None:
    s.add(
        TicketEvent(
            ticket_id=t.id,
            at=now,
            kind=kind,
            actor=actor,
            detail=json.dumps(detail, ensure_ascii=False) if detail else "",
        )
    )


def _once(
    store: Store,
    command: str,
    request_id: str | None,
    act: Callable[[Session], WindowTicket],
) -> WindowTicket:
    with store.write() as s:
        if request_id:
            done = s.get(CommandLog, request_id)
            if done is not None:
                if done.command != command:
                    raise LobbyError(
                        "request_id_reused", tr("请求编号已用于另一条指令，请换一个新的请求编号")
                    )
                return WindowTicket(**json.loads(done.result))
        with s.no_autoflush:  # one flush, at commit: the command reads what it has not changed
            result = act(s)
        if request_id:
            s.add(
                CommandLog(
                    request_id=request_id,
                    command=command,
                    result=json.dumps(result.as_json(), ensure_ascii=False),
                )
            )
        return result


def call_next(
    store: Store,
    window: int,
    *,
    actor: str = "",
    request_id: str | None = None,
    now: datetime | None = None,
) -> WindowTicket:
    """Finish what the window had, then call the next ticket by the queue rule."""
    now = now or utcnow()

    def act(s: Session) -> WindowTicket:
        counter = _counter(s, window)
        st = load_settings(s)
        bdate = st.business_date(now)
        previous = _current(s, window)
        if previous is not None:
            previous.status = "done"
            previous.started_at = previous.started_at or previous.called_at
            previous.finished_at = now
            _event(s, previous, "finished", now, actor, window=window)
        # the same rule the listing, ``ahead`` and the estimate use (store/lanes.py)
        con = sql_of(s)  # this transaction, read in SQL
        cash = cash_codes(con)
        pick = pick_for_window(
            waiting_tickets(con, bdate, cash),
            counter_server(counter),
            lane_streaks(con, bdate, cash),
            st.queue_policy,
        )
        if pick is None:
            raise LobbyError("queue_empty", tr(f"{window} 号窗口服务的区域没有等候的客户"))
        t = s.get(Ticket, pick.ticket_id)
        assert t is not None
        t.status, t.called_at, t.window_no = "called", now, window
        t.first_called_at = t.first_called_at or now
        t.served_by = actor
        _event(s, t, "called", now, actor, window=window)
        return _ticket_view(s, t, window)

    return _once(store, "call", request_id, act)


def recall(
    store: Store,
    window: int,
    *,
    actor: str = "",
    request_id: str | None = None,
    now: datetime | None = None,
) -> WindowTicket:
    """Call the current ticket again (the display announces it once more)."""
    now = now or utcnow()

    def act(s: Session) -> WindowTicket:
        _counter(s, window, must_be_open=False)
        t = _require_current(s, window)
        t.recalls += 1
        _event(s, t, "recalled", now, actor, window=window)
        return _ticket_view(s, t, window)

    return _once(store, "recall", request_id, act)


def start(
    store: Store,
    window: int,
    *,
    actor: str = "",
    request_id: str | None = None,
    now: datetime | None = None,
) -> WindowTicket:
    now = now or utcnow()

    def act(s: Session) -> WindowTicket:
        _counter(s, window, must_be_open=False)
        t = _require_current(s, window)
        if t.status == "called":
            t.status, t.started_at = "serving", now
            _event(s, t, "started", now, actor, window=window)
        return _ticket_view(s, t, window)

    return _once(store, "start", request_id, act)


def finish(
    store: Store,
    window: int,
    *,
    actor: str = "",
    request_id: str | None = None,
    now: datetime | None = None,
) -> WindowTicket:
    now = now or utcnow()

    def act(s: Session) -> WindowTicket:
        _counter(s, window, must_be_open=False)
        t = _require_current(s, window)
        t.status, t.finished_at = "done", now
        t.started_at = t.started_at or t.called_at
        _event(s, t, "finished", now, actor, window=window)
        return _ticket_view(s, t, window)

    return _once(store, "finish", request_id, act)


def no_show(
    store: Store,
    window: int,
    *,
    actor: str = "",
    request_id: str | None = None,
    now: datetime | None = None,
) -> WindowTicket:
    """过号: the called customer did not come; the ticket can be called back later."""
    now = now or utcnow()

    def act(s: Session) -> WindowTicket:
        _counter(s, window, must_be_open=False)
        t = _require_current(s, window)
        if t.status != "called":
            raise LobbyError("already_serving", tr(f"{t.number} 已开始办理，不能过号"))
        t.status = "no_show"
        t.finished_at = now  # the window is free again; a call back clears it
        _event(s, t, "no_show", now, actor, window=window)
        return _ticket_view(s, t, window)

    return _once(store, "no_show", request_id, act)


def call_back(
    store: Store,
    window: int,
    number: str,
    *,
    actor: str = "",
    request_id: str | None = None,
    now: datetime | None = None,
) -> WindowTicket:
    """Call a ticket that was passed over (过号) when the customer comes back."""
    now = now or utcnow()

    def act(s: Session) -> WindowTicket:
        _counter(s, window)
        bdate = load_settings(s).business_date(now)
        ensure_open(s, bdate)
        t = s.scalar(
            select(Ticket).where(Ticket.business_date == bdate, Ticket.number == number.upper())
        )
        if t is None or t.status != "no_show":
            raise LobbyError("not_passed_over", tr(f"今天没有过号的 {number} 号票"), field="ticket")
        previous = _current(s, window)
        if previous is not None:
            raise LobbyError(
                "window_busy", tr(f"{window} 号窗口正在办理 {previous.number}，请先完成")
            )
        t.status, t.called_at, t.window_no = "called", now, window
        t.finished_at = None
        t.served_by = actor
        t.recalls += 1
        _event(s, t, "called_back", now, actor, window=window)
        return _ticket_view(s, t, window)

    return _once(store, "call_back", request_id, act)


def transfer(
    store: Store,
    window: int,
    *,
    to_zone: Zone | None = None,
    to_window: int | None = None,
    actor: str = "",
    reason: str = "",
    request_id: str | None = None,
    now: datetime | None = None,
) -> WindowTicket:
    """Send the current customer to another zone or window. They keep their number, their
    place by original arrival time, and their flags."""
    now = now or utcnow()
    if (to_zone is None) == (to_window is None):
        raise LobbyError("bad_transfer", tr("请指定转到的区域或窗口(二选一)"), field="to")
    reason = check_text(reason, field="reason", label=tr("转移原因"), limit=TICKET_REASON_MAX)

    def act(s: Session) -> WindowTicket:
        _counter(s, window, must_be_open=False)
        t = _require_current(s, window)
        before = t.zone
        if to_window is not None:
            if to_window == window:
                raise LobbyError("bad_transfer", tr("不能转给本窗口"), field="to_window")
            target = _counter(s, to_window, must_be_open=False)
            zones = [z for z in target.zones.split(",") if z]
            t.assigned_window = to_window
            if t.zone not in zones:
                t.zone = zones[0]
        else:
            assert to_zone is not None
            t.zone = to_zone.value
            t.assigned_window = None
        t.status, t.window_no, t.called_at, t.started_at = "waiting", None, None, None
        _event(
            s,
            t,
            "transferred",
            now,
            actor,
            from_window=window,
            from_zone=before,
            to_zone=t.zone,
            to_window=to_window,
            reason=mask_free_text(reason)[:100],  # no full ID/phone/card kept (JR/T 0171)
        )
        return _ticket_view(s, t, window)

    return _once(store, "transfer", request_id, act)


def set_window_open(
    store: Store, window: int, is_open: bool, *, actor: str = "", now: datetime | None = None
) -> bool:
    """Open or pause a window for service. Pausing does not touch the customer at it."""
    now = now or utcnow()
    with store.write() as s:
        counter = _counter(s, window, must_be_open=False)
        # opening a window nobody is signed in at, as a staff member, signs them in
        # (the command line's ``window open --actor T01``)
        free = is_open and not counter.staff_no and actor
        if free and s.scalar(select(Staff.staff_no).where(Staff.staff_no == actor)):
            sign_in(s, counter, actor, now)
        if is_open and not counter.staff_no:
            raise LobbyError(
                "no_teller",
                tr(f"{window} 号窗口没有柜员签到，不能开窗：请柜员先在本窗口登录"),
                field="window",
            )
        was = is_serving(counter)
        counter.is_open = is_open
        if is_serving(counter) != was:
            s.add(CounterEvent(window_no=window, is_open=is_open, actor=actor, at=now))
        return is_open


# How long after a service ends its customer can still rate it on the window's evaluation pad
# (服务评价器, DOMAIN.md "Zones"): the pad asks as the customer leaves; later presses are
# someone else's or nobody's.
RATING_WINDOW = timedelta(minutes=5)


def rate(
    store: Store,
    window: int,
    score: int,
    *,
    request_id: str | None = None,
    now: datetime | None = None,
) -> WindowTicket:
    """The evaluation pad's rating (1 poor .. 5 very satisfied) of the service that just ended
    at the window: the window's last finished ticket, finished within ``RATING_WINDOW``, and
    not rated yet. Never the customer being called or served now (the teller may have pressed
    call next, which finishes the previous customer, before the pad was pressed). A press that
    cannot be tied to such a ticket is refused, and nothing is recorded."""
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise LobbyError("bad_rating", tr("评价应为 1 到 5 的整数"), field="score")
    now = now or utcnow()

    def act(s: Session) -> WindowTicket:
        _counter(s, window, must_be_open=False)
        st = load_settings(s)
        since = now - RATING_WINDOW
        t = s.scalar(
            select(Ticket)
            .where(
                Ticket.business_date.in_({st.business_date(since), st.business_date(now)}),
                Ticket.window_no == window,
                Ticket.status == "done",
                Ticket.finished_at >= since,
                Ticket.finished_at <= now,
            )
            .order_by(Ticket.finished_at.desc())
            .limit(1)
        )
        limit = int(RATING_WINDOW.total_seconds() // 60)
        if t is None:
            raise LobbyError(
                "no_customer",
                tr(
                    f"{window} 号窗口最近 {limit} 分钟没有办结的客户，这次评价对应不到客户，"
                    "未记录：请在客户办结(完成)后再请客户评价"
                ),
                field="window",
            )
        if t.rating is not None:
            raise LobbyError(
                "already_rated",
                tr(
                    f"{window} 号窗口刚办结的 {t.number} 已评价过({t.rating} 分)，"
                    "一位客户只记一次评价；这次未记录"
                ),
                field="window",
            )
        t.rating = score
        _event(s, t, "rated", now, "", window=window, score=score)
        return _ticket_view(s, t, window)

    return _once(store, "rate", request_id, act)


@dataclass(frozen=True)
class CounterState:
    window: int
    name: str
    zones: list[str]
    vip_window: bool
    is_open: bool  # open for customers: not paused, and a teller signed in
    current: str | None  # the ticket number at the window
    current_status: str | None  # called / serving
    since: str | None  # when the current ticket was called (ISO, UTC)
    idle_since: str | None  # when the window last finished, if nobody is at it
    served_today: int
    staff_no: str | None = None  # the teller signed in at the window
    staff_name: str | None = None
    paused: bool = False  # a teller is signed in but has paused the window

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def counters_view(store: Store, *, now: datetime | None = None) -> list[CounterState]:
    """Every window: open or closed, serving whom since when, idle since, served today."""
    from sqlalchemy import func

    now = now or utcnow()
    with store.read() as s:
        bdate = load_settings(s).business_date(now)
        current = {
            t.window_no: t
            for t in s.scalars(
                select(Ticket)
                .where(Ticket.business_date == bdate, Ticket.status.in_(ACTIVE))
                .order_by(Ticket.called_at)
            )
        }
        served = dict(
            s.execute(
                select(Ticket.window_no, func.count())
                .where(Ticket.business_date == bdate, Ticket.status == "done")
                .group_by(Ticket.window_no)
            ).all()
        )
        last_done = dict(
            s.execute(
                select(Ticket.window_no, func.max(Ticket.finished_at))
                .where(Ticket.business_date == bdate, Ticket.status == "done")
                .group_by(Ticket.window_no)
            ).all()
        )
        names = dict(s.execute(select(Staff.staff_no, Staff.name)).all())
        out = []
        for c in s.scalars(
            select(Counter).where(Counter.retired_at.is_(None)).order_by(Counter.window_no)
        ):
            t = current.get(c.window_no)
            idle = last_done.get(c.window_no)
            out.append(
                CounterState(
                    window=c.window_no,
                    name=c.name,
                    zones=[z for z in c.zones.split(",") if z],
                    vip_window=c.vip_window,
                    is_open=is_serving(c),
                    current=t.number if t else None,
                    current_status=t.status if t else None,
                    since=t.called_at.isoformat() if t and t.called_at else None,
                    idle_since=None if t or idle is None else _aware(idle).isoformat(),
                    served_today=int(served.get(c.window_no, 0)),
                    staff_no=c.staff_no,
                    staff_name=names.get(c.staff_no or ""),
                    paused=bool(c.staff_no and not c.is_open),
                )
            )
        return out


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)
