"""The calling display on a real hub: calls shown large and spoken, no personal data."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QFontMetrics
from PySide6.QtTextToSpeech import QTextToSpeech
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from lobby_app.hub.thread import HubThread
from lobby_app.models import Customer
from lobby_app.store import Store, commands, teller
from lobby_app.store.commands import IssueRequest
from lobby_app.ui.app import qt_app
from lobby_app.ui.display import Announcer, DisplayWindow, spoken
from lobby_app.ui.hublink import HubLink


@pytest.fixture
def display(qtbot: QtBot, hub: HubThread) -> Iterator[tuple[DisplayWindow, list[str]]]:
    qt_app()
    chimes: list[str] = []
    voice = QTextToSpeech("mock")  # Qt's own test engine: speaks into nothing
    announcer = Announcer(voice, chime=lambda: chimes.append("ding"))
    link = HubLink(hub.url, station="display", key=hub.key)
    w = DisplayWindow(link, announcer)
    qtbot.addWidget(w)
    w.resize(1280, 720)
    w.show()
    link.start()
    qtbot.waitUntil(lambda: link.connected, timeout=10_000)
    yield w, chimes
    link.close()


def test_call_is_shown_spoken_and_free_of_personal_data(
    qtbot: QtBot, display: tuple[DisplayWindow, list[str]], demo_store: Store, hub: HubThread
) -> None:
    w, chimes = display
    with demo_store.read() as s:
        cust = s.scalar(select(Customer).where(Customer.customer_no == "C000000001"))
        assert cust is not None
    commands.issue_ticket(
        demo_store, IssueRequest("cash", customer_id=cust.id, greeting_note="老客户张口就笑")
    )
    commands.issue_ticket(demo_store, IssueRequest("cash"))
    hub.changed("issue_ticket", {}).result(5)
    qtbot.waitUntil(lambda: w.wait_labels["closed_counter"].text() == "1", timeout=10_000)
    qtbot.waitUntil(lambda: "城东支行" in w.branch.text(), timeout=10_000)
    with qtbot.waitSignal(w.announcer.announced, timeout=10_000) as said:
        result = teller.call_next(demo_store, 4)
        hub.changed("call_next", result.as_json()).result(5)
    assert w.latest.text() == "请 V001 号 到 4 号窗口"
    # the call stays on one line and fits the screen, also on a small TV resolution
    for width, height in ((1280, 720), (800, 450)):
        w.resize(width, height)
        qtbot.waitUntil(lambda width=width: w.width() == width, timeout=5_000)
        drawn = QFontMetrics(w.latest.font()).size(0, w.latest.text())
        assert drawn.width() <= w.latest.contentsRect().width()
        assert drawn.height() < 2 * QFontMetrics(w.latest.font()).height()
    w.resize(1280, 720)
    assert said.args[0] == spoken("V001", 4) and "零 零 一" in said.args[0]
    assert chimes == ["ding"]
    assert w.announcer.speech is not None
    assert w.announcer.speech.state() != QTextToSpeech.State.Error
    result = teller.call_next(demo_store, 1)
    hub.changed("call_next", result.as_json()).result(5)
    qtbot.waitUntil(lambda: w.latest.text() == "请 A001 号 到 1 号窗口", timeout=10_000)
    qtbot.waitUntil(lambda: "V001 号 → 4 号窗口" in w.visible_text(), timeout=10_000)
    # issue 15: the VIP room is announced by its name, and VIP wealth work goes there
    wealth = commands.issue_ticket(demo_store, IssueRequest("wealth", customer_id=cust.id))
    result = teller.call_next(demo_store, 7)
    assert result.number == wealth.number
    hub.changed("call_next", result.as_json()).result(5)
    qtbot.waitUntil(
        lambda: w.latest.text() == f"请 {wealth.number} 号 到 贵宾理财室", timeout=10_000
    )
    shown = w.visible_text()
    for secret in (cust.name, cust.name[:2], cust.customer_no, "老客户", "中高端", "黑金"):
        assert secret not in shown


def test_silent_without_a_voice_and_says_so(qtbot: QtBot, caplog: pytest.LogCaptureFixture) -> None:
    qt_app()
    with caplog.at_level("WARNING"):
        a = Announcer(None)
    assert any("no text-to-speech" in r.message for r in caplog.records)
    with qtbot.waitSignal(a.announced) as said:
        a.announce("A001", 2)
    assert said.args == [""]


def test_a_display_started_mid_day_lists_the_days_last_calls(
    qtbot: QtBot, demo_store: Store, hub: HubThread
) -> None:
    """Issue 18 item 5: the 最近叫号 list is not empty when the display starts after calls
    were made; they are shown, not announced again, and carry numbers and windows only."""
    for business in ("cash", "card", "cash", "cash"):
        commands.issue_ticket(demo_store, IssueRequest(business))
    called = []
    for window in (1, 2, 3):  # as the tellers call them, through the hub
        result = teller.call_next(demo_store, window)
        hub.changed("call_next", result.as_json()).result(5)
        called.append(result.number)
    qt_app()
    chimes: list[str] = []
    announcer = Announcer(QTextToSpeech("mock"), chime=lambda: chimes.append("ding"))
    link = HubLink(hub.url, station="display", key=hub.key)
    w = DisplayWindow(link, announcer)
    qtbot.addWidget(w)
    w.show()
    link.start()
    try:
        qtbot.waitUntil(lambda: called[-1] in w.latest.text(), timeout=10_000)
        listed = [lab.text() for lab in w.recent_labels if lab.text()]
        assert [t.split(" ")[0] for t in listed] == called[-2::-1]  # newest first
        assert all("窗口" in t for t in listed)
        assert chimes == []  # history is shown, not called again
    finally:
        link.close()
