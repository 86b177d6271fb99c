"""The hub: owns the branch store, serves stations over WebSocket, pushes changes to all.

Store work runs on one thread (SQLite's one writer), so requests are applied one at a time
in arrival order; each is one transaction, and a retried request id answers without acting
again. After a change, every connected station gets a ``lobby`` event (numbers and counts
only) and a call is announced with a ``called`` event; stations reload their views on
these, and on reconnect.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.hub import protocol
from lobby_app.hub.commands import (
    ANNOUNCED,
    COMMANDS,
    DESK_ROLES,
    REFERRAL_EVENTS,
    TELLER_ROLES,
    Command,
    Station,
    lobby_for_all,
)
from lobby_app.models.base import utcnow
from lobby_app.store import commands
from lobby_app.store.admin import sign_in_counter
from lobby_app.store.db import Store
from lobby_app.store.staff import check_station_key, ensure_station_key, login

log = logging.getLogger(__name__)
T = TypeVar("T")
HELLO_TIMEOUT_S = 10.0
ROLES_FOR = {
    "desk": DESK_ROLES,
    "teller": TELLER_ROLES,
    "manager": ("customer_manager", "branch_head"),
}


class HubStats:
    """How the hub has been answering since it started: for the branch's IT and benchmarks."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.durations: deque[float] = deque(maxlen=200_000)
        self.by_command: dict[str, deque[float]] = {}
        self.ok = 0
        self.refused: dict[str, int] = {}
        self.internal_errors = 0

    def record(self, seconds: float, error: str | None, command: str = "?") -> None:
        self.durations.append(seconds)
        self.by_command.setdefault(command, deque(maxlen=50_000)).append(seconds)
        if error is None:
            self.ok += 1
        elif error == "internal_error":
            self.internal_errors += 1
        else:
            self.refused[error] = self.refused.get(error, 0) + 1

    def as_json(self) -> dict[str, object]:
        ms = sorted(d * 1000 for d in self.durations)

        def at(p: float, ms: list[float] = ms) -> float:
            return round(ms[min(len(ms) - 1, int(p / 100 * len(ms)))], 2) if ms else 0.0

        per_command = {}
        for name, durations in sorted(self.by_command.items()):
            cms = sorted(d * 1000 for d in durations)
            per_command[name] = {"n": len(cms), "p50_ms": at(50, cms), "p99_ms": at(99, cms)}
        return {
            "uptime_s": round(time.monotonic() - self.started, 1),
            "requests": len(ms),
            "ok": self.ok,
            "refused": dict(self.refused),
            "internal_errors": self.internal_errors,
            "p50_ms": at(50),
            "p95_ms": at(95),
            "p99_ms": at(99),
            "max_ms": round(ms[-1], 2) if ms else 0.0,
            "by_command": per_command,
        }


@dataclass(eq=False)  # identity: each connection is its own peer
class _Peer:
    ws: ServerConnection
    station: Station


# Hand the interpreter lock between threads every 1 ms instead of 5: the hub's socket loop,
# its store thread and its lobby reader then answer a request without waiting on each other.
SWITCH_INTERVAL_S = 0.001
# At most this often a lobby push; a change inside the pause goes out right after it.
LOBBY_MIN_INTERVAL_S = 0.1
# A cached lobby is rebuilt at least this often even without a change: waits grow by the
# minute, and a command run straight on the store (not through the hub) shows within this.
LOBBY_CACHE_S = 2.0


SYNC_CHECK_S = 60.0  # how often the hub looks whether the nightly sync is due


