"""Who sends: the store's identity and epoch, and head office's record of which store owns a
branch code.

A store gets an identity (a random id) the first time it syncs, and an epoch: a new one
whenever its history may have forked from what head office acknowledged: a restore from a
backup (``lobby-app restore``, or a file put back by hand: found because the store no longer
has the change head office last acknowledged), a copy of the data folder (another PC or
folder: the epoch remembers where it started) or a new branch code. Head office keeps its
high-water mark per (branch, store, epoch), so a restored store's new change numbers never
meet a mark its own past set; a new epoch sends whatever head office lacks (``op = 'i'``:
insert when missing, keep head office's row otherwise, as it may be newer than the backup).

Head office also records which epoch owns a branch code (``branch.owner_*``). Another store
claiming the code is refused, with what to do; a store put back on the PC and in the folder
that owned the branch takes it over by itself; a new PC takes it over explicitly
(``lobby-app sync --take-over-branch``, or ``lobby-app restore`` for the next sync), and
head office records each move (``branch_takeover``).
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import os
import socket
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import Connection

from lobby_app import __version__
from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.headoffice import schema as ho
from lobby_app.models.base import utcnow
from lobby_app.store.db import Store
from lobby_app.store.setup import BranchSettings

log = logging.getLogger(__name__)

# how a branch moved from one store to another (head office's ``branch_takeover.how``)
TAKE_OVER = "take_over"  # lobby-app sync --take-over-branch
RESTORE = "restore"  # lobby-app restore: the next sync takes the branch over
SAME_PLACE = "same_place"  # a store put back by hand (or started afresh) where the owner ran


@dataclass(frozen=True)
class Identity:
    store_id: str
    epoch: str
    reason: str  # why the epoch started: new / restored / copied / branch_changed
    started_at: str  # ISO, UTC
    place: str  # this PC and data folder (a fingerprint)
    host: str  # this PC's name, for people
    registered: bool  # head office has acknowledged this epoch
    take_over: str  # "" or how the next sync takes the branch over (RESTORE)

    @property
    def short(self) -> str:
        return f"{self.store_id[:8]}/{self.epoch[:8]}"


def host_name() -> str:
    return socket.gethostname()[:120]


def _machine_id() -> str:
    """This computer's own id (not its name, which people change), where the OS keeps one."""
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            value = Path(path).read_text().strip()
        except OSError:
            continue
        if value:
            return value
    if sys.platform == "win32":  # pragma: no cover - Windows only
        try:
            import winreg

            with winreg.OpenKey(
                winreg.HKEY_LOCAL_MACHINE, r"SOFTWARE\Microsoft\Cryptography"
            ) as key:
                return str(winreg.QueryValueEx(key, "MachineGuid")[0])
        except OSError:
            pass
    return host_name()


def place_of(data_dir: Path) -> str:
    """Where a store runs: this computer (its id and its name: PCs installed from one disk
    image may share the id) and its data folder. A copied folder (another PC, another
    folder) is somewhere else, so the copy starts its own epoch."""
    where = f"{_machine_id()}|{host_name()}|{Path(data_dir).resolve()}"
    return hashlib.sha256(where.encode()).hexdigest()[:32]


# ---------------------------------------------------------------- the store's side


def _state(conn: Connection) -> dict[str, str]:
    return {k: v for k, v in conn.execute(text("select key, value from sync_state"))}


def put_state(conn: Connection, values: dict[str, str]) -> None:
    for k, v in values.items():
        conn.execute(
            text(
                "insert into sync_state (key, value) values (:k, :v)"
                " on conflict (key) do update set value = excluded.value"
            ),
            {"k": k, "v": v},
        )


def _identity(state: dict[str, str], place: str) -> Identity:
    return Identity(
        store_id=state["store_id"],
        epoch=state["epoch"],
        reason=state.get("epoch_reason", "new"),
        started_at=state.get("epoch_started_at", ""),
        place=place,
        host=host_name(),
        registered=state.get("epoch_registered") == "1",
        take_over=state.get("take_over", ""),
    )


def start_epoch(conn: Connection, reason: str, branch: str, data_dir: Path) -> None:
    """Begin a new epoch in the store (the caller's local write transaction). Head office
    has not acknowledged it yet; the next sync sends what head office lacks."""
    state = _state(conn)
    values = {
        "epoch": str(uuid.uuid4()),
        "epoch_reason": reason,
        "epoch_started_at": utcnow().isoformat(),
        "epoch_place": place_of(data_dir),
        "epoch_branch": branch,
        "epoch_registered": "",
    }
    if "store_id" not in state:
        values["store_id"] = str(uuid.uuid4())
    put_state(conn, values)
    log.info("sync: new epoch (%s) for branch %s", reason, branch)


