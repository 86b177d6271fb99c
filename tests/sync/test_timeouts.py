"""A frozen or locked head office never hangs the sync (issue 16 item 3)."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lobby_app.store import Store, commands
from lobby_app.sync import timeouts
from lobby_app.sync.engine import SyncResult, run_sync, sync_status
from lobby_app.sync.schedule import RETRY_AFTER, is_due, last_due
from tests.sync.conftest import PG_HOST, PG_PORT, FreezeProxy, pg_url
from tests.sync.test_sync import ho_counts, local_counts, play


def test_a_lock_held_at_head_office_ends_the_sync_within_its_limit(
    branch: Store, pg: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another session holds a lock on head office's ``visit``: the sync's write used to wait
    for as long as the lock was held (for ever, holding the hub's sync lock). Now every
    statement has a lock and statement timeout: the sync is abandoned with a clear message,
    nothing is lost, and the next run completes it."""
    monkeypatch.setattr(timeouts, "LOCK_MS", 1500)
    url = pg_url(pg)
    code = commands.settings(branch).branch_code
    assert run_sync(branch, url).status == "ok"
    play(branch, visits=10, seed=51)
    pending = sync_status(branch).pending
    holder = psycopg.connect(f"host={PG_HOST} port={PG_PORT} user=postgres dbname={pg}")
    outcome: list[SyncResult] = []
    try:
        holder.execute("lock table visit in exclusive mode")  # held until rollback
        began = time.monotonic()
        worker = threading.Thread(target=lambda: outcome.append(run_sync(branch, url)))
        worker.start()
        worker.join(30)
        took = time.monotonic() - began
    finally:
        holder.rollback()  # lets a sync that still waits go on, so the test ends
        holder.close()
    worker.join(60)
    assert took < 20, f"the sync still waited on the lock after {took:.0f} s"
    (stuck,) = outcome
    assert (stuck.status, stuck.error) == ("failed", "timeout"), stuck.message
    assert "放弃" in stuck.message and "自动重试" in stuck.message
    assert sync_status(branch).pending >= pending and sync_status(branch).last_error
    done = run_sync(branch, url)
    assert done.status == "ok", done.message
    assert ho_counts(pg, code) == local_counts(branch)


def test_a_frozen_head_office_is_abandoned_and_the_hub_tries_again(
    branch: Store, pg: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Head office stops answering in the middle of an upload (no error, no reset): no
    server-side limit can fire, and the sync used to wait for ever inside the hub, whose
    sync lock then stayed taken until a restart. Now a watchdog abandons it when nothing has
    moved for its limit; the hub's lock is free again and the next run completes it."""
    from lobby_app.hub.server import Hub

    monkeypatch.setattr(timeouts, "STALL_S", 3.0)
    url = pg_url(pg)
    code = commands.settings(branch).branch_code
    assert run_sync(branch, url).status == "ok"
    play(branch, visits=120, seed=52)
    proxy = FreezeProxy(freeze_after=60_000)  # the first batch is well beyond this
    commands.change_settings(branch, {"sync_url": pg_url(pg, port=proxy.port)}, actor="B01")

    async def body() -> dict[str, object]:
        hub = Hub(branch, "127.0.0.1", 0, nightly_sync=True)
        try:
            result = await asyncio.wait_for(hub.sync_now("scheduled"), 60)
        except TimeoutError:
            proxy.close()  # the hung sync's thread ends, so the loop can close
            raise AssertionError("the sync was still hanging after 60 s") from None
        finally:
            hub._pool.shutdown()
            hub._read_pool.shutdown()
        assert hub._sync_running is not None and not hub._sync_running.locked()
        return result

    began = time.monotonic()
    try:
        result = asyncio.run(body())
    finally:
        proxy.close()
    took = time.monotonic() - began
    assert proxy.frozen, "the proxy must actually freeze mid-sync"
    assert result["status"] == "failed" and result["error"] == "timeout", result["message"]
    assert "没有响应" in str(result["message"]) and "自动重试" in str(result["message"])
    assert took < 40
    # head office took nothing half-way: whatever it has is whole, and the rest follows
    commands.change_settings(branch, {"sync_url": pg_url(pg)}, actor="B01")
    done = run_sync(branch)
    assert done.status == "ok", done.message
    assert ho_counts(pg, code) == local_counts(branch)


@given(
    minutes_since=st.integers(min_value=0, max_value=24 * 60),
    failed=st.booleans(),
)
def test_a_failed_sync_is_retried_after_a_pause(minutes_since: int, failed: bool) -> None:
    """The hub retries a sync that failed or was abandoned, but not at every one-minute check:
    after ``RETRY_AFTER``. A success tonight means nothing more is due."""
    from lobby_app.store.setup import DEFAULT_SETTINGS, settings_from

    s = settings_from(dict(DEFAULT_SETTINGS))
    now = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)  # 22:00 in Shanghai: tonight's sync is due
    due = last_due(now, s)
    tried = now - timedelta(minutes=minutes_since)
    expected = not failed or minutes_since * 60 >= RETRY_AFTER.total_seconds()
    assert is_due(now, s, None, last_attempt=tried, failed=failed) is expected
    assert is_due(now, s, due - timedelta(days=1), last_attempt=tried, failed=failed) is expected
    assert is_due(now, s, due + timedelta(minutes=1), last_attempt=tried, failed=failed) is False
