"""Benchmarks of the branch hub.

1. Call to pop-up: a real teller window (offscreen Qt) presses 呼叫下一位; the clock stops when
   the pop-up has been painted. Across a real hub on 127.0.0.1 (target p95 ≤ 50 ms).
2. Load: 20 stations (a desk issuing tickets, 19 tellers calling and finishing), each
   sending one command a second for the given minutes; round-trip latency per command
   through the hub and the error count (target p99 ≤ 20 ms, zero errors).

Run: .venv/bin/python -m bench.bench_hub [--minutes 10] [--calls 300]
Also measures raw SQLite commits on the same disk in the same run, for scale.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "default.warning=false")  # offscreen plugin chatter

from sqlalchemy import select

from bench.bench_desk import raw_commit_times
from bench.common import machine, pct, summary_ms
from lobby_app.core.errors import LobbyError
from lobby_app.hub.client import HubClient
from lobby_app.models import Counter, Customer
from lobby_app.store import Store, commands
from lobby_app.store.admin import add_staff
from lobby_app.store.commands import IssueRequest
from lobby_app.store.demo import DEMO_PIN, seed_demo
from lobby_app.store.staff import station_key


def demo_branch(folder: Path, tellers: int = 19) -> Store:
    store = Store.open(folder)
    seed_demo(store, customers=2000)
    with store.write() as s:
        # about half high (cash) counters, half low ones: tellers sign in where their post serves
        s.add_all(
            Counter(window_no=100 + i, name=f"{100 + i}号", zones="closed_counter")
            if i % 2 == 0
            else Counter(
                window_no=100 + i, name=f"{100 + i}号", zones="open_counter", kind="open_service"
            )
            for i in range(tellers)
        )
        s.add(Counter(window_no=99, name="99号", zones="open_counter,vip", kind="open_service"))
    for i in range(tellers):  # one teller per window: a sign-in elsewhere ends the first
        add_staff(store, f"X{i:02d}", name=f"柜员{i:02d}", role="teller", pin=DEMO_PIN, actor="B01")
    return store


class HubProcess:
    """``lobby-app hub`` in its own process, as a branch runs it."""

    def __init__(self, folder: Path) -> None:
        import socket
        import subprocess

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lobby_app",
                "--data-dir",
                str(folder),
                "hub",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stderr is not None
        seen = []
        while not any("网点主机运行中" in line for line in seen):
            line = self.proc.stderr.readline()
            if not line:
                raise RuntimeError(f"hub did not start: {seen}")
            seen.append(line)
        self.url = f"ws://127.0.0.1:{self.port}"
        # Keep reading the hub's log: a pipe nobody reads fills up, and then the hub's next
        # log line blocks its event loop (a stall of the benchmark's making, not the hub's).
        self.log: list[str] = seen
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)
        self._reader.join(5)
        if self.proc.stderr:
            self.proc.stderr.close()


def call_to_popup(folder: Path, calls: int) -> list[float]:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from lobby_app.ui.app import qt_app
    from lobby_app.ui.hublink import HubLink
    from lobby_app.ui.teller import TellerWindow

    store = demo_branch(folder)
    with store.read() as s:
        customers = list(s.scalars(select(Customer.id).limit(200)))
    for i in range(calls):
        commands.issue_ticket(
            store,
            IssueRequest(
                "wealth",
                customer_id=customers[i % len(customers)],
                needs=("wealth",),
                needs_note="定期下周到期，想了解理财",
            ),
        )
    qt_app()
    key = station_key(store)
    store.close()
    hub = HubProcess(folder)
    link = HubLink(hub.url, station="teller", key=key, staff="M01", pin=DEMO_PIN, window=99)
    w = TellerWindow(link, 99)
    w.resize(480, 640)
    w.show()
    link.start()

    def wait(cond: Any, timeout: float = 10) -> None:
        """Wait in Qt's own event loop (as the app does), not in a Python spin."""
        end = time.perf_counter() + timeout
        loop = QEventLoop()
        timer = QTimer(interval=1)
        timer.timeout.connect(loop.quit)  # back to the checks below every millisecond
        timer.start()
        while not cond():
            if time.perf_counter() > end:
                raise TimeoutError(f"the teller window did not respond: {w.message.text()}")
            loop.exec()
        timer.stop()

    wait(lambda: w.buttons["call"].isEnabled())
    samples: list[float] = []
    popped: list[float] = []
    w.popped.connect(lambda _card: popped.append(time.perf_counter()))
    for _ in range(calls):
        before = len(popped)
        wait(lambda: w.buttons["call"].isEnabled())
        t0 = time.perf_counter()
        w.buttons["call"].click()
        wait(lambda b=before: len(popped) > b)  # type: ignore[misc]
        samples.append(popped[-1] - t0)
    w.close()  # closes its link
    QApplication.processEvents()
    hub.stop()
    return samples


