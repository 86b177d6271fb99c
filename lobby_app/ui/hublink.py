"""A station window's link to the hub: the WebSocket lives on its own network thread.

The connection, its reconnects and its waits never touch the Qt thread, so a slow or lost
hub cannot freeze a window. Pushed events, state changes and replies come back to the Qt
thread as queued signals, in the order they arrived.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from concurrent.futures import TimeoutError as FuturesTimeout
from typing import Any

from PySide6.QtCore import QObject, Signal

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.hub.client import HubClient
from lobby_app.logs import set_log_zone

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[LobbyError], None]


class HubLink(QObject):
    """``request(command, args, on_done, on_error)``; ``pushed`` and ``state`` signals."""

    pushed = Signal(str, dict)  # name, the whole message (``data`` holds the payload)
    state = Signal(bool, str)  # connected?, what to tell the person
    _reply = Signal(int, object, object)

    def __init__(
        self,
        url: str,
        *,
        station: str,
        key: str,
        staff: str = "",
        pin: str = "",
        window: int | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.url = url
        self._client = HubClient(
            url,
            station=station,
            key=key,
            staff=staff,
            pin=pin,
            window=window,
            on_event=lambda name, msg: self.pushed.emit(name, msg),
            on_state=self._state_changed,
        )
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="hub-link", daemon=True)
        self._ids = itertools.count(1)
        self._callbacks: dict[int, tuple[Done | None, Failed | None]] = {}
        self._reply.connect(self._deliver)
        self._runner: Future[None] | None = None
        self._calls: set[Future[Any]] = set()  # blocking calls from worker threads
        self._closed = False

    def _state_changed(self, up: bool, why: str) -> None:
        """From the link's thread. Connected: the log takes the branch's time zone from the
        hub. Lost: the details (an OS error, in English) go to the log; the person reads
        plain Chinese (issue 18 item 4). A refusal for good (wrong PIN) is said as the hub
        said it."""
        if up:
            zone = str((self._client.welcome.get("lobby") or {}).get("timezone") or "")
            if zone:
                set_log_zone(zone)
        elif self._client.fatal is None:
            log.warning("hub %s: %s", self.url, why)
            why = tr(
                f"连不上网点主机({self.where})，正在自动重连…"
                "请检查网点主机是否开机、网线或无线网络是否连通"
            )
        self.state.emit(up, why)

    @property
    def where(self) -> str:
        """The hub's address as staff know it: host and port, no scheme."""
        return self.url.split("://", 1)[-1].rstrip("/")

    @property
    def welcome(self) -> dict[str, Any]:
        """What the hub said at the last (re)connection: station, staff, role, lobby."""
        return self._client.welcome

    @property
    def connected(self) -> bool:
        return self._client.connected

    @property
    def fatal(self) -> LobbyError | None:
        """Set when the hub refused this station for good (wrong key, PIN, role)."""
        return self._client.fatal

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def start(self) -> None:
        self._thread.start()
        self._runner = asyncio.run_coroutine_threadsafe(self._client.run(), self._loop)

    def request(
        self,
        command: str,
        args: dict[str, Any] | None = None,
        on_done: Done | None = None,
        on_error: Failed | None = None,
    ) -> None:
        job = next(self._ids)
        self._callbacks[job] = (on_done, on_error)
        fut = asyncio.run_coroutine_threadsafe(
            self._client.request(command, **(args or {})), self._loop
        )

        def done(f: Future[Any]) -> None:
            exc = f.exception()
            if exc is not None and not isinstance(exc, LobbyError):
                log.error("hub request %s failed: %r", command, exc)
                exc = LobbyError("internal_error", tr(f"请求出错：{exc}"))
            self._reply.emit(job, None if exc else f.result(), exc)

        fut.add_done_callback(done)

    def call(self, command: str, args: dict[str, Any] | None = None) -> Any:
        """Send a command and wait for the answer: for worker threads, never the Qt thread.
        Raises the hub's refusal as a LobbyError; waits across a reconnection, then times out
        with a clear message."""
        if threading.current_thread() is threading.main_thread():
            raise RuntimeError("HubLink.call blocks; use request() on the Qt thread")
        if self._closed:
            raise LobbyError("hub_closed", tr("本窗口已关闭与网点主机的连接"))
        fut = asyncio.run_coroutine_threadsafe(
            self._client.request(command, **(args or {})), self._loop
        )
        self._calls.add(fut)
        try:
            return fut.result(self._client.request_timeout_s + 5)
        except (CancelledError, FuturesTimeout):
            raise LobbyError("hub_timeout", tr("网点主机没有及时应答，请稍后重试")) from None
        finally:
            self._calls.discard(fut)

    def _deliver(self, job: int, result: object, error: object) -> None:
        on_done, on_error = self._callbacks.pop(job, (None, None))
        if isinstance(error, LobbyError):
            if on_error is not None:
                on_error(error)
            else:
                log.warning("hub refused: %s %s", error.code, error.message)
        elif on_done is not None:
            on_done(result)

    def close(self) -> None:
        self._closed = True
        for fut in list(self._calls):
            fut.cancel()  # a worker waiting on the hub gets its answer now: closed
        if not self._thread.is_alive():
            if not self._loop.is_closed():
                self._loop.close()
            return
        try:
            asyncio.run_coroutine_threadsafe(self._client.close(), self._loop).result(5)
        except Exception:  # closing anyway
            log.debug("hub link close", exc_info=True)
        if self._runner is not None:
            self._runner.cancel()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()
