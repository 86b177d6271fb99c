"""Backups of the branch store and restoring one: SQLite's online backup, safe while the hub
and the desks write.

``backup`` copies the store in one step from a read snapshot (WAL: writers go on while it
reads) into a temporary file beside the target, checks the copy and renames it into place as
``branch-<code>-<YYYYmmdd-HHMMSS>.sqlite3`` (branch time), one self-contained file (rollback
journal), readable by its owner only; the oldest beyond ``keep`` are removed. The hub makes
one each night before the sync (``nightly_backup``) in ``<data dir>/backups``.

``restore`` puts such a file back: refused while a hub holds the store (``HubPresence``),
after checking that the file is a lobby store (integrity, schema revision, same branch), with
the current store kept as a safety copy. The file is written into the live database through
the same backup API, under SQLite's own locks, so a command running meanwhile sees the old
store or the new one, never a mixture. The restored store then starts a new sync epoch and
takes the branch over at the next sync, which sends whatever head office lacks
(``sync.identity``). The ID-hash key (``id-hash.key`` or ``LOBBY_ID_HASH_KEY``) is not in a
backup: it stays where it is.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import socket
import sqlite3
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.core.limits import BACKUPS_KEPT
from lobby_app.models.base import utcnow
from lobby_app.store.db import DB_NAME, Store

log = logging.getLogger(__name__)

BACKUP_DIR = "backups"
KEEP = BACKUPS_KEPT  # nightly backups kept
NIGHTLY_GAP = timedelta(hours=12)  # a retried nightly run does not back up again
LOCK_NAME = "hub.lock"
BUSY_MS = 30_000
UNCONFIGURED_BRANCH = "0000"  # DEFAULT_SETTINGS' branch code: a PC not set up yet
_NAME = re.compile(r"^branch-(?P<code>.+)-(?P<at>\d{8}-\d{6})(?:-\d+)?\.sqlite3$")


def backup_dir(store: Store) -> Path:
    return store.data_dir / BACKUP_DIR


def _safe(code: str) -> str:
    return re.sub(r"[^0-9A-Za-z_-]", "_", code) or "branch"


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # not every file system keeps modes
        path.chmod(0o700)


# ---------------------------------------------------------------- backup


@dataclass(frozen=True)
class BackupResult:
    path: Path
    bytes: int
    seconds: float
    removed: list[Path] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["path"] = str(self.path)
        out["removed"] = [str(p) for p in self.removed]
        return out


def _copy(src_path: Path, dest: Path) -> None:
    """One consistent copy, in one step (a step-wise copy starts over whenever another
    connection writes, so under a busy hub it might never finish)."""
    src = sqlite3.connect(src_path, timeout=BUSY_MS / 1000)
    try:
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.close(fd)
        dst = sqlite3.connect(dest)
        try:
            src.backup(dst)
            # one self-contained file: no -wal beside it to lose
            dst.execute("PRAGMA journal_mode=DELETE")
            ok = dst.execute("PRAGMA quick_check").fetchone()[0]
            if ok != "ok":
                raise LobbyError("backup_failed", tr(f"备份文件校验失败：{ok}"))
        finally:
            dst.close()
    finally:
        src.close()
    with open(dest, "rb") as fh:
        os.fsync(fh.fileno())


def backup(
    store: Store,
    to: Path | str | None = None,
    *,
    keep: int | None = KEEP,
    now: datetime | None = None,
    prefix: str = "branch",
) -> BackupResult:
    """Copy the store into ``to`` (default ``<data dir>/backups``) and keep the newest
    ``keep`` backups of this branch there (None: keep all)."""
    from lobby_app.store.commands import settings

    if keep is not None and keep < 1:
        raise LobbyError("bad_keep", tr("--keep 至少为 1"), field="keep")
    from sqlalchemy.exc import OperationalError

    from lobby_app.sync.identity import local_identity

    st = settings(store)
    # the copy carries the store's sync identity, so a restore of it is known at head office
    # (a store too busy to start one now is copied all the same)
    with contextlib.suppress(OperationalError):
        local_identity(store, st.branch_code)
    folder = Path(to) if to is not None else backup_dir(store)
    started = time.perf_counter()
    at = (now or utcnow()).astimezone(st.tz)
    stem = f"{prefix}-{_safe(st.branch_code)}-{at:%Y%m%d-%H%M%S}"
    try:
        _private_dir(folder)
        dest = folder / f"{stem}.sqlite3"
        n = 1
        while dest.exists():
            dest = folder / f"{stem}-{n}.sqlite3"
            n += 1
        tmp = folder / f".{dest.name}.part"
        try:
            _copy(store.db_path, tmp)
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
        removed = _prune(folder, st.branch_code, keep) if keep is not None else []
    except sqlite3.Error as exc:
        raise LobbyError("backup_failed", tr(f"备份失败：{exc}。本机数据未受影响。")) from exc
    except OSError as exc:
        raise LobbyError(
            "backup_failed",
            tr(f"无法写入备份目录 {folder}（{exc.strerror or exc}）。请检查磁盘空间和权限。"),
        ) from exc
    _note(store, dest)
    result = BackupResult(
        dest, dest.stat().st_size, round(time.perf_counter() - started, 3), removed
    )
    log.info("backup: %s (%d bytes)", dest, result.bytes)
    return result


def _note(store: Store, dest: Path) -> None:
    """When and where the last backup went (``sync-status``). The backup is made whatever
    happens here: a store too busy to note it loses only the note."""
    from sqlalchemy.exc import OperationalError

    from lobby_app.sync.identity import put_state

    try:
        with store.engine.execution_options(immediate=True).begin() as conn:
            put_state(conn, {"last_backup_at": utcnow().isoformat(), "last_backup": str(dest)})
    except OperationalError as exc:
        log.warning("backup made (%s) but not noted in the store: %s", dest, exc)


def backups(folder: Path, branch_code: str) -> list[Path]:
    """This branch's backups in a folder, oldest first."""
    code = _safe(branch_code)
    found = []
    for p in folder.glob(f"branch-{code}-*.sqlite3"):
        m = _NAME.match(p.name)
        if m and m.group("code") == code:
            found.append(p)
    return sorted(found, key=lambda p: (_NAME.match(p.name).group("at"), p.name))  # type: ignore[union-attr]


