"""The desk records only what it shows (issue 15.8, 15.12): the header "客户：…" names the
customer the ticket carries, whichever way the lobby manager got there, by mouse or key."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton
from pytestqt.qtbot import QtBot
from sqlalchemy import select, update

from lobby_app.models import Customer, Ticket
from lobby_app.store import Store
from lobby_app.ui.app import build_desk, qt_app
from lobby_app.ui.desk import DeskWindow
from tests.ui.conftest import L01


@pytest.fixture
def store(demo_store: Store) -> Store:
    return demo_store


@pytest.fixture
def desk(qtbot: QtBot, store: Store) -> DeskWindow:
    qt_app()
    w = build_desk(store, actor=L01)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.business_model.rowCount() > 0)
    qtbot.waitUntil(lambda: not w.worker.busy)
    return w


def header_customer(desk: DeskWindow) -> str | None:
    """The customer number the header names; None when it names nobody."""
    text = desk.who.text()
    m = re.search(r"\bC\d{9}\b", text)
    if m:
        return m.group(0)
    assert text in ("客户：未选择", "客户：散客"), text
    return None


def issued_customers(store: Store) -> list[str | None]:
    """The tickets issued here (the demo's history is served already), in issue order,
    each as its customer's number (None: nobody)."""
    with store.read() as s:
        rows = s.execute(
            select(Customer.customer_no)
            .select_from(Ticket)
            .outerjoin(Customer, Customer.id == Ticket.customer_id)
            .where(Ticket.status == "waiting")
            .order_by(Ticket.issued_at)
        )
        return [no for (no,) in rows]


def issued(qtbot: QtBot, desk: DeskWindow, customers: list[str | None]) -> None:
    """Wait for the ticket, and for the desk to have taken it in (printed, form reset)."""
    store = desk.store
    assert store is not None
    qtbot.waitUntil(
        lambda: len(issued_customers(store)) == len(customers) and not desk._issuing,
        timeout=10_000,
    )
    assert issued_customers(store) == customers


def settled(qtbot: QtBot, desk: DeskWindow) -> None:
    """The search typed so far has its results on screen."""

    def pending() -> bool:
        return desk._search_timer.isActive() or desk._shown_seq != desk._search_seq

    qtbot.waitUntil(lambda: not pending() and not desk.worker.busy, timeout=10_000)


def row_center(desk: DeskWindow, row: int):  # type: ignore[no-untyped-def]
    return desk.results.visualRect(desk.customer_model.index(row, 1)).center()


def clear_search(qtbot: QtBot, desk: DeskWindow) -> None:
    """The line edit's own clear button (×), as a person clicks it."""
    (button,) = desk.search.findChildren(QToolButton)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: desk.search.text() == "")


def type_search(qtbot: QtBot, desk: DeskWindow, text: str) -> None:
    desk.search.setFocus()
    desk.search.selectAll()
    qtbot.keyClicks(desk.search, text)
    settled(qtbot, desk)


# Each path leaves some customer (or nobody) in the header; the ticket must carry just that.
def highlight_by_arrow(qtbot: QtBot, desk: DeskWindow) -> str | None:
    type_search(qtbot, desk, "oy")
    assert desk.customer_model.rowCount() >= 2
    qtbot.keyClick(desk.search, Qt.Key.Key_Down)
    return desk.customer_model.customer(1).customer_no  # type: ignore[union-attr]


def single_click(qtbot: QtBot, desk: DeskWindow) -> str | None:
    type_search(qtbot, desk, "oy")
    qtbot.mouseClick(desk.results.viewport(), Qt.MouseButton.LeftButton, pos=row_center(desk, 1))
    return desk.customer_model.customer(1).customer_no  # type: ignore[union-attr]