async def load(
    folder: Path, minutes: float
) -> tuple[list[float], int, int, dict[str, int], dict[str, Any]]:
    """One desk issues a ticket a second; 19 tellers each send one command a second, as a
    teller works: call next when someone waits in their zones, start, finish, and in
    between look at the queue. Every ticket is issued, called, started and finished."""
    store = demo_branch(folder)
    key = station_key(store)
    store.close()
    hub = HubProcess(folder)
    latencies: list[float] = []
    errors: list[str] = []
    counts: dict[str, int] = {}
    commands_sent = 0
    waiting = {"n": 0}  # from the hub's lobby pushes, as a teller's screen shows it
    end = time.perf_counter() + minutes * 60

    def on_event(name: str, msg: dict[str, Any]) -> None:
        if name == "lobby":
            zones = msg["data"]["zones"]
            waiting["n"] = sum(
                z["waiting_count"] for z in zones if z["zone"] in ("closed_counter", "open_counter")
            )

    async def station(client: HubClient, act: Any) -> None:
        nonlocal commands_sent
        await client.connect_once()
        reader = asyncio.create_task(client._receive())
        await asyncio.sleep(random.random())  # stations do not press in step
        while time.perf_counter() < end:
            tick = time.perf_counter()
            try:
                name = await act(client)
            except LobbyError as exc:
                name = exc.code
                if exc.code != "queue_empty":  # two tellers saw the same last customer
                    errors.append(exc.code)
            counts[name] = counts.get(name, 0) + 1
            commands_sent += 1
            latencies.append(time.perf_counter() - tick)
            await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - tick)))
        await client.close()
        reader.cancel()

    async def desk_act(c: HubClient) -> str:
        await c.request(
            "issue_ticket",
            business=random.choice(["cash", "card", "wealth", "remit_cash"]),
            needs=["wealth"] if random.random() < 0.3 else [],
        )
        return "issue_ticket"

    def teller_act() -> Any:
        state = {"step": "idle"}

        async def act(c: HubClient) -> str:
            step = state["step"]
            if step == "called":
                await c.request("start")
                state["step"] = "serving"
                return "start"
            if step == "serving":
                await c.request("finish")
                state["step"] = "idle"
                return "finish"
            if waiting["n"] > 0:
                waiting["n"] -= 1
                state["step"] = "called"
                try:
                    await c.request("call_next")
                except LobbyError:
                    state["step"] = "idle"
                    raise
                return "call_next"
            await c.request("queue")
            return "queue"

        return act

    clients = [
        station(
            HubClient(
                hub.url, station="desk", key=key, staff="L01", pin=DEMO_PIN, on_event=on_event
            ),
            desk_act,
        )
    ]
    for i in range(19):
        c = HubClient(
            hub.url, station="teller", key=key, staff=f"X{i:02d}", pin=DEMO_PIN, window=100 + i
        )
        clients.append(station(c, teller_act()))
    await asyncio.gather(*clients)
    admin = HubClient(hub.url, station="desk", key=key, staff="L01", pin=DEMO_PIN)
    await admin.connect_once()
    reader = asyncio.create_task(admin._receive())
    stats = await admin.request("hub_stats")
    await admin.close()
    reader.cancel()
    hub.stop()
    return latencies, len(errors), commands_sent, counts, stats


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--calls", type=int, default=300)
    args = ap.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        raw = raw_commit_times(Path(tmp) / "raw.sqlite3", 500)
        print("raw SQLite commit:", summary_ms(raw))
        pops = call_to_popup(Path(tmp) / "popup", args.calls)
        print("call -> pop-up painted:", summary_ms(pops))
        lat, errors, sent, counts, stats = asyncio.run(load(Path(tmp) / "load", args.minutes))
        ms = [x * 1000 for x in lat]
        print(
            f"load, 20 stations x 1 command/s x {args.minutes:g} min: {sent} commands, "
            f"{errors} errors; round trip at the stations {summary_ms(lat)} "
            f"p99={pct(ms, 99):.2f} ms"
        )
        print(f"  commands sent: {counts}")
        print("  in the hub (arrival to reply):")
        for k, v in stats.items():
            if k in ("slowest", "gc"):
                continue
            print(f"    {k}: {v}")
        gc_stats = stats["gc"]
        print(
            f"  gc in the hub: collections {gc_stats['collections']}, total pause "
            f"{gc_stats['total_pause_ms']} ms, thresholds {gc_stats['thresholds']}, "
            f"frozen objects {gc_stats['frozen']}"
        )
        for gen, p in gc_stats["pause_ms"].items():
            print(f"    {gen} pause: p50={p['p50']} ms p99={p['p99']} ms max={p['max']} ms")
        print(f"  requests over 200 ms in the hub: {stats['over_200ms']}")
        print("  slowest requests in the hub (where the time went):")
        for b in stats["slowest"]:
            print(f"    {b}")
    # Leave without Python's finalizer tearing down Qt objects in arbitrary order (PySide6
    # can crash there); everything worth keeping has been printed.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