def _prune(folder: Path, branch_code: str, keep: int) -> list[Path]:
    old = backups(folder, branch_code)[:-keep]
    for p in old:
        p.unlink(missing_ok=True)
    return old


def nightly_backup(store: Store, *, now: datetime | None = None) -> BackupResult | None:
    """The hub's backup before the nightly sync; none if one was made in the last hours (a
    sync retried after a failure does not back up again)."""
    from lobby_app.store.commands import settings

    folder = backup_dir(store)
    have = backups(folder, settings(store).branch_code) if folder.exists() else []
    when = now or utcnow()
    if have and when.timestamp() - have[-1].stat().st_mtime < NIGHTLY_GAP.total_seconds():
        return None
    return backup(store, keep=KEEP, now=now)


# ---------------------------------------------------------------- the hub's hold on the store


class HubPresence:
    """A running hub (``lobby-app hub`` or the desk's) holds ``<data dir>/hub.lock`` with an
    OS lock for its lifetime; a restore refuses while it is held. The OS drops the lock when
    the process ends, however it ends."""

    def __init__(self, fh: IO[str], path: Path) -> None:
        self._fh: IO[str] | None = fh
        self.path = path

    @classmethod
    def take(cls, data_dir: Path) -> HubPresence | None:
        """Hold the store; None if another hub (or a restore) holds it."""
        path = Path(data_dir) / LOCK_NAME
        try:
            fh = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the lifetime
        except OSError:
            return None
        if not _lock(fh):
            fh.close()
            return None
        with contextlib.suppress(OSError):
            fh.seek(0)
            fh.truncate()
            fh.write(f"{os.getpid()} {socket.gethostname()}\n")
            fh.flush()
        return cls(fh, path)

    def release(self) -> None:
        if self._fh is None:
            return
        with contextlib.suppress(OSError):
            _unlock(self._fh)
        self._fh.close()
        self._fh = None


