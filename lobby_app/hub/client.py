"""A station's connection to the hub: requests with replies, pushed events, reconnection.

``HubClient.run()`` keeps the connection up: it connects, says hello, and on any loss
reports it at once (``on_state``), retries with a growing pause, and after reconnecting
calls ``on_state`` again so the station reloads its view. A request whose reply was lost is
sent again with the same id after reconnecting; the hub answers it without acting twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.hub.protocol import MAX_ID_CHARS, PROTOCOL_VERSION

log = logging.getLogger(__name__)
HELLO_ANSWER_S = 15.0  # the hub answers a hello at once; PIN hashing takes a fraction of this
EventHandler = Callable[[str, dict[str, Any]], Awaitable[None] | None]
StateHandler = Callable[[bool, str], Awaitable[None] | None]
AUTH_FAILURES = (
    "bad_station_key",
    "login_failed",
    "login_locked",
    "unknown_window",
    "staff_locked",
    "staff_inactive",
    "wrong_role",
    "unsupported_version",
    "malformed",
)


class HubClient:
    def __init__(
        self,
        url: str,
        *,
        station: str,
        key: str,
        staff: str = "",
        pin: str = "",
        window: int | None = None,
        on_event: EventHandler | None = None,
        on_state: StateHandler | None = None,
        request_timeout_s: float = 10.0,
    ) -> None:
        self.url = url
        self.hello: dict[str, Any] = {
            "station": station,
            "key": key,
            "staff": staff,
            "pin": pin,
            "window": window,
        }
        self.on_event = on_event
        self.on_state = on_state
        self.request_timeout_s = request_timeout_s
        self.welcome: dict[str, Any] = {}
        self._ws: ClientConnection | None = None
        self._connected = asyncio.Event()
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._prefix = uuid.uuid4().hex[:12]
        self._stopped = False
        self.fatal: LobbyError | None = None

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def _call(self, handler: Callable[..., Any] | None, *args: Any) -> None:
        if handler is not None:
            result = handler(*args)
            if asyncio.iscoroutine(result):
                await result

    async def connect_once(self) -> None:
        """Connect and say hello; raises LobbyError if the hub refuses this station."""
        try:
            ws = await connect(self.url, max_size=1024 * 1024, open_timeout=5)
        except (OSError, InvalidURI, TimeoutError) as exc:
            raise LobbyError(
                "hub_unreachable",
                tr(f"连不上网点主机 {self.url}（{exc}）。请检查主机是否开机、网络是否连通"),
            ) from exc
        except InvalidHandshake as exc:  # something else answers there (a web server, a proxy)
            raise LobbyError(
                "not_a_hub",
                tr(
                    f"{self.url} 上的程序不是网点主机(WebSocket 握手失败：{exc})。"
                    "请核对网点主机的地址和端口(默认 8765)"
                ),
            ) from exc
        try:
            await ws.send(
                json.dumps({"v": PROTOCOL_VERSION, "type": "hello", "id": "hello", **self.hello})
            )
            answer = json.loads(await asyncio.wait_for(ws.recv(), HELLO_ANSWER_S))
        except (ConnectionClosed, TimeoutError) as exc:
            await ws.close()
            raise LobbyError("hub_unreachable", tr("网点主机关闭了连接或没有应答")) from exc
        except ValueError as exc:  # not JSON: not our hub
            await ws.close()
            raise LobbyError(
                "not_a_hub", tr(f"{self.url} 的应答不是网点主机的协议，请核对地址和端口")
            ) from exc
        if not isinstance(answer, dict) or not isinstance(answer.get("result", {}), dict):
            await ws.close()
            raise LobbyError(
                "not_a_hub", tr(f"{self.url} 的应答不是网点主机的协议，请核对地址和端口")
            )
        if not answer.get("ok"):
            await ws.close()
            raise LobbyError(str(answer.get("error", "refused")), str(answer.get("message", "")))
        self.welcome = answer.get("result") or {}
        self._ws = ws
        self._connected.set()

    async def run(self) -> None:
        """Stay connected until ``close()``; reports every loss and every reconnection."""
        pause = 0.2
        while not self._stopped:
            try:
                await self.connect_once()
            except LobbyError as exc:
                if exc.code in AUTH_FAILURES:
                    self.fatal = exc
                    await self._call(self.on_state, False, exc.message)
                    return
                await self._call(self.on_state, False, exc.message)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)
                continue
            pause = 0.2
            await self._call(self.on_state, True, tr("已连接网点主机"))
            await self._receive()
            if not self._stopped:
                await self._call(self.on_state, False, tr("与网点主机的连接中断，正在重连…"))

    async def _receive(self) -> None:
        assert self._ws is not None
        try:
            async for raw in self._ws:
                msg = json.loads(raw)
                if msg.get("type") == "reply":
                    fut = self._pending.get(msg.get("id", ""))
                    if fut is not None and not fut.done():
                        fut.set_result(msg)
                elif msg.get("type") == "event":
                    await self._call(self.on_event, msg["event"], msg)
        except ConnectionClosed:
            pass
        finally:
            self._connected.clear()
            self._ws = None

    async def request(self, command: str, /, *, request_id: str | None = None, **args: Any) -> Any:
        """Send a command and wait for its reply; survives a reconnection in between.
        ``request_id``: the caller's own id (a script's ``--request-id``), so that sending the
        same request again, from another process too, acts once; else a fresh one."""
        if request_id is not None and not (
            isinstance(request_id, str)
            and request_id.strip()
            and len(request_id) <= MAX_ID_CHARS
            and request_id.isprintable()
        ):
            raise LobbyError(
                "bad_request_id",
                tr(f"请求编号应为 1 到 {MAX_ID_CHARS} 个可见字符"),
                field="request_id",
            )
        rid = request_id or f"{self._prefix}-{next(self._ids)}"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.request_timeout_s
        payload = json.dumps(
            {"v": PROTOCOL_VERSION, "type": "request", "id": rid, "command": command, "args": args},
            ensure_ascii=False,
        )
        try:
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise LobbyError(
                        "hub_timeout", tr("网点主机没有及时应答，请稍后查看结果再重试")
                    )
                try:
                    await asyncio.wait_for(self._connected.wait(), remaining)
                except TimeoutError:
                    continue
                fut: asyncio.Future[dict[str, Any]] = loop.create_future()
                self._pending[rid] = fut
                ws = self._ws
                if ws is None:
                    continue
                try:
                    await ws.send(payload)
                    answer = await asyncio.wait_for(asyncio.shield(fut), max(remaining, 0.01))
                except (ConnectionClosed, TimeoutError):
                    await asyncio.sleep(0)
                    if fut.done():
                        answer = fut.result()
                    else:
                        continue  # the same id goes again after reconnecting
                break
        finally:
            self._pending.pop(rid, None)
        if not answer.get("ok"):
            raise LobbyError(
                answer.get("error", "refused"), answer.get("message", ""), field=answer.get("field")
            )
        return answer.get("result")

    async def close(self) -> None:
        self._stopped = True
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
