"""Teller commands on a real store: order, states, transfers, exactly-once, and a race."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from lobby_app.core.business import PriorityKind
from lobby_app.core.errors import LobbyError
from lobby_app.core.zones import Zone
from lobby_app.models import Counter, Ticket
from lobby_app.store import Store, commands, teller
from lobby_app.store.commands import IssueRequest

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def branch(store: Store) -> Store:
    with store.write() as s:
        s.add_all(
            [
                Counter(window_no=1, staff_no="T99", name="1", zones="closed_counter"),
                Counter(window_no=2, staff_no="T99", name="2", zones="closed_counter"),
                Counter(
                    window_no=4,
                    staff_no="T99",
                    name="4",
                    zones="vip,closed_counter",
                    vip_window=True,
                ),
                Counter(window_no=5, staff_no="T99", name="5", zones="open_counter"),
            ]
        )
    return store


def issue(store: Store, code: str = "cash", minute: float = 0, **kw: object) -> str:
    return commands.issue_ticket(store, IssueRequest(code, **kw), now=at(minute)).number  # type: ignore[arg-type]


def status(store: Store, number: str) -> Ticket:
    with store.read() as s:
        t = s.scalar(select(Ticket).where(Ticket.number == number))
        assert t is not None
        return t


def test_call_order_and_previous_finished(branch: Store) -> None:
    issue(branch, minute=0)  # A001
    issue(branch, minute=1, priority=PriorityKind.ELDERLY)  # A002 green
    issue(branch, "card", minute=2)  # B001: not for window 1
    first = teller.call_next(branch, 1, now=at(5))
    assert (first.number, first.window, first.status) == ("A002", 1, "called")
    second = teller.call_next(branch, 1, now=at(9))
    assert second.number == "A001"
    done = status(branch, "A002")
    assert done.status == "done" and done.finished_at == at(9)
    with pytest.raises(LobbyError) as e:
        teller.call_next(branch, 1, now=at(12))
    assert e.value.code == "queue_empty"
    # a refusal writes nothing: A001 is still at the window until the teller finishes it
    assert status(branch, "A001").status == "called"
    assert teller.finish(branch, 1, now=at(13)).number == "A001"


def test_vip_window_takes_the_green_channel_first(branch: Store) -> None:
    issue(branch, minute=0)  # A001 ordinary, waiting longest
    issue(branch, minute=3, priority=PriorityKind.PREGNANT)  # A002 green
    assert teller.call_next(branch, 4, now=at(5)).number == "A002"
    assert teller.call_next(branch, 4, now=at(6)).number == "A001"


def test_unknown_and_closed_windows(branch: Store) -> None:
    issue(branch)
    with pytest.raises(LobbyError) as e:
        teller.call_next(branch, 99)
    assert e.value.code == "unknown_window"
    teller.set_window_open(branch, 2, False)
    with pytest.raises(LobbyError) as e:
        teller.call_next(branch, 2)
    assert e.value.code == "window_closed"
    assert status(branch, "A001").status == "waiting"


def test_start_finish_recall(branch: Store) -> None:
    issue(branch)
    teller.call_next(branch, 1, now=at(1))
    assert teller.recall(branch, 1, now=at(2)).recalls == 1
    assert teller.start(branch, 1, now=at(3)).status == "serving"
    assert teller.finish(branch, 1, now=at(10)).status == "done"
    t = status(branch, "A001")
    assert (t.called_at, t.started_at, t.finished_at) == (at(1), at(3), at(10))
    with pytest.raises(LobbyError) as e:
        teller.finish(branch, 1)
    assert e.value.code == "no_current_ticket"


def test_no_show_and_call_back(branch: Store) -> None:
    issue(branch)
    issue(branch, minute=1)
    teller.call_next(branch, 1, now=at(2))
    assert teller.no_show(branch, 1, now=at(4)).status == "no_show"
    assert (
        teller.call_next(branch, 1, now=at(5)).number == "A002"
    )  # the passed-over one waits aside
    with pytest.raises(LobbyError) as e:
        teller.call_back(branch, 1, "A001", now=at(6))
    assert e.value.code == "window_busy"
    teller.finish(branch, 1, now=at(7))
    back = teller.call_back(branch, 1, "a001", now=at(8))
    assert (back.number, back.status, back.recalls) == ("A001", "called", 1)


def test_transfer_to_zone_keeps_arrival_and_flags(branch: Store) -> None:
    issue(branch, minute=0, priority=PriorityKind.ELDERLY)  # A001 green
    issue(branch, "card", minute=5)  # B001
    teller.call_next(branch, 1, now=at(6))
    moved = teller.transfer(branch, 1, to_zone=Zone.OPEN_COUNTER, reason="需要开户", now=at(8))
    assert moved.number == "A001" and moved.status == "waiting" and moved.zone == "open_counter"
    t = status(branch, "A001")
    assert t.issued_at == at(0) and t.green_channel and t.priority == "elderly"
    assert teller.call_next(branch, 5, now=at(9)).number == "A001"  # still first: arrival kept


def test_transfer_to_a_window_only_that_window_calls_it(branch: Store) -> None:
    issue(branch, minute=0)  # A001
    issue(branch, minute=1)  # A002
    teller.call_next(branch, 1, now=at(2))  # A001 at window 1
    teller.transfer(branch, 1, to_window=2, now=at(3))
    assert teller.call_next(branch, 1, now=at(4)).number == "A002"  # window 1 skips it
    assert teller.call_next(branch, 2, now=at(5)).number == "A001"
    with pytest.raises(LobbyError):
        teller.transfer(branch, 2, now=at(6))  # neither zone nor window


def test_a_retry_does_not_act_twice(branch: Store) -> None:
    issue(branch)
    issue(branch, minute=1)
    first = teller.call_next(branch, 1, request_id="r-1", now=at(2))
    again = teller.call_next(branch, 1, request_id="r-1", now=at(3))
    assert again == first
    assert status(branch, "A002").status == "waiting"
    with pytest.raises(LobbyError) as e:
        teller.finish(branch, 1, request_id="r-1")
    assert e.value.code == "request_id_reused"


RACER = """
import json, sys
from lobby_app.core.errors import LobbyError
from lobby_app.store import Store, teller
store = Store.open(sys.argv[1])
window = int(sys.argv[2])
called = []
while True:
    try:
        called.append(teller.call_next(store, window).ticket_id)
    except LobbyError as exc:
        if exc.code == "queue_empty":
            break
        if exc.code != "store_busy":
            raise
