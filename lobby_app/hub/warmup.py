"""The hub's warm-up: first-use costs paid at start, before the first station's request.

A cold process pays on the first use of each thing: importing the modules a command loads
lazily (the sync engine: 0.6 s on a loaded PC, on the loop thread), learning the service
times from the branch's history (``store.history``, once per day), and compiling each SQL
statement of a command (SQLAlchemy caches the compiled form per engine). Measured, the first
ticket of the day took 88 ms against 26 ms for the next one on a quiet PC, 790 ms on a
loaded one. ``dry_run`` runs the common commands for real inside one transaction that is
rolled back: everything they compile and learn stays cached, nothing they wrote remains
(no ticket, no number used, no audit line, no request id).
"""

from __future__ import annotations

import importlib
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from lobby_app.core.errors import LobbyError
from lobby_app.hub.commands import COMMANDS, Station, lobby_for_all
from lobby_app.models import Counter, Staff
from lobby_app.store import commands
from lobby_app.store.db import Store, sql_of

log = logging.getLogger(__name__)

# Loaded on first use by the hub or its commands; imported at start instead.
LAZY_MODULES = (
    "lobby_app.sync.engine",
    "lobby_app.sync.schedule",
    "lobby_app.store.backup",
    "lobby_app.store.referrals",
    "lobby_app.store.history",
    "zoneinfo",
)
# Read-only commands run against the store itself (their answers are thrown away).
READS = ("branch", "business_types", "counters", "lobby", "managers", "sync_status")
WARM_ID = "hub-warm-up"


def load_modules() -> None:
    for name in LAZY_MODULES:
        importlib.import_module(name)


class _RolledBack(Store):
    """The store seen through one open transaction on one connection: each ``write()`` and
    ``read()`` is a savepoint in it; the caller rolls the whole transaction back."""

    _conn: Connection

    @classmethod
    def over(cls, store: Store, conn: Connection) -> _RolledBack:
        """The same store (folder, key, engine: a copy of its attributes), rolled back."""
        dry = cls.__new__(cls)
        dry.__dict__.update(store.__dict__)
        dry._conn = conn
        return dry

    @contextmanager
    def write(self) -> Iterator[Session]:
        with Session(
            self._conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        ) as session:
            try:
                yield session
                session.commit()  # releases the savepoint only
            except BaseException:
                session.rollback()
                raise

    read = write

    @contextmanager
    def write_sql(self) -> Iterator[sqlite3.Connection]:
        """The plain-SQL commands (the issue of a ticket) in the same rolled-back savepoint."""
        with self.write() as session:
            yield sql_of(session)

    read_sql = write_sql


def _try(what: str, done: list[str], fn: Any) -> Any:
    try:
        result = fn()
    except LobbyError as exc:  # e.g. the day is closed: warmed as far as it went
        log.info("warm-up: %s refused (%s)", what, exc.code)
        return None
    done.append(what)
    return result


def dry_run(store: Store) -> str:
    """Run the common commands once, for real, and roll everything back. Returns what ran
    (for the log). Runs on the hub's store thread, before the hub listens."""
    done: list[str] = []
    desk = Station("desk", None, WARM_ID, "branch_head")
    for name in READS:
        _try(name, done, lambda n=name: COMMANDS[n].run(store, desk, {}, f"{WARM_ID}:{n}"))
    _try("queue", done, lambda: lobby_for_all(store))
    with store.engine.connect() as conn:
        conn = conn.execution_options(immediate=True)  # the write lock for the warm-up
        conn.begin()
        try:
            dry = _RolledBack.over(store, conn)
            _dry_commands(dry, desk, done)
        finally:
            conn.rollback()
    return ", ".join(done)


def _dry_commands(dry: _RolledBack, desk: Station, done: list[str]) -> None:
    with dry.write() as s:
        window = s.scalar(
            select(Counter.window_no)
            .where(Counter.retired_at.is_(None))
            .order_by(Counter.window_no)
        )
        staff = s.scalar(select(Staff.staff_no).where(Staff.active.is_(True)).limit(1))
        if window is None or staff is None:
            return
        counter = s.scalar(select(Counter).where(Counter.window_no == window))
        assert counter is not None
        counter.staff_no, counter.is_open = staff, True  # rolled back with the rest
    kinds = {(b.zone, b.counter_zone, b.category): b.code for b in commands.business_types(dry)}
    for code in kinds.values():  # a ticket of each kind of business: every queue and lane
        _try("issue_ticket", done, lambda c=code: _issue(dry, desk, c))
    teller = Station("teller", window, staff, "teller")
    steps = ("call_next", "recall", "start", "finish", "call_next", "no_show")
    for i, name in enumerate(steps):
        _try(name, done, lambda n=name, i=i: COMMANDS[n].run(dry, teller, {}, f"{WARM_ID}:{i}"))


def _issue(dry: Store, desk: Station, code: str) -> object:
    return COMMANDS["issue_ticket"].run(dry, desk, {"business": code}, f"{WARM_ID}:{code}")
