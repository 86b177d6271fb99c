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
import threading
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
from lobby_app.hub import gctune, protocol
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


# A request slower than this is logged with where its time went (and kept among the slowest
# in the stats); one slower than SLOW_REQUEST_S is counted (the target: none).
SLOW_LOG_S = 0.1
SLOW_REQUEST_S = 0.2
SLOWEST_KEPT = 10


@dataclass
class _Timing:
    """Where one request's time went: ``time.perf_counter()`` marks, 0.0 where not reached."""

    t0: float  # arrived
    gc0: float  # the collector's total pause so far, at arrival
    queued: float = 0.0  # handed to the store thread
    started: float = 0.0  # the store thread began it
    finished: float = 0.0  # the store thread was done
    resumed: float = 0.0  # back on the loop
    replied: float = 0.0  # the reply was sent
    store_cpu: float = 0.0  # CPU seconds the store thread spent on it (the rest: waiting)
    lobby: float = 0.0  # seconds spent getting the public lobby (``queue``, cache or rebuild)
    thread: str = ""  # the thread that ran the store work

    def breakdown(self, command: str, error: str | None, end: float) -> dict[str, object]:
        def ms(seconds: float) -> float:
            return round(max(0.0, seconds) * 1000, 1)

        stored = self.queued > 0.0
        return {
            "command": command,
            "error": error,
            "total_ms": ms(end - self.t0),
            "before_store_ms": ms(self.queued - self.t0) if stored else 0.0,
            "wait_store_ms": ms(self.started - self.queued) if stored else 0.0,
            "store_ms": ms(self.finished - self.started) if stored else 0.0,
            "store_cpu_ms": ms(self.store_cpu),
            "back_on_loop_ms": ms(self.resumed - self.finished) if stored else 0.0,
            "lobby_ms": ms(self.lobby),
            "reply_ms": ms(self.replied - (self.resumed if stored else self.t0))
            if self.replied
            else 0.0,
            "push_ms": ms(end - self.replied) if self.replied else 0.0,
            "gc_ms": ms(gctune.WATCH.total_s - self.gc0),
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
        self.slow = 0  # requests over SLOW_REQUEST_S
        self.slowest: list[dict[str, object]] = []  # the slowest few, with where time went

    def note_slow(self, breakdown: dict[str, object]) -> None:
        """Keep the ``SLOWEST_KEPT`` slowest requests' breakdowns (for the benchmark)."""
        self.slowest.append(breakdown)
        self.slowest.sort(key=lambda b: -float(str(b["total_ms"])))
        del self.slowest[SLOWEST_KEPT:]

    def record(self, seconds: float, error: str | None, command: str = "?") -> None:
        self.durations.append(seconds)
        if seconds > SLOW_REQUEST_S:
            self.slow += 1
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
            f"over_{SLOW_REQUEST_S * 1000:.0f}ms": self.slow,
            "by_command": per_command,
            "slowest": list(self.slowest),
            "gc": gctune.WATCH.as_json(),
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
        # A sign-in's PIN check (scrypt, ~50 ms of purposely slow hashing) runs here, not on
        # the store thread: twenty stations signing in at opening time held every command
        # behind them (720 ms measured for the first ticket of the day).
        self._auth_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hub-auth")
        # The lobby being rebuilt now, for its generation: callers meanwhile share it.
        self._lobby_building: tuple[int, asyncio.Future[dict[str, object]]] | None = None
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

    async def _run(self, fn: Callable[[], T], timing: _Timing | None = None) -> T:
        """Run store work on the hub's store thread (never on the loop), timed if asked."""
        loop = asyncio.get_running_loop()
        if timing is None:
            return await loop.run_in_executor(self._pool, fn)

        def timed() -> T:
            timing.started = time.perf_counter()
            timing.thread = threading.current_thread().name
            cpu = time.thread_time()
            try:
                return fn()
            finally:
                timing.store_cpu = time.thread_time() - cpu
                timing.finished = time.perf_counter()

        timing.queued = time.perf_counter()
        try:
            return await loop.run_in_executor(self._pool, timed)
        finally:
            timing.resumed = time.perf_counter()

    async def start(self) -> None:
        """Warm up, then listen: the first station's request finds nothing left to load."""
        await self.warm_up()
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
        gctune.WATCH.install()  # the collector's pauses, for the stats
        if self.nightly_sync:
            self._sync_task = asyncio.create_task(self._sync_loop())

    async def warm_up(self) -> None:
        """Pay the first-use costs before the first station: the modules loaded on first
        use, the learned service times (``store.history``), every statement of the common
        commands compiled (a dry run, rolled back: ``warmup.dry_run``) and the lobby cached.
        Measured cold: the first ticket of the day took 88 ms quiet, 790 ms on a loaded PC,
        instead of 26 ms; the sync module's import on the loop, 0.6 s."""
        from lobby_app.hub import warmup

        warmup.load_modules()
        started = time.perf_counter()
        done = await self._run(lambda: warmup.dry_run(self.store))
        await self.public_lobby()
        log.info("hub warmed up in %.0f ms (%s)", (time.perf_counter() - started) * 1000, done)

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

    async def serve_forever(
        self, on_ready: Callable[[], None] | None = None, *, tune_gc: bool = False
    ) -> None:
        """Start (warmed up) and serve. ``tune_gc``: this process only serves (``lobby-app
        hub``), so what start-up made is frozen out of the collector's way before the first
        station (``gctune.tune_for_serving``)."""
        await self.start()
        assert self._server is not None
        if tune_gc:
            gctune.tune_for_serving()
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
        self._auth_pool.shutdown(wait=True)

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
        who = await loop.run_in_executor(self._auth_pool, lambda: login(self.store, staff_no, pin))
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
        """One request, answered; its time from arrival to reply goes into the stats, and a
        slow one is logged with its command and where its time went."""
        timing = _Timing(time.perf_counter(), gctune.WATCH.total_s)
        seen: dict[str, str] = {}
        error = await self._answer(peer, raw, seen, timing)
        end = time.perf_counter()
        command = seen.get("command", "?")
        self.stats.record(end - timing.t0, error, command)
        if end - timing.t0 > SLOW_LOG_S:
            breakdown = timing.breakdown(command, error, end)
            breakdown["sync_running"] = (
                self._sync_running is not None and self._sync_running.locked()
            )
            self.stats.note_slow(breakdown)
            log.warning(
                "slow request %s: %s",
                command,
                ", ".join(f"{k}={v}" for k, v in breakdown.items() if k != "command"),
            )

    async def _send(self, peer: _Peer, message: str, timing: _Timing) -> None:
        await peer.ws.send(message)
        timing.replied = time.perf_counter()

    async def _answer(
        self, peer: _Peer, raw: str | bytes, seen: dict[str, str], timing: _Timing
    ) -> str | None:
        rid = None
        try:
            msg = protocol.parse(raw)
            rid = msg.id
            if msg.type != "request" or rid is None:
                raise LobbyError("malformed", tr("已认证，请发送 request"))
            name = msg.body["command"]
            seen["command"] = name if name in COMMANDS else "?"  # no unbounded keys
            if name == "hub_stats" and peer.station.kind == "desk":
                await self._send(peer, protocol.reply(rid, self.stats.as_json()), timing)
                return None
            command = self._command(peer.station, name)
            if name == "queue":
                asked = time.perf_counter()
                lobby = await self.public_lobby()
                timing.lobby = time.perf_counter() - asked
                await self._send(peer, protocol.reply(rid, lobby), timing)
                return None
            args = msg.body.get("args", {})
            station = peer.station
            result = await self._run(
                lambda: command.run(self.store, station, args, f"{station.actor}:{rid}"), timing
            )
        except LobbyError as exc:
            await self._send(peer, protocol.refusal(rid, exc), timing)
            return exc.code
        except Exception:
            log.exception("hub command failed")
            await self._send(
                peer,
                protocol.refusal(
                    rid,
                    LobbyError(
                        "internal_error",
                        tr("网点主机处理出错，已记录日志，请重试；如反复出现请联系科技人员"),
                    ),
                ),
                timing,
            )
            return "internal_error"
        await self._send(peer, protocol.reply(rid, result), timing)
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
        """The lobby every station may see, from the cache when nothing changed since.
        One rebuild at a time: whoever asks while the lobby of this very generation is being
        built waits for that one (a station's ``queue`` right after a change used to queue a
        second rebuild behind the push's own)."""
        cached = self._lobby_cache
        generation = self._generation
        if (
            cached is not None
            and cached[1] == generation
            and time.monotonic() - cached[0] < LOBBY_CACHE_S
        ):
            return cached[2]
        building = self._lobby_building
        if building is not None and building[0] == generation and not building[1].done():
            return await asyncio.shield(building[1])
        future = asyncio.get_running_loop().run_in_executor(
            self._read_pool, lambda: lobby_for_all(self.store)
        )
        self._lobby_building = (generation, future)
        try:
            lobby = await asyncio.shield(future)
        finally:
            if self._lobby_building is not None and self._lobby_building[1] is future:
                self._lobby_building = None
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