print(json.dumps(called))
"""


def test_twenty_windows_racing_never_share_a_customer(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    with store.write() as s:
        s.add_all(
            Counter(window_no=n, staff_no="T99", name=str(n), zones="closed_counter")
            for n in range(1, 21)
        )
    for i in range(300):
        commands.issue_ticket(
            store, IssueRequest("cash", priority=PriorityKind.ELDERLY if i % 7 == 0 else None)
        )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(tmp_path), str(n)], stdout=subprocess.PIPE, text=True
        )
        for n in range(1, 21)
    ]
    called: list[str] = []
    for p in procs:
        out, _ = p.communicate(timeout=300)
        assert p.returncode == 0
        called += json.loads(out)
    assert len(called) == 300 and len(set(called)) == 300
    with store.read() as s:
        assert s.scalars(select(Ticket.id).where(Ticket.status == "waiting")).all() == []


# ---------------------------------------------------------------- evaluation pad (rate)


def test_a_rating_after_call_next_goes_to_the_customer_who_left(branch: Store) -> None:
    """Defect: a rating pressed after F1 (call next) without F5 (finish) went to the customer
    just called. Call next finishes the previous customer; the pad's rating is theirs."""
    issue(branch, minute=0)  # A001
    issue(branch, minute=1)  # A002
    assert teller.call_next(branch, 1, now=at(2)).number == "A001"
    teller.start(branch, 1, now=at(3))
    assert teller.call_next(branch, 1, now=at(8)).number == "A002"  # F1, no F5
    rated = teller.rate(branch, 1, 2, now=at(8.5))
    assert rated.number == "A001"
    assert status(branch, "A001").rating == 2 and status(branch, "A002").rating is None
    with pytest.raises(LobbyError) as e:  # a second press is not the next customer's either
        teller.rate(branch, 1, 5, now=at(9))
    assert e.value.code == "already_rated" and "A001" in e.value.message
    assert status(branch, "A001").rating == 2 and status(branch, "A002").rating is None


