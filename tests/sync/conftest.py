"""A real PostgreSQL server (started by scripts/test-services.sh) and a fresh database per test."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from lobby_app.store import Store
from tests.conftest import open_demo_copy

PG_HOST = os.environ.get("LOBBY_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("LOBBY_TEST_PG_PORT", "55432"))
ADMIN = f"host={PG_HOST} port={PG_PORT} user=postgres dbname=postgres"


def pg_url(db: str, port: int = PG_PORT, user: str = "postgres") -> str:
    return f"postgresql+psycopg://{user}@{PG_HOST}:{port}/{db}"


@pytest.fixture
def pg() -> Iterator[str]:
    """The name of a new, empty database on the test server; dropped afterwards."""
    try:
        admin = psycopg.connect(ADMIN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"no PostgreSQL at {PG_HOST}:{PG_PORT}: run scripts/test-services.sh ({exc})")
    name = f"ho_{uuid.uuid4().hex[:12]}"
    admin.execute(f"create database {name}")
    try:
        yield name
    finally:
        admin.execute(f"drop database if exists {name} with (force)")
        admin.close()


def psql(db: str, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with psycopg.connect(
        f"host={PG_HOST} port={PG_PORT} user=postgres dbname={db}", autocommit=True
    ) as c:
        cur = c.execute(sql, params)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []


@pytest.fixture
def branch(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The demo branch (60 customers), copied from a template per test."""
    s = open_demo_copy(tmp_path_factory, tmp_path / "branch", 60)
    yield s
    s.close()


class _PgProxy:
    """A TCP proxy to the test PostgreSQL server on a free local port (``self.port``): every
    connection accepted is paired with one upstream, and a pump per direction hands what it
    reads to ``_forward`` (the subclass's), which counts the bytes towards the server in
    ``self.sent`` and passes them on, swallows them or stops the pump."""

    def __init__(self) -> None:
        self.sent = 0
        self._lock = threading.Lock()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self._socks: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection((PG_HOST, PG_PORT))
            self._socks += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, to_server: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data or not self._forward(data, dst, to_server):
                    return
        except OSError:
            pass
        finally:
            self._pumped(src, dst)

    def _forward(self, data: bytes, dst: socket.socket, to_server: bool) -> bool:
        """Deal with ``data`` read from one side; False stops this pump."""
        raise NotImplementedError

    def _pumped(self, src: socket.socket, dst: socket.socket) -> None:
        """After a pump stopped: by default both sockets stay as they are."""


class CutProxy(_PgProxy):
    """A TCP proxy to PostgreSQL that drops the connection after ``cut_after`` bytes have gone
    towards the server: a network cable pulled in the middle of a sync."""

    def __init__(self, cut_after: int) -> None:
        self.cut_after = cut_after
        self.cut = False
        super().__init__()

    def _forward(self, data: bytes, dst: socket.socket, to_server: bool) -> bool:
        if to_server:
            with self._lock:
                self.sent += len(data)
                if self.sent > self.cut_after:
                    self.cut = True
                    self._drop()
                    return False
        dst.sendall(data)
        return True

    def _pumped(self, src: socket.socket, dst: socket.socket) -> None:
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.close()

    def _drop(self) -> None:
        for s in self._socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass

    def close(self) -> None:
        self.server.close()
        self._drop()


class FreezeProxy(_PgProxy):
    """A TCP proxy to PostgreSQL that, after ``freeze_after`` bytes towards the server, stops
    passing anything on while keeping every connection open: a head office frozen in the
    middle of a sync (no error, no reset: the sync just waits)."""

    def __init__(self, freeze_after: int | None = None) -> None:
        self.freeze_after = freeze_after
        self.frozen = False
        super().__init__()

    def _forward(self, data: bytes, dst: socket.socket, to_server: bool) -> bool:
        with self._lock:
            if to_server:
                self.sent += len(data)
                if self.freeze_after is not None and self.sent > self.freeze_after:
                    self.frozen = True
            if self.frozen:
                return True  # swallowed: nothing moves any more
        dst.sendall(data)
        return True

    def close(self) -> None:
        self.server.close()
        for s in self._socks:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                s.close()
