"""Opening the branch store: the SQLite file, its pragmas, migrations and the hash key.

SQLAlchemy loads only when a command first needs the engine (``Store.engine``, ``read()``,
``write()``): an up-to-date store opens with plain ``sqlite3`` (its revision and the two
start-up checks read directly), and ``read_sql()`` gives the type-ahead lookup a plain
connection, so ``lobby-app lookup`` starts without SQLAlchemy, Alembic or the ORM models
(issue 17 item 5).
"""

from __future__ import annotations

import os
import random
import secrets
import sqlite3
import stat
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session, sessionmaker

DB_NAME = "branch.sqlite3"
KEY_NAME = "id-hash.key"
# The setting that holds the station key's hash, and how a hash begins (store.staff's
# STATION_KEY and _DIGEST; a test keeps them equal): opening checks it without the ORM.
STATION_KEY = "station_key"
STATION_KEY_DIGEST = "sha256:"


# How long a command waits for the other writers (stations through the hub, scripts, the
# nightly sync) before it says the store is busy. SQLite's busy handler waits up to
# BUSY_TIMEOUT_MS inside each statement; taking the write lock (BEGIN IMMEDIATE) is tried
# again, after a short random pause, until WRITE_WAIT_S have passed in all. A branch's
# commands hold the lock for milliseconds; 40 processes racing on two cores starve each
# other for seconds, which a 5 s timeout turned into "store busy" for 19 % of them
# (issue 16 item 8).
BUSY_TIMEOUT_MS = 10_000
WRITE_WAIT_S = 30.0
_JITTER = random.Random()  # its own: the process's shared random state is left alone


def default_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("lobby-app", appauthor=False))


def _set_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (see _begin) so writes can take
    # the write lock up front instead of failing half-way with "database is locked".
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.close()