def _lock(fh: IO[str]) -> bool:
    try:
        if sys.platform == "win32":  # pragma: no cover - Windows only
            import msvcrt

            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(fh: IO[str]) -> None:
    if sys.platform == "win32":  # pragma: no cover - Windows only
        import msvcrt

        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def hub_holds(data_dir: Path) -> bool:
    held = HubPresence.take(data_dir)
    if held is None:
        return True
    held.release()
    return False


# ---------------------------------------------------------------- restore


@dataclass(frozen=True)
class BackupInfo:
    """What a backup file holds, as checked before it is restored."""

    path: Path
    branch_code: str
    branch_name: str
    revision: str
    tickets: int
    last_business_date: str | None
    bytes: int

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["path"] = str(self.path)
        return out


def _known_revisions() -> list[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from lobby_app.store.migrate import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return [s.revision for s in ScriptDirectory.from_config(cfg).walk_revisions()]


def _not_a_store(path: Path, why: str) -> LobbyError:
    return LobbyError(
        "bad_backup", tr(f"{path} 不是可用的网点数据库备份：{why}。本机数据未改动。"), field="file"
    )


def inspect_backup(path: Path) -> BackupInfo:
    """Check a file is a whole lobby store of a schema this program knows; say what it holds."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise LobbyError(
            "bad_backup", tr(f"无法读取备份文件 {path}（{exc.strerror or exc}）"), field="file"
        ) from exc
    if head != b"SQLite format 3\x00":
        raise _not_a_store(path, tr("不是 SQLite 数据库文件"))
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise _not_a_store(path, str(exc)) from exc
    try:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise _not_a_store(path, tr(f"完整性检查未通过（{check}）"))
        tables = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
        if not {"alembic_version", "setting", "ticket", "change_log", "sync_state"} <= tables:
            raise _not_a_store(path, tr("缺少网点数据库的表"))
        revision = str(conn.execute("select version_num from alembic_version").fetchone()[0])
        values = dict(conn.execute("select key, value from setting").fetchall())
        tickets = int(conn.execute("select count(*) from ticket").fetchone()[0])
        last = conn.execute("select max(business_date) from ticket").fetchone()[0]
    except sqlite3.Error as exc:
        raise _not_a_store(path, str(exc)) from exc
    finally:
        conn.close()
    if revision not in _known_revisions():
        raise _not_a_store(path, tr(f"数据库结构版本 {revision} 来自更新的程序，请先升级本机程序"))
    from lobby_app.store.setup import DEFAULT_SETTINGS

    return BackupInfo(
        path=path,
        branch_code=values.get("branch_code", DEFAULT_SETTINGS["branch_code"]),
        branch_name=values.get("branch_name", DEFAULT_SETTINGS["branch_name"]),
        revision=revision,
        tickets=tickets,
        last_business_date=str(last) if last else None,
        bytes=path.stat().st_size,
    )


@dataclass(frozen=True)
class RestoreResult:
    restored_from: Path
    safety_copy: Path
    info: BackupInfo

    def as_json(self) -> dict[str, Any]:
        return {
            "restored_from": str(self.restored_from),
            "safety_copy": str(self.safety_copy),
            "backup": self.info.as_json(),
        }


def restore_warning(info: BackupInfo, current_code: str) -> str:
    """What a restore does, said before it is confirmed."""
    last = info.last_business_date or tr("无")
    return tr(
        f"将用备份 {info.path.name} 覆盖本机网点数据库（网点 {info.branch_code} {info.branch_name}，"
        f"{info.tickets} 张票，最后营业日 {last}）。备份之后本机新增或修改的数据将从本机消失"
        "（已同步到总行的仍保留在总行）；当前数据库会先另存一份安全副本。"
        f"恢复后下次同步会补传总行缺少的数据，并由本机接管网点 {info.branch_code} 的上传"
        "（如有另一台主机仍在上传该网点，它此后会被总行拒绝）。"
        "请先关闭工作台和网点主机。确认无误后加 --yes 再运行。"
    )


def restore(data_dir: Path | str, file: Path | str, *, confirmed: bool) -> RestoreResult:
    """Put a backup back as the store of ``data_dir`` (see the module's docstring)."""
    data_dir, file = Path(data_dir), Path(file)
    info = inspect_backup(file)
    held = HubPresence.take(data_dir) if data_dir.exists() else None
    if data_dir.exists() and held is None:
        raise LobbyError(
            "hub_running",
            tr(
                "网点主机（工作台或 lobby-app hub）正在使用本机数据，不能恢复。"
                "请先关闭所有工作台和网点主机，再运行恢复。本机数据未改动。"
            ),
        )
    try:
        store = Store.open(data_dir)
        try:
            from lobby_app.store.commands import settings

            current = settings(store).branch_code
            if current not in (UNCONFIGURED_BRANCH, info.branch_code):
                raise LobbyError(
                    "backup_other_branch",
                    tr(
                        f"备份属于网点 {info.branch_code}，本机是网点 {current}，不能恢复。"
                        "请选本网点的备份文件。本机数据未改动。"
                    ),
                    field="file",
                )
            if not confirmed:
                raise LobbyError("confirm_restore", restore_warning(info, current))
            safety = backup(store, keep=None, prefix="before-restore").path
        finally:
            store.close()
        _write_into(file, data_dir / DB_NAME)
        store = Store.open(data_dir)  # a backup of an older program is migrated here
        try:
            _after_restore(store, info, safety)
        finally:
            store.close()
    finally:
        if held is not None:
            held.release()
    log.warning("store restored from %s (safety copy %s)", file, safety)
    return RestoreResult(file, safety, info)


def _write_into(file: Path, live: Path) -> None:
    """The backup's pages into the live database, as one write transaction under SQLite's
    locks (a reader sees the old store or the new one)."""
    staged = live.with_name(f".restore-{os.getpid()}.sqlite3")
    try:
        shutil.copyfile(file, staged)
        wal = file.with_name(file.name + "-wal")
        if wal.exists():  # a copy of a live store: its last changes are in the WAL
            shutil.copyfile(wal, staged.with_name(staged.name + "-wal"))
        src = sqlite3.connect(staged)
        dst = sqlite3.connect(live, timeout=BUSY_MS / 1000)
        try:
            dst.execute("PRAGMA journal_mode=WAL")
            src.backup(dst)
            ok = dst.execute("PRAGMA quick_check").fetchone()[0]
            if ok != "ok":
                raise LobbyError("restore_failed", tr(f"恢复后的数据库校验失败：{ok}"))
        finally:
            src.close()
            dst.close()
    except sqlite3.Error as exc:
        raise LobbyError("restore_failed", tr(f"恢复失败：{exc}。")) from exc
    finally:
        for p in (staged, *(staged.with_name(staged.name + s) for s in ("-wal", "-shm"))):
            p.unlink(missing_ok=True)


def _after_restore(store: Store, info: BackupInfo, safety: Path) -> None:
    """A new sync epoch that takes the branch over at the next sync; an audit record."""
    from sqlalchemy import text

    from lobby_app.models.base import new_id
    from lobby_app.store.commands import settings
    from lobby_app.sync.identity import RESTORE, put_state, start_epoch

    code = settings(store).branch_code
    with store.engine.execution_options(immediate=True).begin() as conn:
        start_epoch(conn, "restored", code, store.data_dir)
        put_state(conn, {"take_over": RESTORE})
        conn.execute(
            text(
                "insert into audit_event (id, at, actor, action, detail)"
                " values (:id, :at, 'restore', 'store_restored', :d)"
            ),
            {
                "id": new_id(),
                "at": utcnow().replace(tzinfo=None),
                "d": tr(
                    f"从备份 {info.path.name} 恢复网点数据库（最后营业日 "
                    f"{info.last_business_date or '无'}），原数据库另存为 {safety.name}"
                ),
            },
        )