def test_a_rating_that_belongs_to_no_served_ticket_is_refused(branch: Store) -> None:
    """Defect: the pad rated whoever was at the window, or the last customer finished at any
    time that day. Now only a service that just ended (within RATING_WINDOW) can be rated."""
    with pytest.raises(LobbyError) as e:  # nobody served yet
        teller.rate(branch, 1, 5, now=at(0))
    assert e.value.code == "no_customer" and "1 号窗口" in e.value.message
    issue(branch, minute=0)  # A001
    teller.call_next(branch, 1, now=at(1))
    teller.start(branch, 1, now=at(2))
    with pytest.raises(LobbyError) as e:  # A001 is still being served
        teller.rate(branch, 1, 5, now=at(3))
    assert e.value.code == "no_customer"
    teller.finish(branch, 1, now=at(10))
    late = at(10) + teller.RATING_WINDOW + timedelta(seconds=1)
    with pytest.raises(LobbyError) as e:  # long after A001 left
        teller.rate(branch, 1, 5, now=late)
    assert e.value.code == "no_customer"
    with pytest.raises(LobbyError) as e:  # another window served nobody
        teller.rate(branch, 2, 5, now=at(10.5))
    assert e.value.code == "no_customer"
    assert status(branch, "A001").rating is None
    assert teller.rate(branch, 1, 4, now=at(11)).number == "A001"


_PAD_STEPS = st.lists(
    st.one_of(
        st.just(("issue", 0)),
        st.just(("call", 0)),
        st.just(("start", 0)),
        st.just(("finish", 0)),
        st.just(("no_show", 0)),
        st.tuples(st.just("wait"), st.integers(1, 8)),
        st.tuples(st.just("press"), st.integers(1, 5)),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=30, deadline=None)
@given(_PAD_STEPS)
@example([("issue", 0), ("issue", 0), ("call", 0), ("start", 0), ("call", 0), ("press", 3)])
@example([("issue", 0), ("call", 0), ("press", 5), ("finish", 0), ("wait", 6), ("press", 4)])
def test_a_rating_is_only_ever_the_just_ended_service_property(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, int]]
) -> None:
    """For any run of calls, finishes, no-shows, waits and pad presses at one window, a press
    is recorded exactly when the window's last served ticket finished within RATING_WINDOW and
    has no rating yet, and then on that ticket; never on the customer at the window."""
    s = Store.open(tmp_path_factory.mktemp("pad"))
    try:
        with s.write() as w:
            w.add(Counter(window_no=1, staff_no="T99", name="1", zones="closed_counter"))
        minute = 0.0
        for kind, value in steps:
            minute += 0.25
            now = at(minute)
            if kind == "issue":
                commands.issue_ticket(s, IssueRequest("cash"), now=now)
            elif kind == "wait":
                minute += value
            elif kind == "press":
                with s.read() as r:
                    done = r.scalars(
                        select(Ticket)
                        .where(Ticket.status == "done", Ticket.window_no == 1)
                        .order_by(Ticket.finished_at.desc())
                    ).first()
                    due = (
                        done
                        if done is not None
                        and done.finished_at is not None
                        and now - teller.RATING_WINDOW <= done.finished_at <= now
                        and done.rating is None
                        else None
                    )
                    current = r.scalar(
                        select(Ticket.number).where(Ticket.status.in_(teller.ACTIVE))
                    )
                try:
                    rated = teller.rate(s, 1, value, now=now)
                except LobbyError as e:
                    assert due is None and e.code in ("no_customer", "already_rated")
                else:
                    assert due is not None and rated.number == due.number != current
                    assert status(s, rated.number).rating == value
            else:
                fn = {
                    "call": teller.call_next,
                    "start": teller.start,
                    "finish": teller.finish,
                    "no_show": teller.no_show,
                }[kind]
                with contextlib.suppress(LobbyError):  # nobody waiting / at the window
                    fn(s, 1, now=now)
    finally:
        s.close()
