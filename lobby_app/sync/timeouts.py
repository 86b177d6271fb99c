"""Time limits of the sync: no statement waits for ever on head office.

PostgreSQL gets them on every connection: ``connect_timeout``, ``statement_timeout``,
``lock_timeout`` (a row or table another session holds), ``idle_in_transaction_session_
timeout``, and TCP keep-alives. A head office that stops answering altogether (a frozen
server or a silent network, where no server-side limit can fire) is caught here: a watchdog
thread sees that nothing has moved for ``stall_s`` and shuts the connections' sockets, so
the call blocked on them returns with an error, the sync is abandoned (``timeout``) and its
lock released; the hub's nightly scheduler tries again later. A SQLite head office waits at
most ``SQLITE_BUSY_S`` for another writer.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from typing import Any

from sqlalchemy import Engine, event

log = logging.getLogger(__name__)

CONNECT_S = 10
STATEMENT_MS = 120_000  # one statement: a batch of 5,000 rows takes a few seconds
LOCK_MS = 30_000  # waiting for a lock another session holds
IDLE_IN_TX_MS = 300_000
SQLITE_BUSY_S = 30.0
# nothing moved for this long: head office is frozen, the sync is abandoned
STALL_S = STATEMENT_MS / 1000 + 30


def pg_connect_args() -> dict[str, Any]:
    return {
        "connect_timeout": CONNECT_S,
        "application_name": "lobby-app sync",
        "options": (
            f"-c statement_timeout={STATEMENT_MS} -c lock_timeout={LOCK_MS}"
            f" -c idle_in_transaction_session_timeout={IDLE_IN_TX_MS}"
        ),
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
        "tcp_user_timeout": STATEMENT_MS,
    }


def is_timeout(exc: BaseException) -> bool:
    """A head-office statement ran out of time (statement or lock timeout), or SQLite's busy
    wait ended."""
    orig = getattr(exc, "orig", None) or exc
    code = getattr(getattr(orig, "diag", None), "sqlstate", None) or getattr(orig, "sqlstate", None)
    if code in ("57014", "55P03"):  # query_canceled (statement_timeout), lock_not_available
        return True
    low = str(orig).lower()
    return "database is locked" in low or "lock timeout" in low


class Watchdog:
    """Abandons a sync whose head office stops answering. Every statement (and every raw
    COPY or batch, via ``touch``) counts as progress; when none comes for ``stall_s`` the
    head-office sockets are shut down."""

    def __init__(self, engine: Engine, stall_s: float) -> None:
        self.engine = engine
        self.stall_s = stall_s
        self.fired = False
        self._fds: dict[int, int] = {}
        self._last = time.monotonic()
        self._busy = 0  # statements in flight
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name="sync-watchdog", daemon=True)

    # progress
    def touch(self) -> None:
        self._last = time.monotonic()

    def _before(self, *_: Any) -> None:
        self.touch()

    def _on_connect(self, dbapi_connection: Any, _record: Any) -> None:
        fd = _socket_fd(dbapi_connection)
        if fd is not None:
            with self._lock:
                self._fds[id(dbapi_connection)] = fd
        self.touch()

    def _watch(self) -> None:
        while not self._stop.wait(min(1.0, self.stall_s / 4)):
            if time.monotonic() - self._last > self.stall_s:
                self.fired = True
                log.warning("sync: head office silent for %.0f s, abandoning", self.stall_s)
                with self._lock:
                    fds = list(self._fds.values())
                for fd in fds:
                    _shut(fd)
                self._last = time.monotonic()  # shut again if it still hangs

    def __enter__(self) -> Watchdog:
        event.listen(self.engine, "connect", self._on_connect)
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._before)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)
        event.remove(self.engine, "connect", self._on_connect)
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._before)


def _socket_fd(dbapi_connection: Any) -> int | None:
    pgconn = getattr(dbapi_connection, "pgconn", None)  # psycopg 3
    if pgconn is None:
        return None
    with contextlib.suppress(Exception):
        return int(pgconn.socket)
    return None


def _shut(fd: int) -> None:
    """Shut a connection's socket down under the library that owns it: its blocked wait
    returns, and it sees a closed connection."""
    try:
        dup = os.dup(fd)
    except OSError:
        return
    try:
        s = socket.socket(fileno=dup)
    except OSError:
        os.close(dup)
        return
    with contextlib.suppress(OSError):
        s.shutdown(socket.SHUT_RDWR)
    s.close()
