"""Loading the customer directory into the store: upsert by customer number.

A file is read as a stream (``import_file``): rows are checked one by one, and the good ones
go in by bulk upserts (``INSERT ... ON CONFLICT(customer_no) DO UPDATE``) in batches sized so
that each write transaction takes ~25 ms, so a ticket issued meanwhile waits for one batch,
never for the whole file. Memory stays flat: only the customer numbers seen (for repeats),
the special-approval rows' numbers and a bounded list of errors are held.

Each batch's transaction also moves the file's checkpoint (``import_checkpoint``: the file's
fingerprint, the byte offset and line after the last row written, the counts so far). An
import that stopped half-way (a crash, a power cut) is continued by running it again on the
same file: the rows already written are read again (for the checks that span the file:
repeated numbers, the special-card share, the report) but not written again. A finished
import clears its checkpoint. A file that is not well-formed CSV is refused before anything
is written; ``strict`` checks every row in a first pass that holds no records.

Special-approval cards (特批) stay within the branch's share of its VIP card holders
(``special_vip_max_pct``, 003 第十二条 2: 5 %): past it, the file's last special rows are taken
in as due for downgrade, each flagged on its line."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO, cast

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from lobby_app.core.customer_csv import (
    CustomerRecord,
    DirectoryRows,
    FileLines,
    ParseResult,
    RowError,
    scan_csv_bytes,
)
from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.core.identity import keyed_hasher
from lobby_app.core.ids import RisingIds
from lobby_app.core.search import name_pinyin
from lobby_app.core.tiers import VipCard, tier_for, vip_card_for
from lobby_app.models import AuditEvent, Customer
from lobby_app.models.base import utcnow
from lobby_app.store.db import Store
from lobby_app.store.db import _environment_error as environment_error
from lobby_app.store.downsync import CUSTOMER_FIELDS, stored_date, stored_stamp
from lobby_app.store.setup import load_settings
from lobby_app.store.views import ImportReport

BATCH_SECONDS = 0.025  # the time one batch's statements aim at (its commit comes on top)
FIRST_BATCH = 500  # rows in the first batch, before the write speed is known
BATCH_MIN, BATCH_MAX = 100, 20_000
CACHE_KIB = 64 * 1024  # the import connection's page cache
LISTED_MAX = 10_000  # errors (and flags) listed in a report; past it they are only counted
PROGRESS_EVERY_S = 0.1

# A frozen copy of migration 0010's table (it is the store's own bookkeeping, not a model).
CHECKPOINTS = Table(
    "import_checkpoint",
    MetaData(),
    Column("fingerprint", String(64), primary_key=True),
    Column("source", String(200), nullable=False),
    Column("byte_offset", Integer, nullable=False),
    Column("line", Integer, nullable=False),
    Column("created", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

_CUSTOMER = cast(Table, Customer.__table__)
# every column an import fills; ``id`` and ``source`` only when the customer is new
_FILLED = (*CUSTOMER_FIELDS, "pinyin_full", "pinyin_initials", "updated_at")


_COLUMNS = ("id", "customer_no", *_FILLED, "source")  # the table's order


def _upsert() -> str:
    """The bulk upsert, built with SQLAlchemy Core and compiled once for SQLite: rows go to
    the driver's ``executemany`` as tuples in ``_COLUMNS`` order (the date and the timestamp
    as ``downsync.stored_date``/``stored_stamp`` give them), without SQLAlchemy's per-row
    parameter handling (two thirds of the write time with it)."""
    ins = sqlite_insert(_CUSTOMER).values({name: bindparam(name) for name in _COLUMNS})
    new = ins.excluded
    values: dict[str, Any] = {name: new[name] for name in _FILLED}
    # a row without an ID number keeps the gender the store had (as the ORM import did)
    values["gender"] = func.coalesce(new.gender, _CUSTOMER.c.gender)
    stmt = ins.on_conflict_do_update(index_elements=[_CUSTOMER.c.customer_no], set_=values)
    dialect = sqlite_dialect()
    compiled = stmt.compile(dialect=dialect)
    if tuple(compiled.positiontup or ()) != _COLUMNS:
        raise RuntimeError(f"upsert parameters out of order: {compiled.positiontup}")
    return str(compiled)


_UPSERT_SQL = _upsert()


@dataclass(frozen=True)
class ImportProgress:
    """How far an import is, for a progress bar: ``phase`` is ``check`` (reading the file
    through before anything is written) or ``import`` (writing), ``done`` at the end."""

    phase: str
    rows: int  # data rows read in this phase
    written: int  # rows written (new or updated), with those of a resumed earlier run
    bytes_done: int
    bytes_total: int
    rows_per_s: float
    resumed_from_line: int = 0

    @property
    def fraction(self) -> float:
        """0..1 of the whole import (the check takes the first tenth when there is one)."""
        part = self.bytes_done / self.bytes_total if self.bytes_total else 1.0
        if self.phase == "check":
            return 0.1 * part
        if self.phase == "done":
            return 1.0
        return 0.1 + 0.9 * part


ProgressCallback = Callable[[ImportProgress], None]


def progress_text(p: ImportProgress, width: int = 30) -> str:
    """One line for a terminal: a bar, the percent, rows and rows per second."""
    filled = int(p.fraction * width)
    bar = "#" * filled + "-" * (width - filled)
    what = {"check": tr("检查"), "import": tr("导入"), "done": tr("完成")}.get(p.phase, p.phase)
    return tr(f"[{bar}] {p.fraction * 100:5.1f}% {what} {p.rows:,} 行 {p.rows_per_s:,.0f} 行/秒")


def nothing_imported(report: ImportReport) -> bool:
    """Every row bad and none taken in: a failure for whoever ran it, not a success."""
    errors = len(report.errors) + report.errors_omitted
    return not report.rejected and report.imported == 0 and bool(errors)


def summary_lines(report: ImportReport) -> list[str]:
    """What an import says, for the terminal and the desk alike: a summary line, then every
    error and flag listed (line, field, reason)."""
    errors = len(report.errors) + report.errors_omitted
    if report.rejected:
        lines = [tr(f"严格模式：文件有 {errors} 处错误，整个文件未导入。")]
    else:
        lines = [
            tr(
                f"导入 {report.imported} 行(新增 {report.created}，更新 {report.updated})，"
                f"跳过 {report.skipped} 行。"
            )
        ]
        if nothing_imported(report):
            lines.insert(0, tr(f"文件中没有一行可以导入({errors} 处错误)，未导入任何客户。"))
        if report.resumed_from_line:
            lines.append(
                tr(
                    f"上次导入此文件中途停止，本次从第 {report.resumed_from_line} 行继续"
                    "(之前的行已导入)。"
                )
            )
    lines += [tr(f"第 {e['line']} 行 [{e['field']}]：{e['reason']}") for e in report.errors]
    if report.errors_omitted:
        lines.append(tr(f"……另有 {report.errors_omitted} 处错误未列出。"))
    if report.warnings and not report.rejected:  # taken in, flagged (a card due for downgrade)
        lines.append(tr(f"已导入但需核对的 {len(report.warnings) + report.warnings_omitted} 行："))
        lines += [tr(f"第 {w['line']} 行 [{w['field']}]：{w['reason']}") for w in report.warnings]
        if report.warnings_omitted:
            lines.append(tr(f"……另有 {report.warnings_omitted} 行未列出。"))
    return lines


class _Listing:
    """Errors and flags of a report: each one listed up to ``LISTED_MAX``, then counted."""

    def __init__(self) -> None:
        self.items: list[dict[str, object]] = []
        self.omitted = 0

    def add(self, e: RowError) -> None:
        if len(self.items) < LISTED_MAX:
            self.items.append(e.as_dict())
        else:
            self.omitted += 1


# Ids of new customer rows rise (core/ids.py): the primary key's index takes them at its
# right edge instead of at a random page each.
_new_id = RisingIds()


def _customer_row(
    r: CustomerRecord, hashed: Callable[[str, str], str], stamp: object
) -> tuple[Any, ...]:
    """The store's columns for a record (``_COLUMNS``), filled as the ORM import's ``_apply``
    did; ``stamp``: ``updated_at`` as the driver takes it."""
    full, initials = name_pinyin(r.name)
    idn, phone = r.id_number, r.phone
    return (
        _new_id(),
        r.customer_no,
        r.name,
        idn.gender if idn else None,
        hashed("id", idn.number) if idn else None,
        idn.last4 if idn else "",
        hashed("phone", phone.digits) if phone else None,
        phone.prefix3 if phone else "",
        phone.last4 if phone else "",
        r.card_first6,
        r.card_last4,
        r.assets_fen,
        r.loans_fen,
        r.avg_assets_3m_fen,
        tier_for(r.assets_fen, r.loans_fen).value,
        r.vip_card.value if r.vip_card else None,
        int(r.vip_special),
        r.vip_approved_by,
        stored_date(r.vip_approved_until),
        r.vip_card_held.value if r.vip_card_held else None,
        r.manager,
        int(r.prospect),
        full,
        initials,
        stamp,
        "directory",
    )


class _Writer:
    """Writes records in batches, each one short transaction, moving the checkpoint."""

    def __init__(
        self,
        store: Store,
        *,
        fingerprint: str | None = None,
        source: str = "",
        created: int = 0,
        updated: int = 0,
        batch_seconds: float = BATCH_SECONDS,
    ) -> None:
        self.store = store
        self.fingerprint = fingerprint
        self.source = source[:200]
        self.created = created
        self.updated = updated
        self.batch_seconds = batch_seconds
        self.batch_rows = FIRST_BATCH
        self.pending: list[tuple[Any, ...]] = []
        self.hashed = keyed_hasher(store.id_key)
        self.write_seconds = 0.0
        self.stamp: object = None
        self.batches = 0
        self._conn: Connection | None = None

    def _connection(self) -> Connection:
        """The import's own connection, with a larger page cache (the indexes' pages of a
        million rows at hand: a fifth less time at 300,000 rows) and commits written to the
        WAL without waiting for the disk (``synchronous=NORMAL``; checkpoints still wait):
        a power cut can undo the last batches, never half of one, and each batch carries
        its own checkpoint, so a re-run writes them again. The lock is held for less time.
        It is discarded at the end, never pooled with those settings."""
        if self._conn is None:
            conn = self.store.engine.connect()
            raw = conn.connection.dbapi_connection
            assert raw is not None
            raw.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            raw.execute("PRAGMA synchronous=NORMAL")
            self._conn = conn.execution_options(immediate=True)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.invalidate()  # its settings go with it
            self._conn.close()
            self._conn = None

    def add(self, record: CustomerRecord) -> bool:
        """Queue a record; whether the batch is now full (``flush`` it)."""
        if not self.pending:  # one time for the batch, as the driver takes it
            now = utcnow()
            self.stamp = stored_stamp(now)
        self.pending.append(_customer_row(record, self.hashed, self.stamp))
        return len(self.pending) >= self.batch_rows

    def flush(self, *, offset: int = 0, line: int = 0) -> None:
        """Write the queued rows; the checkpoint then says the file is done up to ``offset``
        (bytes) and ``line``."""
        if not self.pending:
            return
        rows, self.pending = self.pending, []
        now = utcnow()
        started = time.perf_counter()
        conn = self._connection()
        try:
            with Session(bind=conn) as s, s.begin():  # BEGIN IMMEDIATE (busy: waits)
                locked = time.perf_counter()
                before = _last_rowid(s)
                conn.exec_driver_sql(_UPSERT_SQL, rows)
                # rowids of new rows are the largest one plus one (the table has no
                # AUTOINCREMENT and its rows never reach 2**63): the rows this batch added
                created = _last_rowid(s) - before
                totals = (self.created + created, self.updated + len(rows) - created)
                if self.fingerprint is not None:  # with the counts this batch brings
                    _save_checkpoint(s, self, offset, line, now, totals)
                wrote = time.perf_counter() - locked
        except OperationalError as exc:
            self.close()
            raise environment_error(exc, self.store.db_path) from exc
        self.created, self.updated = totals
        # the commit comes on top
        self.write_seconds += time.perf_counter() - started
        self.batches += 1
        # the next batch's statements take about ``batch_seconds`` at this one's speed
        # (halfway there, so one slow write on a loaded machine does not swing it)
        aim = len(rows) * self.batch_seconds / max(wrote, 1e-4)
        self.batch_rows = int(min(BATCH_MAX, max(BATCH_MIN, (self.batch_rows + aim) / 2)))


def _last_rowid(s: Session) -> int:
    return int(s.execute(text("SELECT max(rowid) FROM customer")).scalar() or 0)


def _save_checkpoint(
    s: Session, w: _Writer, offset: int, line: int, now: datetime, totals: tuple[int, int]
) -> None:
    values = {
        "source": w.source,
        "byte_offset": offset,
        "line": line,
        "created": totals[0],
        "updated": totals[1],
        "updated_at": now.replace(tzinfo=None),
    }
    ins = sqlite_insert(CHECKPOINTS).values(fingerprint=w.fingerprint, **values)
    s.execute(ins.on_conflict_do_update(index_elements=[CHECKPOINTS.c.fingerprint], set_=values))


@dataclass(frozen=True)
class Checkpoint:
    """Where an earlier import of the same file stopped."""

    byte_offset: int
    line: int
    created: int
    updated: int


def checkpoint_of(store: Store, fingerprint: str) -> Checkpoint | None:
    with store.read() as s:
        row = s.execute(select(CHECKPOINTS).where(CHECKPOINTS.c.fingerprint == fingerprint)).first()
    if row is None:
        return None
    return Checkpoint(row.byte_offset, row.line, row.created, row.updated)


def import_records(
    store: Store, parsed: ParseResult, *, strict: bool, actor: str, source: str
) -> ImportReport:
    """Records already parsed (a small file, the demo's directory) go in (new or updated);
    bad rows are reported. Strict: all or nothing. ``import_file`` reads a file as a stream."""
    errors, warnings = _Listing(), _Listing()
    for e in parsed.errors:
        errors.add(e)
    for w in parsed.warnings:
        warnings.add(w)
    report = ImportReport()
    report.skipped = len({e.line for e in parsed.errors})
    if strict and parsed.errors:
        return _rejected(report, errors, warnings, len(parsed.records))
    writer = _Writer(store)
    specials: list[tuple[int, str]] = []
    try:
        for r in parsed.records:
            if r.vip_special:
                specials.append((r.line, r.customer_no))
            if writer.add(r):
                writer.flush()
        writer.flush()
    finally:
        writer.close()
    return _finish(store, writer, report, errors, warnings, specials, actor=actor, source=source)


def _rejected(
    report: ImportReport, errors: _Listing, warnings: _Listing, records: int
) -> ImportReport:
    report.rejected = True
    report.skipped += records
    report.errors, report.errors_omitted = errors.items, errors.omitted
    report.warnings, report.warnings_omitted = warnings.items, warnings.omitted
    return report


def _finish(
    store: Store,
    writer: _Writer,
    report: ImportReport,
    errors: _Listing,
    warnings: _Listing,
    specials: list[tuple[int, str]],
    *,
    actor: str,
    source: str,
) -> ImportReport:
    """The last transaction: the special-card share, the audit record, the checkpoint gone."""
    report.created, report.updated = writer.created, writer.updated
    report.errors, report.errors_omitted = errors.items, errors.omitted
    report.warnings, report.warnings_omitted = warnings.items, warnings.omitted
    detail = f"{source}: created={report.created} updated={report.updated} skipped={report.skipped}"
    if report.resumed_from_line:
        detail += f" resumed_from_line={report.resumed_from_line}"
    with store.write() as s:
        report.warnings += _keep_specials_within_share(s, specials)
        s.add(AuditEvent(actor=actor, action="import_customers", detail=detail))
        if writer.fingerprint is not None:
            s.execute(delete(CHECKPOINTS).where(CHECKPOINTS.c.fingerprint == writer.fingerprint))
    return report


def _open(path: Path) -> BinaryIO:
    try:
        return path.open("rb")
    except OSError as exc:
        raise LobbyError(
            "file_unreadable", tr(f"无法读取文件 {path}：{exc.strerror or exc}"), field="file"
        ) from exc


def _outcomes(
    fh: BinaryIO, encoding: str, today: date | None, expected_rows: int
) -> tuple[DirectoryRows, FileLines]:
    fh.seek(0)
    lines = FileLines(fh, encoding)
    return DirectoryRows(iter(lines), today=today, expected_rows=expected_rows), lines


class _Pacer:
    """Calls the progress callback at most every ``PROGRESS_EVERY_S``."""

    def __init__(self, progress: ProgressCallback | None, total: int, resumed: int) -> None:
        self.progress = progress
        self.total = total
        self.resumed = resumed
        self.started = time.monotonic()
        self.last = 0.0

    def restart(self) -> None:
        self.started = time.monotonic()

    def tell(self, phase: str, rows: int, written: int, done: int, *, force: bool = False) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if not force and now - self.last < PROGRESS_EVERY_S:
            return
        self.last = now
        rate = rows / max(now - self.started, 1e-6)
        self.progress(ImportProgress(phase, rows, written, done, self.total, rate, self.resumed))


def import_file(
    store: Store,
    path: Path,
    *,
    strict: bool,
    actor: str,
    source: str | None = None,
    today: date | None = None,
    progress: ProgressCallback | None = None,
    batch_seconds: float = BATCH_SECONDS,
) -> ImportReport:
    """Import a directory file as a stream (see the module's docstring). ``progress`` is
    called (on this thread) as the import goes; ``today`` is the day approvals are checked
    against (default: the computer's date)."""
    source = source if source is not None else path.name
    today = today or date.today()  # the same day for both reads of the file
    with _open(path) as fh:
        try:
            return _import_stream(store, fh, strict, actor, source, today, progress, batch_seconds)
        except OSError as exc:
            raise LobbyError(
                "file_unreadable", tr(f"无法读取文件 {path}：{exc.strerror or exc}"), field="file"
            ) from exc


def _import_stream(
    store: Store,
    fh: BinaryIO,
    strict: bool,
    actor: str,
    source: str,
    today: date | None,
    progress: ProgressCallback | None,
    batch_seconds: float,
) -> ImportReport:
    scan = scan_csv_bytes(fh)
    expected_rows = scan.size // 64  # a directory row takes ~100 bytes
    pacer = _Pacer(progress, scan.size, 0)
    report = ImportReport()
    errors, warnings = _Listing(), _Listing()

    # 1. read it all once before writing anything: a file that is not well-formed CSV is
    # refused whole, and a strict import checks every row (holding none of them)
    rows, lines = _outcomes(fh, scan.encoding, today, expected_rows)
    if strict:
        records = 0
        bad_lines: set[int] = set()
        for n, row in enumerate(rows, 1):
            if row.record is None:
                bad_lines.add(row.line)
                for e in row.errors:
                    errors.add(e)
            else:
                records += 1
                if row.warning is not None:
                    warnings.add(row.warning)
            if not n & 1023:
                pacer.tell("check", n, 0, lines.offset)
        if bad_lines:
            report.skipped = len(bad_lines)
            return _rejected(report, errors, warnings, records)
        errors, warnings = _Listing(), _Listing()
    else:
        rows.skim()
    pacer.tell("check", 0, 0, scan.size, force=True)

    # 2. continue an import of the same file that stopped half-way
    done = checkpoint_of(store, scan.fingerprint)
    resume_offset = done.byte_offset if done else 0
    report.resumed_from_line = done.line + 1 if done else 0  # the first line not written
    pacer.resumed = report.resumed_from_line
    writer = _Writer(
        store,
        fingerprint=scan.fingerprint,
        source=source,
        created=done.created if done else 0,
        updated=done.updated if done else 0,
        batch_seconds=batch_seconds,
    )

    # 3. write the good rows in short transactions
    rows, lines = _outcomes(fh, scan.encoding, today, expected_rows)
    specials: list[tuple[int, str]] = []
    bad_lines = set()
    n = 0
    last_line = 0
    pacer.restart()
    try:
        for row in rows:
            n += 1
            if row.record is None:
                bad_lines.add(row.line)
                for e in row.errors:
                    errors.add(e)
                continue
            r = row.record
            if row.warning is not None:
                warnings.add(row.warning)
            if r.vip_special:
                specials.append((row.line, r.customer_no))
            end = lines.offset
            if end <= resume_offset:
                continue  # written by the run that stopped
            last_line = rows.line_num
            if writer.add(r):
                writer.flush(offset=end, line=last_line)
                pacer.tell("import", n, writer.created + writer.updated, end)
        writer.flush(offset=lines.offset, line=last_line)
    finally:
        writer.close()
    report.skipped = len(bad_lines)
    report = _finish(store, writer, report, errors, warnings, specials, actor=actor, source=source)
    pacer.tell("done", n, report.imported, scan.size, force=True)
    return report


def _keep_specials_within_share(
    s: Session, specials: Iterable[tuple[int, str]]
) -> list[dict[str, object]]:
    """Special cards may be at most ``special_vip_max_pct`` % of the branch's VIP card holders
    (003 第十二条 2: 特批发卡量控制在已开立贵宾卡客户总数的5%以内). Past that, this file's special
    rows (line, customer number), last first, are taken in as due for downgrade (served at
    the level their assets earn); each is flagged on its line."""
    pct = load_settings(s).special_vip_max_pct
    holders = s.scalar(select(func.count()).where(Customer.vip_card.is_not(None))) or 0
    count = s.scalar(select(func.count()).where(Customer.vip_special.is_(True))) or 0
    flagged: list[dict[str, object]] = []
    c = _CUSTOMER.c
    for line, number in _reversed(specials):
        if count * 100 <= pct * holders:
            break
        allowed = pct * holders // 100
        card, avg = s.execute(
            select(c.vip_card, c.avg_assets_3m_fen).where(c.customer_no == number)
        ).one()
        held = VipCard(card) if card else None
        earned = vip_card_for(avg)
        s.execute(
            update(_CUSTOMER)
            .where(c.customer_no == number)
            .values(
                vip_card_held=card, vip_card=earned.value if earned else None, vip_special=False
            )
        )
        count -= 1
        if earned is None:
            holders -= 1
        served = earned.label if earned else tr("非贵宾卡客户")
        label = held.label if held else ""
        flagged.append(
            {
                "line": line,
                "field": "vip_approved_by",
                "reason": tr(
                    f"特批贵宾卡超出网点名额：特批不得超过贵宾卡客户的 {pct}%"
                    f"(本次导入后最多 {allowed} 张)，本行的{label}特批已按待降级导入，按{served}服务"
                ),
            }
        )
    return sorted(flagged, key=lambda w: int(str(w["line"])))


def _reversed(items: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    return reversed(items if isinstance(items, list) else list(items))