def local_identity(store: Store, branch: str) -> tuple[Identity, str | None]:
    """The store's identity, starting its first epoch, or a new one when the store was
    copied to another PC or folder or its branch code changed. Returns the identity and the
    reason of an epoch started now (None when it continues)."""
    place = place_of(store.data_dir)

    def needed(state: dict[str, str]) -> str | None:
        if "store_id" not in state or "epoch" not in state:
            return "new"
        if state.get("epoch_place") != place:
            return "copied"
        if state.get("epoch_branch", branch) != branch:
            return "branch_changed"
        return None

    with store.engine.connect() as c:  # mostly nothing to change: no write lock for that
        state = _state(c)
    if needed(state) is None:
        return _identity(state, place), None
    with store.engine.execution_options(immediate=True).begin() as lc:
        state = _state(lc)
        reason = needed(state)
        if reason is not None:
            start_epoch(lc, reason, branch, store.data_dir)
            state = _state(lc)
        return _identity(state, place), reason


def forked(conn: Connection, high_water: int, last_change: str, acked: int) -> bool:
    """Has the store's history forked from what head office acknowledged for its epoch?
    Head office acknowledged up to ``high_water``; the store knows of ``acked``. Ahead of the
    store is fine only if the store still has, at that number, the very change head office
    names (a sync cut after head office committed and before the store pruned)."""
    if high_water <= acked:
        return False
    row = conn.execute(
        text("select seq, tbl, row_id, op from change_log where seq = :s"), {"s": high_water}
    ).one_or_none()
    return row is None or change_token(*row) != last_change


def change_token(seq: int, tbl: str, row_id: str, op: str) -> str:
    return f"{seq}:{tbl}:{row_id}:{op}"[:160]


# ---------------------------------------------------------------- head office's side


@dataclass(frozen=True)
class Claim:
    """What head office said when the store claimed its branch."""

    high_water: int
    last_change: str
    created: bool  # head office had no record of this epoch
    took_over_from: str | None  # the host the branch was taken from, if it moved now
    how: str | None
    notes: tuple[str, ...] = ()  # settings head office keeps shortened
    branch_known: bool = False  # head office had the branch before this claim


def check_branch_code(branch: str) -> None:
    """The branch code is every head-office row's key: one head office cannot hold is
    refused before anything is sent."""
    limit = ho.branch.c.branch_code.type.length  # type: ignore[attr-defined]
    if len(branch) > limit or "\x00" in branch or not branch.strip():
        raise LobbyError(
            "bad_branch_code",
            tr(
                f"网点编号“{branch[:40]}”不符合总行要求（不超过 {limit} 位）。请在 设置 中改为"
                "总行分配的网点编号（lobby-app settings branch_code=编号）后再同步。"
                "本机数据完好，待上传的数据都保留在本机。"
            ),
            field="branch_code",
        )


def _branch_values(st: BranchSettings) -> tuple[dict[str, str], list[str]]:
    """The branch's names as head office can hold them, and what had to be shortened."""
    values: dict[str, str] = {}
    notes: list[str] = []
    for key, label in (
        ("bank_name", "银行名称"),
        ("branch_name", "网点名称"),
        ("timezone", "时区"),
    ):
        raw = str(getattr(st, key)).replace("\x00", "")
        limit = ho.branch.c[key].type.length  # type: ignore[attr-defined]
        if len(raw) > limit:
            notes.append(
                tr(
                    f"{label}有 {len(raw)} 字，超过总行上限 {limit} 字：总行只保存前 {limit} 字，"
                    "请在 设置 中改短"
                )
            )
        values[key] = raw[:limit]
    return values, notes


def epoch_row(conn: Connection, branch: str, ident: Identity) -> dict[str, Any] | None:
    t = ho.store_epoch
    row = conn.execute(
        select(t).where(
            t.c.branch_code == branch, t.c.store_id == ident.store_id, t.c.epoch == ident.epoch
        )
    ).one_or_none()
    return dict(row._mapping) if row is not None else None


def legacy_mark(conn: Connection, branch: str) -> int | None:
    """A branch row an older program left (no owner): its single high-water mark."""
    b = ho.branch
    row = conn.execute(
        select(b.c.high_water, b.c.owner_store_id).where(b.c.branch_code == branch)
    ).one_or_none()
    if row is None or row.owner_store_id is not None:
        return None
    return int(row.high_water)