class Hub:
    def __init__(
        self,
        store: Store,
        host: str = "127.0.0.1",
        port: int = 8765,
        *,
        nightly_sync: bool = False,
    ) -> None:
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
        self.store = store
        self.host = host
        self.port = port
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hub-store")
        self._peers: set[_Peer] = set()
        self._seq = 0
        self._server: Server | None = None
        self._listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self._read_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hub-read")
        self._lobby_task: asyncio.Task[None] | None = None
        self._lobby_dirty = False
        # The public lobby as last computed: (when, change generation, lobby). Stations ask
        # for it far more often than it changes; it is rebuilt after a change or when old.
        self._lobby_cache: tuple[float, int, dict[str, object]] | None = None
        self._generation = 0
        self.stats = HubStats()
        # The station key if this hub made it now (a branch without one): shown once by
        # ``lobby-app hub``. The store keeps only its hash; a hello is checked against that.
        self.key: str | None = ensure_station_key(store)
        # The nightly sync: at the branch's sync time, after a day close, and at start when a
        # night was missed (the PC was off). It runs on its own thread, never on the loop.
        self.nightly_sync = nightly_sync
        self._sync_task: asyncio.Task[None] | None = None
        self._sync_running: asyncio.Lock | None = None
        self.last_sync: dict[str, Any] | None = None
        self._after_close: asyncio.Task[dict[str, Any]] | None = None

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    async def start(self) -> None:
        self._server = await serve(
            self._handle,
            self.host,
            self.port,
            max_size=protocol.SOCKET_MAX_BYTES,
            ping_interval=10,
            ping_timeout=10,
        )
        sock = next(iter(self._server.sockets))
        self.port = sock.getsockname()[1]
        log.info("hub listening on ws://%s:%s", self.host, self.port)
        from lobby_app.store.backup import HubPresence

        self._presence = HubPresence.take(self.store.data_dir)  # a restore waits for us
        if self.nightly_sync:
            self._sync_task = asyncio.create_task(self._sync_loop())

    async def _sync_loop(self) -> None:
        while True:
            try:
                await self.sync_if_due()
            except Exception:  # the loop must outlive any one failure
                log.exception("nightly sync check failed")
            await asyncio.sleep(SYNC_CHECK_S)

    async def sync_if_due(self) -> bool:
        from lobby_app.sync.engine import sync_status
        from lobby_app.sync.schedule import is_due

        status = await asyncio.to_thread(sync_status, self.store)
        settings = await asyncio.to_thread(commands.settings, self.store)
        last = datetime.fromisoformat(status.last_success_at) if status.last_success_at else None
        tried = datetime.fromisoformat(status.last_attempt_at) if status.last_attempt_at else None
        # a failed (e.g. abandoned) sync is tried again a while later, not every check
        if not is_due(utcnow(), settings, last, last_attempt=tried, failed=bool(status.last_error)):
            return False
        await self.sync_now("scheduled")
        return True

    async def sync_now(self, why: str) -> dict[str, Any]:
        """Run one sync (unless one is running) and tell the desks how it went. The nightly
        one backs the store up first."""
        from lobby_app.sync.engine import run_nightly, run_sync

        if self._sync_running is None:
            self._sync_running = asyncio.Lock()
        if self._sync_running.locked():
            return self.last_sync or {}
        async with self._sync_running:
            log.info("sync (%s) starting", why)
            run = run_nightly if why == "scheduled" else run_sync
            result = (await asyncio.to_thread(run, self.store)).as_json()
            self.last_sync = result
            log.info("sync (%s): %s %s", why, result["status"], result["message"])
            self._seq += 1
            message = protocol.event("sync", result, self._seq)
            broadcast([p.ws for p in self._peers if p.station.kind == "desk"], message)
            self._tell_local("sync", json.loads(message))
            return result

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    async def serve_forever(self, on_ready: Callable[[], None] | None = None) -> None:
        await self.start()
        assert self._server is not None
        if on_ready is not None:
            on_ready()
        await self._server.serve_forever()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._lobby_task is not None and not self._lobby_task.done():
            self._lobby_task.cancel()
        if self._sync_task is not None and not self._sync_task.done():
            self._sync_task.cancel()
        presence = getattr(self, "_presence", None)
        if presence is not None:
            presence.release()
        self._pool.shutdown(wait=True)
        self._read_pool.shutdown(wait=True)

    # ---------------------------------------------------------------- connections

    async def _handle(self, ws: ServerConnection) -> None:
        try:
            peer = await self._hello(ws)
        except (ConnectionClosed, TimeoutError):
            return
        if peer is None:
            return
        self._peers.add(peer)
        try:
            async for raw in ws:
                await self._request(peer, raw)
        except ConnectionClosed:
            pass
        finally:
            self._peers.discard(peer)

    async def _hello(self, ws: ServerConnection) -> _Peer | None:
        raw = await asyncio.wait_for(ws.recv(), HELLO_TIMEOUT_S)
        rid = None
        try:
            msg = protocol.parse(raw)
            rid = msg.id
            if msg.type != "hello":
                raise LobbyError("hello_first", tr("连接后须先发送 hello 完成认证"))
            station = await self._authenticate(msg.body)
        except LobbyError as exc:
            await ws.send(protocol.refusal(rid, exc))
            await ws.close(
                4401
                if exc.code
                in (
                    "bad_station_key",
                    "login_failed",
                    "login_locked",
                    "wrong_role",
                    "unknown_window",
                    "staff_locked",
                    "staff_inactive",
                )
                else 4400,
                exc.code,
            )
            return None
        peer = _Peer(ws, station)
        lobby = await self.public_lobby()
        await ws.send(
            protocol.reply(
                rid,
                {
                    "station": station.kind,
                    "window": station.window,
                    "staff": station.staff_no,
                    "name": station.name,
                    "role": station.role,
                    "lobby": lobby,
                },
            )
        )
        return peer

    async def _authenticate(self, body: dict[str, Any]) -> Station:
        key = body.get("key")
        loop = asyncio.get_running_loop()
        if not await loop.run_in_executor(
            self._read_pool, lambda: check_station_key(self.store, key)
        ):
            raise LobbyError(
                "bad_station_key",
                tr("站点密钥不正确：本机不属于该网点，请向网点负责人索取正确的站点密钥"),
            )
        kind = body.get("station")
        if kind not in protocol.STATION_KINDS:
            raise LobbyError("malformed", tr(f"station 应为 {'/'.join(protocol.STATION_KINDS)}"))
        window = body.get("window")
        if kind == "teller" and not protocol.is_int(window):  # ``true`` is not window 1
            raise LobbyError("malformed", tr("柜员站点须给出窗口号 window(整数)"))
        if kind == "display":  # the public screen: no staff, no personal data
            return Station("display", None, "", "")
        staff_no, pin = body.get("staff"), body.get("pin")
        if not isinstance(staff_no, str) or not isinstance(pin, str):
            raise LobbyError("login_failed", tr("请用工号和密码登录"))
        who = await self._run(lambda: login(self.store, staff_no, pin))
        if who.role not in ROLES_FOR[kind]:
            raise LobbyError(
                "wrong_role",
                tr(
                    f"工号 {staff_no} 的岗位不能登录{ {'desk': '大堂工作台', 'teller': '柜员窗口', 'manager': '客户经理'}[kind] }"
                ),
            )
        if kind == "teller":  # a teller signs in at the window (taking it over, if need be)
            assert isinstance(window, int)
            await self._run(lambda: sign_in_counter(self.store, window, who.staff_no))
            self._generation += 1  # the lobby's open windows changed
        return Station(kind, window if kind == "teller" else None, who.staff_no, who.role, who.name)

    # ---------------------------------------------------------------- requests

    async def _request(self, peer: _Peer, raw: str | bytes) -> None:
        """One request, answered; its time from arrival to reply goes into the stats."""
        t0 = time.perf_counter()
        seen: dict[str, str] = {}
        error = await self._answer(peer, raw, seen)
        self.stats.record(time.perf_counter() - t0, error, seen.get("command", "?"))

    async def _answer(self, peer: _Peer, raw: str | bytes, seen: dict[str, str]) -> str | None:
        rid = None
        try:
            msg = protocol.parse(raw)
            rid = msg.id
            if msg.type != "request" or rid is None:
                raise LobbyError("malformed", tr("已认证，请发送 request"))
            name = msg.body["command"]
            seen["command"] = name if name in COMMANDS else "?"  # no unbounded keys
            if name == "hub_stats" and peer.station.kind == "desk":
                await peer.ws.send(protocol.reply(rid, self.stats.as_json()))
                return None
            command = self._command(peer.station, name)
            if name == "queue":
                await peer.ws.send(protocol.reply(rid, await self.public_lobby()))
                return None
            args = msg.body.get("args", {})
            station = peer.station
            result = await self._run(
                lambda: command.run(self.store, station, args, f"{station.actor}:{rid}")
            )
        except LobbyError as exc:
            await peer.ws.send(protocol.refusal(rid, exc))
            return exc.code
        except Exception:
            log.exception("hub command failed")
            await peer.ws.send(
                protocol.refusal(
                    rid,
                    LobbyError(
                        "internal_error",
                        tr("网点主机处理出错，已记录日志，请重试；如反复出现请联系科技人员"),
                    ),
                )
            )
            return "internal_error"
        await peer.ws.send(protocol.reply(rid, result))
        await self._after(name, result)
        return None

    def _command(self, station: Station, name: str) -> Command:
        command = COMMANDS.get(name)
        if command is None:
            raise LobbyError("unknown_command", tr(f"没有指令“{name}”"))
        if station.kind not in command.stations:
            raise LobbyError("forbidden", tr(f"本站点({station.kind})无权执行“{name}”"))
        return command

    async def _after(self, name: str, result: object) -> None:
        """The pushes after a command that is done (committed): a failure here is logged,
        never reported as the command's (a saved ticket must not read as refused)."""
        try:
            await self._push_after(name, result)
        except Exception:
            log.exception("pushing after %s failed", name)

    async def _push_after(self, name: str, result: object) -> None:
        if COMMANDS[name].changes_lobby:
            await self._announce(name, result)
        if name == "close_day" and self.nightly_sync:
            self._after_close = asyncio.create_task(self.sync_now("day closed"))
        if name in REFERRAL_EVENTS and isinstance(result, dict):
            self._referral_event(result)

    async def execute(
        self, station: Station, name: str, args: dict[str, Any], request_id: str
    ) -> object:
        """Run a command for a station in this very process (the desk that embeds the hub):
        the same roles, the same exactly-once rule and the same pushes as over the wire."""
        command = self._command(station, name)
        result = await self._run(
            lambda: command.run(self.store, station, args, f"{station.actor}:{request_id}")
        )
        await self._after(name, result)
        return result

    def add_listener(self, listener: Callable[[str, dict[str, Any]], None]) -> None:
        """An in-process station's view of the pushes (it sees what a desk sees)."""
        self._listeners.append(listener)

    def _tell_local(self, name: str, data: dict[str, Any]) -> None:
        for listener in self._listeners:
            try:
                listener(name, data)
            except Exception:
                log.exception("local listener failed on %s", name)

    def _referral_event(self, referral: dict[str, Any]) -> None:
        """Personal data: the details only to the manager the referral names and the branch
        head; the desks follow its status (``referrals.status_only``)."""
        from lobby_app.store.referrals import status_only

        self._seq += 1
        message = protocol.event("referral", referral, self._seq)
        brief = protocol.event("referral", status_only(referral), self._seq)
        full_to, brief_to = [], []
        for p in self._peers:
            st = p.station
            head = st.role == "branch_head" and st.kind in ("desk", "manager")
            if head or (st.kind == "manager" and st.staff_no == referral.get("to_staff")):
                full_to.append(p.ws)
            elif st.kind == "desk":
                brief_to.append(p.ws)
        broadcast(full_to, message)
        broadcast(brief_to, brief)
        self._tell_local("referral", json.loads(brief))  # the desk that embeds the hub

    async def public_lobby(self) -> dict[str, object]:
        """The lobby every station may see, from the cache when nothing changed since."""
        cached = self._lobby_cache
        if (
            cached is not None
            and cached[1] == self._generation
            and time.monotonic() - cached[0] < LOBBY_CACHE_S
        ):
            return cached[2]
        generation = self._generation
        lobby = await asyncio.get_running_loop().run_in_executor(
            self._read_pool, lambda: lobby_for_all(self.store)
        )
        self._lobby_cache = (time.monotonic(), generation, lobby)
        return lobby

    async def _announce(self, name: str, result: object) -> None:
        """A call goes out at once; the lobby follows from a reader thread, so the next
        command never waits for it, and a burst of changes makes one lobby push."""
        if name in ANNOUNCED and isinstance(result, dict):
            self._seq += 1
            called = protocol.event(
                ANNOUNCED[name],
                {
                    "number": result["number"],
                    "window": result["window"],
                    "zone": result["zone"],
                    # the window as the customer sees it ("贵宾理财室"), for the display
                    "place": result.get("place") or "",
                },
                self._seq,
            )
            broadcast([p.ws for p in self._peers], called)
            self._tell_local(ANNOUNCED[name], json.loads(called))
        self._generation += 1
        if self._lobby_task is not None and not self._lobby_task.done():
            self._lobby_dirty = True
            return
        self._lobby_task = asyncio.create_task(self._push_lobby())

    async def _push_lobby(self) -> None:
        while True:
            self._lobby_dirty = False
            try:
                lobby = await self.public_lobby()
            except Exception:
                log.exception("lobby snapshot failed")
                return
            self._seq += 1
            message = protocol.event("lobby", lobby, self._seq)
            broadcast([p.ws for p in self._peers], message)  # never waits on a slow station
            if self._listeners:
                self._tell_local("lobby", json.loads(message))
            await asyncio.sleep(LOBBY_MIN_INTERVAL_S)  # a burst of changes: one more push
            if not self._lobby_dirty:
                return
