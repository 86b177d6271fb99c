"""Backups of the branch store and restoring one (issue 16 item 5)."""

from __future__ import annotations

import asyncio
import functools
import json
import sqlite3
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from lobby_app.core.errors import LobbyError
from lobby_app.store import Store, commands
from lobby_app.store.backup import (
    BACKUP_DIR,
    HubPresence,
    backup,
    backups,
    hub_holds,
    inspect_backup,
    nightly_backup,
    restore,
)
from lobby_app.store.commands import IssueRequest
from tests.conftest import lobby_cli


def tickets(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("select count(*) from ticket").fetchone()[0])
    finally:
        conn.close()


def state(store: Store, key: str) -> str | None:
    with store.engine.connect() as c:
        return c.execute(text("select value from sync_state where key = :k"), {"k": key}).scalar()


def test_a_backup_while_another_process_writes(directory_store: Store, tmp_path: Path) -> None:
    """The store is copied with SQLite's online backup while another connection (the hub)
    issues tickets without pause: every copy is whole (integrity, a lobby store), holds a
    moment's state, and the writer never waits for it or fails."""
    store = directory_store
    writer_store = Store.open(store.data_dir)  # another process's connection, as the hub's
    stop = threading.Event()
    issued: list[str] = []
    errors: list[BaseException] = []

    def write() -> None:
        try:
            while not stop.wait(0.002):  # a very busy lobby: hundreds of tickets a second
                issued.append(commands.issue_ticket(writer_store, IssueRequest("cash")).id)
        except BaseException as exc:  # reported below
            errors.append(exc)

    thread = threading.Thread(target=write)
    thread.start()
    made = []
    try:
        while len(issued) < 5:
            stop.wait(0.01)
        for _ in range(3):
            before = len(issued)
            made.append((before, backup(store, tmp_path / "copies", keep=10)))
    finally:
        stop.set()
        thread.join(30)
        writer_store.close()
    assert errors == []
    assert len(issued) > 5
    for before, result in made:
        info = inspect_backup(result.path)  # integrity_check, tables, revision
        assert info.branch_code == commands.settings(store).branch_code
        n = tickets(result.path)
        assert before <= n <= len(issued)
        assert stat.S_IMODE(result.path.stat().st_mode) == 0o600
        assert not Path(f"{result.path}-wal").exists()  # one self-contained file
    assert stat.S_IMODE((tmp_path / "copies").stat().st_mode) == 0o700
    assert state(store, "last_backup") == str(made[-1][1].path)


def test_only_the_newest_backups_are_kept(store: Store, tmp_path: Path) -> None:
    start = datetime(2026, 12, 1, 13, 30, tzinfo=UTC)
    for day in range(5):
        backup(store, keep=3, now=start + timedelta(days=day))
    folder = store.data_dir / BACKUP_DIR
    kept = backups(folder, commands.settings(store).branch_code)
    assert [p.name for p in kept] == [
        f"branch-0000-202612{d:02d}-213000.sqlite3" for d in (3, 4, 5)
    ]
    other = folder / "notes.txt"
    other.write_text("kept")  # what is not a backup of this branch is left alone
    backup(store, keep=1, now=start + timedelta(days=9))
    assert len(backups(folder, "0000")) == 1 and other.exists()
    with pytest.raises(LobbyError) as e:
        backup(store, keep=0)
    assert e.value.code == "bad_keep"


def test_the_nightly_backup_is_made_once_a_night(store: Store) -> None:
    first = nightly_backup(store)
    assert first is not None and first.path.parent == store.data_dir / BACKUP_DIR
    assert nightly_backup(store) is None  # a sync retried an hour later backs up no more
    later = datetime.now(UTC) + timedelta(hours=13)
    assert nightly_backup(store, now=later) is not None


def test_the_hub_backs_up_before_the_nightly_sync(store: Store) -> None:
    """The hub's scheduled sync first copies the store into ``<data dir>/backups``."""
    from lobby_app.hub.server import Hub

    async def body() -> dict[str, object]:
        hub = Hub(store, "127.0.0.1", 0, nightly_sync=True)
        try:
            return await hub.sync_now("scheduled")
        finally:
            hub._pool.shutdown()
            hub._read_pool.shutdown()

    result = asyncio.run(body())
    assert result["status"] == "ok", result["message"]
    made = backups(store.data_dir / BACKUP_DIR, "0000")
    assert [str(p) for p in made] == [result["backup"]]


# ---------------------------------------------------------------- restore


def seeded(store: Store) -> None:
    commands.change_settings(store, {"branch_code": "310115009"}, actor="setup")


