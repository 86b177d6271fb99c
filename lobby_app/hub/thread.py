"""A hub on its own thread and event loop: the desk embeds one this way, and tests start one
beside a Qt window. The store is shared with the embedding process (SQLite serialises the
writers); ``changed()`` tells the stations about a change the embedding process made itself.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from typing import Any

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.hub.server import Hub
from lobby_app.store.db import Store


class HubThread:
    def __init__(
        self, store: Store, host: str = "127.0.0.1", port: int = 8765, *, nightly_sync: bool = False
    ) -> None:
        self.hub = Hub(store, host, port, nightly_sync=nightly_sync)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="hub", daemon=True)

    @property
    def url(self) -> str:
        return self.hub.url

    @property
    def key(self) -> str | None:
        """The station key if this hub made it (shown once); None once the branch had one."""
        return self.hub.key

    def start(self) -> None:
        """Start serving; raises ``hub_port_busy`` if the port is taken."""
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self.hub.start(), self._loop).result(15)
        except OSError as exc:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            self._loop.close()
            raise LobbyError(
                "hub_port_busy",
                tr(
                    f"网点主机无法在端口 {self.hub.port} 监听（{exc.strerror}）。"
                    "可能已有一个工作台或主机在运行；请关闭它，或用 --port 换一个端口"
                ),
            ) from exc

    def changed(self, command: str, result: object) -> Future[None]:
        """Push what a local command changed, as if a station had sent it (thread-safe)."""
        return asyncio.run_coroutine_threadsafe(self.hub._after(command, result), self._loop)

    def execute(self, station: Any, command: str, args: dict[str, Any], request_id: str) -> Any:
        """Run a hub command from another thread and wait for its result."""
        return asyncio.run_coroutine_threadsafe(
            self.hub.execute(station, command, args, request_id), self._loop
        ).result(30)

    def stop(self) -> None:
        if not self._thread.is_alive():
            if not self._loop.is_closed():
                self._loop.close()
            return
        try:
            asyncio.run_coroutine_threadsafe(self.hub.stop(), self._loop).result(10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            if not self._thread.is_alive():
                self._loop.close()