def claim(
    conn: Connection,
    branch: str,
    st: BranchSettings,
    ident: Identity,
    *,
    take_over: str | None,
    start_mark: int,
) -> Claim:
    """Make sure head office knows this epoch and that it owns the branch code (in the
    caller's head-office transaction). Refuses (``branch_claimed``) another store's claim
    unless it takes the branch over."""
    b = ho.branch
    now = utcnow()
    names, notes = _branch_values(st)
    have = conn.execute(select(b.c.branch_code).where(b.c.branch_code == branch)).scalar()
    if have is None:
        conn.execute(
            insert(b).values(
                branch_code=branch,
                **names,
                high_water=0,
                first_sync_at=now,
                client_version=__version__,
            )
        )
    q = select(b).where(b.c.branch_code == branch)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()  # two stores claiming at once: one waits for the other
    row = conn.execute(q).one()
    owner = (row.owner_store_id, row.owner_epoch)
    mine = (ident.store_id, ident.epoch)
    took_from: str | None = None
    how: str | None = None
    if owner != mine and row.owner_store_id is not None:
        previous = _epoch(conn, branch, row.owner_store_id, row.owner_epoch)
        # the owner ran on this PC in this folder: this store took its place (put back from
        # a copy, or started afresh there); two stores cannot both live in one folder
        same_place = previous is not None and previous["place"] == ident.place
        how = take_over or (SAME_PLACE if same_place else None)
        if how is None:
            raise _refusal(conn, branch, st, ident, previous)
        took_from = previous["host"] if previous is not None else ""
        conn.execute(
            insert(ho.branch_takeover).values(
                branch_code=branch,
                at=now,
                how=how,
                from_store_id=row.owner_store_id,
                from_epoch=row.owner_epoch,
                from_host=took_from,
                to_store_id=ident.store_id,
                to_epoch=ident.epoch,
                to_host=ident.host,
                note=tr(f"操作系统用户 {_os_user()}，程序 {__version__}")[:200],
            )
        )
        log.warning("sync: branch %s taken over (%s) from %s", branch, how, took_from)
    conn.execute(
        update(b)
        .where(b.c.branch_code == branch)
        .values(
            **names,
            owner_store_id=ident.store_id,
            owner_epoch=ident.epoch,
            owner_since=row.owner_since if owner == mine else now,
        )
    )
    existing = epoch_row(conn, branch, ident)
    if existing is None:
        conn.execute(
            insert(ho.store_epoch).values(
                branch_code=branch,
                store_id=ident.store_id,
                epoch=ident.epoch,
                reason=ident.reason[:16],
                host=ident.host,
                place=ident.place,
                high_water=start_mark,
                started_at=datetime.fromisoformat(ident.started_at) if ident.started_at else now,
                first_sync_at=now,
                client_version=__version__,
            )
        )
        return Claim(start_mark, "", True, took_from, how, tuple(notes), have is not None)
    return Claim(
        int(existing["high_water"]),
        str(existing["last_change"]),
        False,
        took_from,
        how,
        tuple(notes),
        have is not None,
    )


def _epoch(conn: Connection, branch: str, store_id: str, epoch: str) -> dict[str, Any] | None:
    t = ho.store_epoch
    row = conn.execute(
        select(t).where(t.c.branch_code == branch, t.c.store_id == store_id, t.c.epoch == epoch)
    ).one_or_none()
    return dict(row._mapping) if row is not None else None


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment
        return os.environ.get("USERNAME", "?")


def _when(at: Any, st: BranchSettings) -> str:
    if not isinstance(at, datetime):
        return tr("未知")
    if at.tzinfo is None:  # SQLite head office: UTC without a zone
        from datetime import UTC

        at = at.replace(tzinfo=UTC)
    return str(at.astimezone(st.tz).strftime("%Y-%m-%d %H:%M"))


def _refusal(
    conn: Connection,
    branch: str,
    st: BranchSettings,
    ident: Identity,
    owner: dict[str, Any] | None,
) -> LobbyError:
    host = owner["host"] if owner else tr("未知主机")
    when = _when(owner["last_sync_at"] or owner["first_sync_at"], st) if owner else tr("未知")
    keep = tr("本机数据完好，待上传的数据都保留在本机。")
    moved = conn.execute(
        select(ho.branch_takeover.c.at, ho.branch_takeover.c.to_host)
        .where(
            ho.branch_takeover.c.branch_code == branch,
            ho.branch_takeover.c.from_store_id == ident.store_id,
            ho.branch_takeover.c.from_epoch == ident.epoch,
        )
        .order_by(ho.branch_takeover.c.at.desc())
        .limit(1)
    ).one_or_none()
    if moved is not None:
        return LobbyError(
            "branch_claimed",
            tr(
                f"网点 {branch} 已于 {_when(moved.at, st)} 由主机 {moved.to_host} 接管（换机或从备份恢复）。"
                "本机不再向总行上传，以免覆盖新主机的数据。若接管是误操作，请先停用新主机，"
                f"再在本机运行 lobby-app sync --take-over-branch。{keep}"
            ),
        )
    if owner is not None and owner["store_id"] == ident.store_id:
        return LobbyError(
            "branch_claimed",
            tr(
                f"网点 {branch} 在总行由另一台电脑或另一个数据目录里的同一个网点数据库上传"
                f"（主机 {host}，最近同步 {when}）：本机的数据是从那里复制来的，两份副本不能都上传。"
                "若本机是替换旧主机的新主机，请确认旧主机已停用后运行 "
                f"lobby-app sync --take-over-branch；否则请不要在本机同步。{keep}"
            ),
        )
    return LobbyError(
        "branch_claimed",
        tr(
            f"网点编号 {branch} 在总行已属于另一台主机上的网点数据库（主机 {host}，最近同步 {when}），"
            "本机没有覆盖它的数据。若网点编号填错了，请在 设置 中改为本网点的编号"
            "（lobby-app settings branch_code=编号）；若本机是该网点的新主机（换机或从备份恢复），"
            f"请确认旧主机已停用后运行 lobby-app sync --take-over-branch。{keep}"
        ),
    )