def _begin(conn: Any) -> None:
    immediate = conn.get_execution_options().get("immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Store:
    """The branch's SQLite store. ``write()`` and ``read()`` each give one short transaction."""

    def __init__(self, data_dir: Path, engine: Engine | None, id_key: bytes) -> None:
        self.data_dir = data_dir
        self.id_key = id_key
        if engine is not None:
            self.__dict__["engine"] = engine  # else made on first use (see ``engine``)

    @cached_property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, made (and SQLAlchemy imported) on first use."""
        from sqlalchemy import create_engine, event

        engine = create_engine(f"sqlite:///{self.db_path}", future=True)
        event.listen(engine, "connect", _set_pragmas)
        event.listen(engine, "begin", _begin)
        return engine

    @cached_property
    def _write(self) -> sessionmaker[Session]:
        from sqlalchemy.orm import sessionmaker

        engine = self.engine.execution_options(immediate=True)
        return sessionmaker(engine, expire_on_commit=False)

    @cached_property
    def _read(self) -> sessionmaker[Session]:
        from sqlalchemy.orm import sessionmaker

        return sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def open(cls, data_dir: Path | str | None = None, *, migrate: bool = True) -> Store:
        path = Path(data_dir) if data_dir is not None else default_data_dir()
        _ensure_writable_dir(path)
        secure_data_dir(path)
        id_key = _load_or_create_key(path / KEY_NAME)
        store = cls(path, None, id_key)
        if migrate:
            store._bring_up_to_date()
        return store

    def _bring_up_to_date(self) -> None:
        """Migrate to the newest schema, add the default business table to a new store and
        hash a station key an older version kept in plain text. What is already in order
        is seen with plain sqlite3 (a few hundred microseconds); Alembic, SQLAlchemy and
        the ORM load only when something is to be done."""
        from lobby_app.store.migrate import HEAD_REVISION

        try:
            state = _store_state(self.db_path)
        except sqlite3.Error as exc:
            raise LobbyError(
                "store_unavailable",
                tr(f"无法打开网点数据库 {self.db_path}：{exc}。请检查磁盘空间和文件权限。"),
            ) from exc
        if state == (HEAD_REVISION, True, True):
            return
        from sqlalchemy.exc import OperationalError

        try:
            from lobby_app.store.migrate import upgrade_to_head

            upgrade_to_head(self.engine)
        except OperationalError as exc:
            raise LobbyError(
                "store_unavailable",
                tr(f"无法打开网点数据库 {self.db_path}：{exc.orig}。请检查磁盘空间和文件权限。"),
            ) from exc
        from lobby_app.store.setup import ensure_defaults
        from lobby_app.store.staff import protect_station_key

        ensure_defaults(self)
        protect_station_key(self)  # a key kept in plain text by an older version

    @property
    def db_path(self) -> Path:
        return self.data_dir / DB_NAME

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: takes SQLite's write lock at BEGIN (waiting for it within
        ``WRITE_WAIT_S``), commits at the end."""
        session = self._locked_session()
        try:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()
        except Exception as exc:
            if _is_operational(exc):
                raise _environment_error(exc, self.db_path) from exc
            raise

    def _locked_session(self) -> Session:
        """A session whose transaction holds the write lock. BEGIN IMMEDIATE is the only
        statement that may find the lock taken (WAL: readers never block the writer), so
        retrying it alone is safe: nothing of the command has run yet."""
        from sqlalchemy.exc import OperationalError

        deadline = time.monotonic() + WRITE_WAIT_S
        pause = 0.005
        while True:
            session = self._write()
            try:
                session.connection()  # BEGIN IMMEDIATE (see _begin)
                return session
            except OperationalError as exc:
                session.close()
                if not _is_busy(exc) or time.monotonic() + pause >= deadline:
                    raise _environment_error(exc, self.db_path) from exc
            time.sleep(pause * _JITTER.uniform(0.5, 1.5))  # racing writers spread out
            pause = min(pause * 2, 0.25)

    @contextmanager
    def read(self) -> Iterator[Session]:
        try:
            with self._read.begin() as session:
                yield session
        except Exception as exc:
            if _is_operational(exc):
                raise _environment_error(exc, self.db_path) from exc
            raise

    def _sqlite(self) -> tuple[Any, sqlite3.Connection]:
        """A plain ``sqlite3`` connection (and what to close): the engine's pooled one once
        the engine is made, else one of its own with the store's pragmas."""
        if "engine" in self.__dict__:
            raw: Any = self.engine.raw_connection()
            pooled: sqlite3.Connection = raw.driver_connection
            return raw, pooled
        con = sqlite3.connect(self.db_path)
        _set_pragmas(con, None)
        return con, con

    @contextmanager
    def read_sql(self) -> Iterator[sqlite3.Connection]:
        """One read transaction on a plain ``sqlite3`` connection, for queries written in
        SQL (the type-ahead lookup): the engine's pooled connection once the engine is
        made, else a connection of its own with the store's pragmas, closed after."""
        try:
            raw, con = self._sqlite()
            try:
                con.execute("BEGIN")
                try:
                    yield con
                finally:
                    con.execute("ROLLBACK")  # it only read
            finally:
                raw.close()
        except sqlite3.OperationalError as exc:
            raise _environment_error(exc, self.db_path) from exc

    @contextmanager
    def write_sql(self) -> Iterator[sqlite3.Connection]:
        """``write()`` on a plain ``sqlite3`` connection, for a small write in SQL (the
        lookup's audit record) that should not load the ORM: the write lock is taken at
        BEGIN IMMEDIATE, within ``WRITE_WAIT_S``, and the work committed at the end."""
        try:
            raw, con = self._sqlite()
            try:
                _begin_immediate(con)
                try:
                    yield con
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")
            finally:
                raw.close()
        except sqlite3.OperationalError as exc:
            raise _environment_error(exc, self.db_path) from exc

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


def sql_of(session: Session) -> sqlite3.Connection:
    """The plain ``sqlite3`` connection under an ORM session, in the session's own
    transaction, its pending changes flushed first as autoflush does before a query (not
    inside ``no_autoflush``): for the queries in SQL (store/lanes.py) ORM commands share."""
    if session.autoflush:
        session.flush()
    con: sqlite3.Connection = session.connection().connection.dbapi_connection  # type: ignore[assignment]
    return con


def sql_time(value: datetime) -> str:
    """A timezone-aware time as the store keeps it: UTC, without offset, with microseconds,
    exactly as SQLAlchemy's SQLite ``DateTime`` writes the ``UtcDateTime`` columns."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def time_of(text: str) -> datetime:
    """A stored UTC time back as an aware datetime (as ``UtcDateTime`` reads it)."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _begin_immediate(con: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, tried again after a short random pause while the store is busy
    (as ``Store._locked_session``), until ``WRITE_WAIT_S`` have passed."""
    deadline = time.monotonic() + WRITE_WAIT_S
    pause = 0.005
    while True:
        try:
            con.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            text = str(exc)
            busy = "locked" in text or "busy" in text
            if not busy or time.monotonic() + pause >= deadline:
                raise
        time.sleep(pause * _JITTER.uniform(0.5, 1.5))
        pause = min(pause * 2, 0.25)


def _store_state(db: Path) -> tuple[str | None, bool, bool]:
    """The store's schema revision, whether it has a business table, whether its station
    key (if any) is kept hashed: read with plain sqlite3, without SQLAlchemy."""
    if not db.exists():
        return (None, False, False)
    con = sqlite3.connect(db)
    try:
        try:
            (rev,) = con.execute("select version_num from alembic_version").fetchone() or (None,)
        except sqlite3.OperationalError:  # a new, empty store
            return (None, False, False)
        has_types = con.execute("select 1 from business_type limit 1").fetchone() is not None
        key = con.execute("select value from setting where key = ?", (STATION_KEY,)).fetchone()
        return (rev, has_types, key is None or key[0].startswith(STATION_KEY_DIGEST))
    finally:
        con.close()


def _is_operational(exc: BaseException) -> bool:
    """SQLAlchemy's OperationalError, without importing SQLAlchemy to ask."""
    sa_exc = sys.modules.get("sqlalchemy.exc")
    return sa_exc is not None and isinstance(exc, sa_exc.OperationalError)


def _is_busy(exc: OperationalError) -> bool:
    text = str(exc.orig)
    return "locked" in text or "busy" in text


def _environment_error(exc: BaseException, db: Path) -> LobbyError:
    text = str(getattr(exc, "orig", None) or exc)
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


# What the app keeps in its data directory; anything else a person put there is theirs.
OWN_FOLDERS = frozenset({"tickets", "reports", "backups"})
_OWN_SUFFIXES = (".sqlite3", ".sqlite3-wal", ".sqlite3-shm", ".sqlite3-journal", ".key", ".pdf")


def _own_file(name: str) -> bool:
    return name.endswith(_OWN_SUFFIXES) or name.startswith((DB_NAME, KEY_NAME))


def secure_data_dir(path: Path) -> None:
    """Only this user may read the branch's files: the store (names, PIN hashes), its WAL,
    the hash key, the head-office demo store, ticket PDFs, backups. Group and other access
    is taken off the data directory and what is in it (0700, 0600), and this process
    creates files without group or other access from now on (umask 077).

    The app's files directly in the directory are checked at every open (a few); its
    folders (tickets, reports, backups) are walked only while still open to others, so an
    old store is put right once. Symbolic links, other users' files and files the app does
    not make are left alone. Not on Windows, where the user profile's ACLs do this
    (DOMAIN.md "Confidentiality")."""
    if os.name != "posix":
        return
    os.umask(os.umask(0o077) | 0o077)  # tighten, never loosen, what the caller had
    _private(path)
    try:
        entries = list(os.scandir(path))
    except OSError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False) and entry.name in OWN_FOLDERS:
            if _private(Path(entry.path)):
                for root, dirs, files in os.walk(entry.path):
                    for name in dirs:
                        _private(Path(root) / name)
                    for name in files:
                        _private(Path(root) / name)
        elif entry.is_file(follow_symlinks=False) and _own_file(entry.name):
            _private(Path(entry.path))


def _private(path: Path) -> bool:
    """Take group and other access off ``path`` (0644 -> 0600, 0755 -> 0700, 0444 -> 0400);
    whether it had any. Another user's file, a link or a vanished file is left as it is."""
    try:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode) or st.st_uid != os.geteuid():
            return False
        if st.st_mode & 0o077:
            os.chmod(path, stat.S_IMODE(st.st_mode) & ~0o077)
            return True
    except OSError:
        pass  # not ours to change, or gone: the directory's 0700 still guards it
    return False


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
