"""Opening the branch store: the SQLite file, its pragmas, migrations and the hash key."""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr

DB_NAME = "branch.sqlite3"
KEY_NAME = "id-hash.key"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("lobby-app", appauthor=False))


def _set_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (see _begin) so writes can take
    # the write lock up front instead of failing half-way with "database is locked".
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def _begin(conn: Any) -> None:
    immediate = conn.get_execution_options().get("immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Store:
    """The branch's SQLite store. ``write()`` and ``read()`` each give one short transaction."""

    def __init__(self, data_dir: Path, engine: Engine, id_key: bytes) -> None:
        self.data_dir = data_dir
        self.engine = engine
        self.id_key = id_key
        self._write = sessionmaker(engine.execution_options(immediate=True), expire_on_commit=False)
        self._read = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, data_dir: Path | str | None = None, *, migrate: bool = True) -> Store:
        path = Path(data_dir) if data_dir is not None else default_data_dir()
        _ensure_writable_dir(path)
        id_key = _load_or_create_key(path / KEY_NAME)
        engine = create_engine(f"sqlite:///{path / DB_NAME}", future=True)
        event.listen(engine, "connect", _set_pragmas)
        event.listen(engine, "begin", _begin)
        store = cls(path, engine, id_key)
        if migrate:
            try:
                from lobby_app.store.migrate import upgrade_to_head

                upgrade_to_head(engine)
            except OperationalError as exc:
                raise LobbyError(
                    "store_unavailable",
                    tr(
                        f"无法打开网点数据库 {path / DB_NAME}：{exc.orig}。请检查磁盘空间和文件权限。"
                    ),
                ) from exc
            from lobby_app.store.setup import ensure_defaults

            ensure_defaults(store)
        return store

    @property
    def db_path(self) -> Path:
        return self.data_dir / DB_NAME

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: takes SQLite's write lock at BEGIN, commits at the end."""
        try:
            with self._write.begin() as session:
                yield session
        except OperationalError as exc:
            raise _environment_error(exc, self.db_path) from exc

    @contextmanager
    def read(self) -> Iterator[Session]:
        try:
            with self._read.begin() as session:
                yield session
        except OperationalError as exc:
            raise _environment_error(exc, self.db_path) from exc

    def close(self) -> None:
        self.engine.dispose()


def _environment_error(exc: OperationalError, db: Path) -> LobbyError:
    text = str(exc.orig)
    if "full" in text:
        return LobbyError(
            "disk_full", tr(f"磁盘已满，无法写入 {db}。请清理磁盘后重试，本次操作未保存。")
        )
    if "locked" in text or "busy" in text:
        return LobbyError("store_busy", tr("网点数据库正忙，请稍后重试，本次操作未保存。"))
    if "readonly" in text or "read-only" in text:
        return LobbyError(
            "store_readonly", tr(f"网点数据库 {db} 只读，请检查文件权限。本次操作未保存。")
        )
    return LobbyError("store_error", tr(f"网点数据库出错：{text}。本次操作未保存。"))


def _ensure_writable_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise LobbyError(
            "data_dir_unwritable",
            tr(
                f"数据目录 {path} 无法写入（{exc.strerror or exc}）。请用 --data-dir 指定一个可写的目录。"
            ),
            field="data_dir",
        ) from exc


def _load_or_create_key(path: Path) -> bytes:
    """The key of the ID/phone hashes. Kept beside, not inside, the database file."""
    env = os.environ.get("LOBBY_ID_HASH_KEY")
    if env:
        return env.encode()
    if path.exists():
        return path.read_bytes()
    key = secrets.token_bytes(32)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return key


def sqlite_version() -> str:
    return sqlite3.sqlite_version
