"""What a station says about its link to the hub (issue 18 items 4 and 16): plain Chinese
while the hub is away, the OS's English details in the log only, the red line gone once
the hub is back; and log lines in the branch's time with the offset."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime

import pytest
from pytestqt.qtbot import QtBot

from lobby_app import logs
from lobby_app.hub.thread import HubThread
from lobby_app.store import Store
from lobby_app.store.demo import DEMO_PIN
from lobby_app.ui.app import qt_app
from lobby_app.ui.hublink import HubLink
from lobby_app.ui.teller import TellerWindow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_lost_hub_reads_as_plain_chinese_and_clears_on_return(
    qtbot: QtBot, demo_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    qt_app()
    port = free_port()
    hub = HubThread(demo_store, "127.0.0.1", port)
    key = hub.key
    assert key
    link = HubLink(
        f"ws://127.0.0.1:{port}", station="teller", key=key, staff="T02", pin=DEMO_PIN, window=2
    )
    w = TellerWindow(link, 2)
    qtbot.addWidget(w)
    w.show()
    caplog.set_level(logging.WARNING, logger="lobby_app.ui.hublink")
    link.start()
    try:
        qtbot.waitUntil(lambda: "连不上网点主机" in w.message.text(), timeout=10_000)
        said = w.message.text()
        assert f"127.0.0.1:{port}" in said and "正在自动重连" in said
        assert not any(ch.isascii() and ch.isalpha() for ch in said.replace("127.0.0.1", "")), said
        assert "Errno" not in said and "Connect call failed" not in said
        assert any("127.0.0.1" in r.getMessage() for r in caplog.records)  # details: the log
        hub.start()
        qtbot.waitUntil(lambda: link.connected, timeout=15_000)
        qtbot.waitUntil(lambda: "连不上" not in w.message.text(), timeout=10_000)
        assert w.message.text() == "已重新连接网点主机"
    finally:
        link.close()
        hub.stop()


def test_log_lines_carry_the_branch_time_and_its_offset() -> None:
    fmt = logs.MaskingFormatter("%(asctime)s %(message)s")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    record.created = datetime(2026, 12, 1, 13, 9, 5, tzinfo=UTC).timestamp()
    saved = logs._zone
    try:
        logs.set_log_zone("Asia/Shanghai")
        assert fmt.format(record).startswith("2026-12-01 21:09:05.000+08:00 hello")
        logs._zone = None  # before the branch is known: the PC's zone, still with its offset
        line = fmt.format(record)
        assert line[23] in "+-" and line[26] == ":", line
        logs.set_log_zone("Mars/Olympus")  # unknown: ignored, the last good zone stays
        assert fmt.format(record)[23:29] == line[23:29]
    finally:
        logs._zone = saved


def test_the_desk_sets_the_log_to_branch_time(qtbot: QtBot, demo_store: Store) -> None:
    from tests.ui.conftest import shown_desk

    saved = logs._zone
    try:
        logs._zone = None
        desk = shown_desk(qtbot, demo_store)
        assert logs._zone is not None and str(logs._zone) == desk.settings.timezone
    finally:
        logs._zone = saved