def double_click(qtbot: QtBot, desk: DeskWindow) -> str | None:
    type_search(qtbot, desk, "oy")
    at = row_center(desk, 1)  # a person's double click: a click, then the second press
    qtbot.mouseClick(desk.results.viewport(), Qt.MouseButton.LeftButton, pos=at)
    qtbot.mouseDClick(desk.results.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert desk.business_list.hasFocus()  # picked: on to the form
    return desk.customer_model.customer(1).customer_no  # type: ignore[union-attr]


def enter_on_highlight(qtbot: QtBot, desk: DeskWindow) -> str | None:
    type_search(qtbot, desk, "oy")
    qtbot.keyClick(desk.search, Qt.Key.Key_Down)
    qtbot.keyClick(desk.search, Qt.Key.Key_Return)
    return desk.customer_model.customer(1).customer_no  # type: ignore[union-attr]


def clear_after_highlight(qtbot: QtBot, desk: DeskWindow) -> str | None:
    type_search(qtbot, desk, "oymh")
    assert header_customer(desk) == "C000000001"
    clear_search(qtbot, desk)
    settled(qtbot, desk)
    return None


def clear_after_pick(qtbot: QtBot, desk: DeskWindow) -> str | None:
    type_search(qtbot, desk, "oymh")
    qtbot.keyClick(desk.search, Qt.Key.Key_Return)
    assert header_customer(desk) == "C000000001"
    clear_search(qtbot, desk)
    settled(qtbot, desk)
    return None


def new_search_after_highlight(qtbot: QtBot, desk: DeskWindow) -> str | None:
    type_search(qtbot, desk, "oymh")
    type_search(qtbot, desk, "zs")
    return desk.customer_model.customer(0).customer_no  # type: ignore[union-attr]


def new_search_after_pick(qtbot: QtBot, desk: DeskWindow) -> str | None:
    type_search(qtbot, desk, "oymh")
    qtbot.keyClick(desk.search, Qt.Key.Key_Return)
    type_search(qtbot, desk, "zs")
    return desk.customer_model.customer(0).customer_no  # type: ignore[union-attr]


def walk_in_after_highlight(qtbot: QtBot, desk: DeskWindow) -> str | None:
    type_search(qtbot, desk, "oymh")
    qtbot.keyClick(desk.search, Qt.Key.Key_F2)
    assert desk.customer_model.rowCount() == 0  # nothing left highlighted
    return None


PATHS: dict[str, Callable[[QtBot, DeskWindow], str | None]] = {
    f.__name__: f
    for f in (
        highlight_by_arrow,
        single_click,
        double_click,
        enter_on_highlight,
        clear_after_highlight,
        clear_after_pick,
        new_search_after_highlight,
        new_search_after_pick,
        walk_in_after_highlight,
    )
}


def issue_by(qtbot: QtBot, desk: DeskWindow, how: str) -> None:
    if how == "mouse":
        qtbot.mouseClick(desk.issue_button, Qt.MouseButton.LeftButton)
    else:
        target = desk.focusWidget() or desk
        qtbot.keyClick(target, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)


@pytest.mark.parametrize("how", ["mouse", "shortcut"])
@pytest.mark.parametrize("path", list(PATHS))
def test_the_ticket_carries_who_the_header_names(
    qtbot: QtBot, desk: DeskWindow, path: str, how: str
) -> None:
    """Issue 15.8: after a highlight by arrow key or click, a clear or a new search, 取号
    issued an anonymous ticket under a header that already read "客户：欧阳先生" (or the
    header kept a customer the ticket did not carry). Now header and ticket agree."""
    expected = PATHS[path](qtbot, desk)
    shown = header_customer(desk)
    assert shown == expected, (path, desk.who.text())
    issue_by(qtbot, desk, how)
    issued(qtbot, desk, [shown])


def test_issue_waits_for_the_search_typed(qtbot: QtBot, desk: DeskWindow) -> None:
    """Issue 15.8: 取号 pressed while the results of what was just typed were on their way
    issued a ticket for nobody, and the results then put 欧阳先生 in the header."""
    qtbot.keyClicks(desk.search, "oymh")
    qtbot.mouseClick(desk.issue_button, Qt.MouseButton.LeftButton)  # before the results
    qtbot.waitUntil(lambda: "正在查询客户" in desk.error_label.text())
    settled(qtbot, desk)
    assert issued_customers(desk.store) == []  # type: ignore[arg-type]
    assert header_customer(desk) == "C000000001"
    qtbot.mouseClick(desk.issue_button, Qt.MouseButton.LeftButton)
    issued(qtbot, desk, ["C000000001"])
    # after the ticket the desk is empty, and a late answer cannot refill it
    qtbot.waitUntil(lambda: desk.search.hasFocus())
    assert header_customer(desk) is None and desk.customer_model.rowCount() == 0


def test_enter_on_no_match_says_not_found(qtbot: QtBot, desk: DeskWindow) -> None:
    """Issue 15.12: Enter on a query that found nobody made a walk-in without a word;
    now it says 未找到, and 取号 does not quietly issue a ticket for nobody either."""
    type_search(qtbot, desk, "qqqxyz")
    assert desk.customer_model.rowCount() == 0
    qtbot.keyClick(desk.search, Qt.Key.Key_Return)
    assert not desk.walk_in and desk.customer is None
    assert "未找到“qqqxyz”" in desk.detail.text()
    assert desk.search.hasFocus() and desk.search.selectedText() == "qqqxyz"
    assert header_customer(desk) is None and desk.who.text() == "客户：未选择"
    qtbot.mouseClick(desk.issue_button, Qt.MouseButton.LeftButton)
    assert "未找到“qqqxyz”" in desk.error_label.text()  # said where 取号 was pressed
    assert issued_customers(desk.store) == []  # type: ignore[arg-type]
    qtbot.keyClick(desk.search, Qt.Key.Key_F2)  # a walk-in, said as such
    assert desk.who.text() == "客户：散客"
    qtbot.keyClick(desk.business_list, Qt.Key.Key_Return)
    issued(qtbot, desk, [None])


def test_four_digits_find_the_phone_first_and_say_so(
    qtbot: QtBot, desk: DeskWindow, store: Store
) -> None:
    """Issue 15.12: ``0001`` + Enter picked C000100000 (a customer number that starts
    0001) instead of the customer whose phone ends 0001; the list says what matched."""
    with store.write() as s:
        s.execute(
            update(Customer).where(Customer.customer_no == "C000000003").values(phone_last4="0001")
        )
    type_search(qtbot, desk, "0001")
    model = desk.customer_model
    match_col = 2
    assert model.headerData(match_col, Qt.Orientation.Horizontal) == "匹配"
    assert model.customer(0).customer_no == "C000000003"  # type: ignore[union-attr]
    labels = [model.index(r, match_col).data() for r in range(model.rowCount())]
    assert labels[0] == "手机尾号" and "客户号" in labels
    tails = [i for i, x in enumerate(labels) if x.endswith("尾号")]
    assert max(tails) < labels.index("客户号")  # every last-four match before any number
    assert not desk.results.isColumnHidden(match_col)
    qtbot.keyClick(desk.search, Qt.Key.Key_Return)
    assert header_customer(desk) == "C000000003"
    qtbot.keyClick(desk.business_list, Qt.Key.Key_Return)
    issued(qtbot, desk, ["C000000003"])
