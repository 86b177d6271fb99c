"""The hub without stalls (issue 17, item 6): warmed up before the first station, sign-ins
off the store thread, one lobby rebuild at a time, slow requests logged with their command,
and the standalone hub's garbage collection frozen after start-up. No timings asserted:
each test checks the mechanism (``bench/bench_hub.py`` measures the effect)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from lobby_app.hub import commands as hub_commands
from lobby_app.hub import server
from lobby_app.hub.client import HubClient
from lobby_app.hub.commands import Command
from lobby_app.hub.gctune import GEN0_THRESHOLD
from lobby_app.hub.server import Hub
from lobby_app.store import Store, history
from lobby_app.store.demo import DEMO_PIN
from tests.cli.test_cli import hub_process
from tests.hub.test_hub import store, teller, with_hub  # noqa: F401 - the fixture


def _rows(store: Store) -> tuple[Any, ...]:  # noqa: F811
    with sqlite3.connect(store.db_path) as con:
        counts = tuple(
            con.execute(f"select count(*) from {t}").fetchone()[0]
            for t in ("ticket", "ticket_event", "command_log", "audit_event", "number_counter")
        )
        windows = tuple(con.execute("select window_no, staff_no, is_open from counter"))
    return counts, windows


def test_start_warms_up_before_the_first_station_and_leaves_no_trace(store: Store) -> None:  # noqa: F811
    """The learned service times and the public lobby are ready when the hub starts
    listening; the dry run of the commands left no ticket, number, audit line or sign-in."""
    from lobby_app.store.staff import ensure_station_key

    ensure_station_key(store)  # as the hub does first (an audit line of its own)
    history.clear_cache()
    before = _rows(store)
    seen: dict[str, Any] = {}

    async def body(hub: Hub) -> None:
        seen["cache"] = dict(history._cache)
        seen["lobby"] = hub._lobby_cache
        seen["rows"] = _rows(store)

    with_hub(store, body)
    assert str(store.engine.url) in seen["cache"]  # learned before any request
    assert seen["lobby"] is not None  # the first hello is answered from the cache
    assert seen["rows"] == before  # the warm-up's tickets were rolled back


def test_sign_in_pin_check_runs_off_the_store_thread(
    store: Store,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Twenty stations signing in must not hold the store thread (scrypt per sign-in)."""
    threads: list[str] = []
    real_login = server.login

    def login(*args: Any, **kw: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real_login(*args, **kw)

    monkeypatch.setattr(server, "login", login)

    async def body(hub: Hub) -> None:
        c = teller(hub, 11)
        await c.connect_once()
        await c.close()

    with_hub(store, body)
    assert threads and all(t.startswith("hub-auth") for t in threads), threads


def test_store_work_runs_on_the_store_thread_not_the_loop(
    store: Store,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ran: list[str] = []
    loop_thread: list[str] = []
    real = hub_commands.COMMANDS["branch"]

    def run(*args: Any) -> object:
        ran.append(threading.current_thread().name)
        return real.run(*args)

    monkeypatch.setitem(hub_commands.COMMANDS, "branch", Command(run, real.stations, False))

    async def body(hub: Hub) -> None:
        loop_thread.append(threading.current_thread().name)
        c = teller(hub, 11)
        await c.connect_once()
        reader = asyncio.create_task(c._receive())
        await c.request("branch")
        await c.close()
        reader.cancel()

    with_hub(store, body)
    assert ran and ran[0].startswith("hub-store") and ran[0] != loop_thread[0]


def test_a_slow_request_is_logged_with_its_command_and_where_its_time_went(
    store: Store,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(server, "SLOW_LOG_S", -1.0)  # every request counts as slow here
    stats: dict[str, Any] = {}

    async def body(hub: Hub) -> None:
        c = teller(hub, 11)
        await c.connect_once()
        reader = asyncio.create_task(c._receive())
        await c.request("branch")
        await c.close()
        reader.cancel()
        stats.update(hub.stats.as_json())

    with caplog.at_level(logging.WARNING, logger="lobby_app.hub.server"):
        with_hub(store, body)
    lines = [r.getMessage() for r in caplog.records if "slow request" in r.getMessage()]
    assert any(line.startswith("slow request branch:") for line in lines), lines
    line = next(line for line in lines if line.startswith("slow request branch:"))
    for part in ("wait_store_ms=", "store_ms=", "store_cpu_ms=", "push_ms=", "gc_ms="):
        assert part in line
    assert stats["slowest"][0]["command"] == "branch"
    assert "over_200ms" in stats and "gc" in stats


def test_one_lobby_rebuild_for_callers_of_the_same_change(
    store: Store,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A station's ``queue`` during the push's rebuild waits for that rebuild, it does not
    queue a second one behind it on the reader thread."""
    builds: list[int] = []
    real = server.lobby_for_all

    def counted(s: Store) -> dict[str, object]:
        builds.append(1)
        return real(s)

    async def body(hub: Hub) -> None:
        monkeypatch.setattr(server, "lobby_for_all", counted)
        hub._generation += 1  # a change: the cached lobby is stale
        first, second, third = await asyncio.gather(
            hub.public_lobby(), hub.public_lobby(), hub.public_lobby()
        )
        assert first == second == third

    with_hub(store, body)
    assert len(builds) == 1


def test_the_standalone_hub_freezes_its_start_up_garbage(tmp_path: Path) -> None:
    """``lobby-app hub``: after start-up the collector's thresholds are raised and what
    start-up made is frozen; the stats report the collector's pauses."""
    from tests.cli.test_cli import run

    data = tmp_path / "d"
    run(data, "demo", "--customers", "20")
    _, key, _ = run(data, "station-key")
    with hub_process(data) as port:

        async def ask() -> dict[str, Any]:
            c = HubClient(
                f"ws://127.0.0.1:{port}",
                station="desk",
                key=key["station_key"],
                staff="L01",
                pin=DEMO_PIN,
            )
            await c.connect_once()
            reader = asyncio.create_task(c._receive())
            stats = await c.request("hub_stats")
            await c.close()
            reader.cancel()
            return dict(stats)

        stats = asyncio.run(ask())
    gc_stats = stats["gc"]
    assert gc_stats["frozen"] > 10_000  # the imported modules, the warm caches
    assert gc_stats["thresholds"][0] == GEN0_THRESHOLD
    assert set(gc_stats["pause_ms"]) == {"gen0", "gen1", "gen2"}