def test_restore_puts_the_backup_back_and_keeps_a_safety_copy(
    directory_store: Store, tmp_path: Path
) -> None:
    store = directory_store
    seeded(store)
    kept = commands.issue_ticket(store, IssueRequest("cash")).id
    saved = backup(store, tmp_path / "usb").path
    lost = commands.issue_ticket(store, IssueRequest("cash")).id
    data = store.data_dir
    epoch = state(store, "epoch")
    store.close()
    with pytest.raises(LobbyError) as e:
        restore(data, saved, confirmed=False)
    assert e.value.code == "confirm_restore"
    assert "--yes" in e.value.message and "安全副本" in e.value.message
    assert "310115009" in e.value.message and "接管" in e.value.message
    result = restore(data, saved, confirmed=True)
    assert result.info.tickets == 1
    back = Store.open(data)
    try:
        with back.engine.connect() as c:
            ids = set(c.execute(text("select id from ticket")).scalars())
            audit = c.execute(
                text("select detail from audit_event where action = 'store_restored'")
            ).scalar_one()
        assert ids == {kept}
        assert saved.name in audit
        # the store before the restore is kept whole
        assert result.safety_copy.name.startswith("before-restore-310115009-")
        assert tickets(result.safety_copy) == 2
        assert lost not in ids
        # the next sync starts a new epoch and takes the branch over (tests/sync)
        assert state(back, "take_over") == "restore" and state(back, "epoch") != epoch
        assert state(back, "epoch_reason") == "restored"
        # the desk works on at once
        commands.issue_ticket(back, IssueRequest("cash"))
    finally:
        back.close()


def test_restore_refuses_while_a_hub_holds_the_store(store: Store, tmp_path: Path) -> None:
    from lobby_app.hub.thread import HubThread

    saved = backup(store, tmp_path / "usb").path
    hub = HubThread(store, "127.0.0.1", 0)
    hub.start()
    try:
        assert hub_holds(store.data_dir)
        with pytest.raises(LobbyError) as e:
            restore(store.data_dir, saved, confirmed=True)
        assert e.value.code == "hub_running" and "关闭" in e.value.message
    finally:
        hub.stop()
    assert not hub_holds(store.data_dir)
    held = HubPresence.take(store.data_dir)
    assert held is not None and HubPresence.take(store.data_dir) is None
    held.release()
    restore(store.data_dir, saved, confirmed=True)


def test_restore_refuses_what_is_not_this_branchs_store(store: Store, tmp_path: Path) -> None:
    seeded(store)
    data = store.data_dir
    saved = backup(store, tmp_path / "usb").path
    refusals: dict[str, str] = {}

    def refused(path: Path) -> LobbyError:
        with pytest.raises(LobbyError) as e:
            restore(data, path, confirmed=True)
        refusals[path.name] = e.value.code
        return e.value

    text_file = tmp_path / "notes.sqlite3"
    text_file.write_text("not a database")
    assert "不是 SQLite" in refused(text_file).message
    torn = tmp_path / "torn.sqlite3"
    torn.write_bytes(saved.read_bytes()[: len(saved.read_bytes()) // 2])
    refused(torn)
    other = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(other)
    conn.execute("create table t (x)")
    conn.close()
    assert "缺少" in refused(other).message

    def altered(name: str, sql: str) -> Path:
        """A copy of the backup, changed by ``sql``."""
        path = tmp_path / name
        path.write_bytes(saved.read_bytes())
        conn = sqlite3.connect(path)
        conn.execute(sql)
        conn.commit()
        conn.close()
        return path

    newer = altered("newer.sqlite3", "update alembic_version set version_num = '9999'")
    assert "升级本机程序" in refused(newer).message
    elsewhere = altered(
        "elsewhere.sqlite3", "update setting set value = '310115077' where key = 'branch_code'"
    )
    err = refused(elsewhere)
    assert err.code == "backup_other_branch" and "310115077" in err.message
    assert set(refusals.values()) <= {"bad_backup", "backup_other_branch"}
    # nothing was touched: no safety copy either
    assert list((data / BACKUP_DIR).glob("before-restore-*")) == []


def test_a_new_pc_restores_any_branchs_backup(store: Store, tmp_path: Path) -> None:
    """A PC not set up yet (branch code 0000) takes the backup of the branch it replaces."""
    seeded(store)
    saved = backup(store, tmp_path / "usb").path
    fresh = tmp_path / "new-pc"
    restore(fresh, saved, confirmed=True)
    s = Store.open(fresh)
    try:
        assert commands.settings(s).branch_code == "310115009"
    finally:
        s.close()


def test_backup_and_restore_on_the_command_line(store: Store, tmp_path: Path) -> None:
    data = store.data_dir
    store.close()
    cli = functools.partial(lobby_cli, data)
    made = cli("--json", "backup", "--to", str(tmp_path / "usb"), "--keep", "2")
    assert made.returncode == 0, made.stderr
    path = Path(json.loads(made.stdout)["path"])
    assert path.exists() and path.parent == tmp_path / "usb"
    plain = cli("backup")
    assert plain.returncode == 0 and "已备份到" in plain.stdout and "保留最近 14 份" in plain.stdout
    ask = cli("restore", str(path))
    assert ask.returncode == 2 and "--yes" in ask.stderr and "覆盖" in ask.stderr
    done = cli("restore", str(path), "--yes")
    assert done.returncode == 0, done.stderr
    assert "已用备份" in done.stdout and "接管" in done.stdout
    helped = cli("--help")
    assert (
        helped.stdout.index("ho-migrate")
        < helped.stdout.index("backup")
        < helped.stdout.index("restore")
    )
