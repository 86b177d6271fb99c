"""Importing a customer directory (issue 17): the real CLI in a subprocess, its wall time, rows
per second and peak memory; beside it the raw limit, plain ``sqlite3`` ``executemany`` of the
same rows (prepared tuples) into the same ``customer`` table and indexes, in the same run.
While the largest file imports, a second process issues a ticket every 100 ms through
``store.commands.issue_ticket`` on the same data directory: their latency tells how long the
desk waits for the import's batches (target p99 ≤ 100 ms).

    .venv/bin/python -m bench.bench_import                  # 100,000 and 1,000,000 rows
    .venv/bin/python -m bench.bench_import --rows 100000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import machine, pct
from bench.directory_csv import directory_csv

VENV_BIN = Path(sys.executable).parent
RAW_BATCH = 50_000  # rows per transaction of the raw limit: as large as memory allows
PER_DAY = 300  # tickets of one business day in the probe: a busy branch's day


def _cli() -> list[str]:
    exe = VENV_BIN / "lobby-app"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "lobby_app"]


def probe(data_dir: Path, out: Path, every: float) -> None:
    """The desk's side: a ticket every ``every`` seconds until SIGTERM; (start, seconds) of
    each into ``out``. Every ``PER_DAY`` tickets go to the next business day: a queue of
    thousands never served would make each ticket slower by itself (its place in the queue
    is computed) and hide what the import costs it."""
    from lobby_app.store import Store, commands
    from lobby_app.store.commands import IssueRequest

    store = Store.open(data_dir)
    samples: list[tuple[float, float]] = []
    stop = False

    def halt(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, halt)
    commands.issue_ticket(store, IssueRequest("cash"))  # warm: imports, first statements
    out.with_suffix(".ready").touch()
    codes = ["cash", "card", "wealth", "query"]
    i = 0
    next_at = time.monotonic()
    while not stop:
        t0 = time.time()
        now = datetime.now(UTC) + timedelta(days=1 + i // PER_DAY)
        p0 = time.perf_counter()
        commands.issue_ticket(store, IssueRequest(codes[i % len(codes)], actor="bench"), now=now)
        samples.append((t0, time.perf_counter() - p0))
        i += 1
        next_at += every
        time.sleep(max(0.0, next_at - time.monotonic()))
    out.write_text(json.dumps(samples))
    store.close()


def import_once(path: Path, *, tickets: bool, idle_s: float) -> dict[str, object]:
    """One import of ``path`` into a fresh store through the CLI (optionally with the ticket
    probe running), measured."""
    from lobby_app.store import Store

    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        data = Path(tmp) / "data"
        Store.open(data).close()  # migrated once, before two processes open it
        prober = None
        samples_file = Path(tmp) / "tickets.json"
        if tickets:
            prober = subprocess.Popen(
                [
                    *(sys.executable, "-m", "bench.bench_import"),
                    *("--probe", str(data), "--probe-out", str(samples_file)),
                ]
            )
            while not samples_file.with_suffix(".ready").exists():
                time.sleep(0.05)
            time.sleep(idle_s)  # the same tickets with no import: the baseline
        start = time.time()
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [*_cli(), "--data-dir", str(data), "--json", "import-customers", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        stdout, stderr = b"", b""
        # os.wait4: this child's own peak RSS (RUSAGE_CHILDREN would also count the probe)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        end = time.time()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.stdout is not None:
            stdout = proc.stdout.read()
            proc.stdout.close()
        if proc.stderr is not None:
            stderr = proc.stderr.read()
            proc.stderr.close()
        if proc.returncode != 0:
            raise SystemExit(f"import failed: {stderr.decode()[-2000:]}")
        doc = json.loads(stdout)
        result: dict[str, object] = {
            "rows": doc["imported"],
            "wall_s": wall,
            "rows_per_s": doc["imported"] / wall,
            "peak_rss_mb": usage.ru_maxrss / 1024,
            "cpu_s": usage.ru_utime + usage.ru_stime,
        }
        if prober is not None:
            time.sleep(idle_s / 2)
            prober.send_signal(signal.SIGTERM)
            prober.wait()
            samples = json.loads(samples_file.read_text())
            during = [s for t, s in samples if start <= t <= end]
            idle = [s for t, s in samples if t < start]
            result["tickets_during"] = _lat(during)
            result["tickets_idle"] = _lat(idle)
        return result


def _lat(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {}
    ms = [s * 1000 for s in samples]
    return {
        "n": len(ms),
        "p50": statistics.median(ms),
        "p95": pct(ms, 95),
        "p99": pct(ms, 99),
        "max": max(ms),
    }


def raw_limit(path: Path) -> dict[str, float]:
    """Plain sqlite3 ``executemany`` of the same rows (prepared by the import's own code,
    outside the timing) into a fresh store's ``customer`` table, ``RAW_BATCH`` rows a
    transaction, WAL and ``synchronous=NORMAL`` as the import's own connection has them."""
    from lobby_app.core.customer_csv import DirectoryRows, FileLines, scan_csv_bytes
    from lobby_app.core.identity import keyed_hasher
    from lobby_app.models.base import utcnow
    from lobby_app.store import Store
    from lobby_app.store.directory import _UPSERT_SQL, _customer_row
    from lobby_app.store.downsync import stored_stamp

    with tempfile.TemporaryDirectory(prefix="bench-raw-") as tmp:
        store = Store.open(Path(tmp))
        hashed = keyed_hasher(store.id_key)
        store.close()
        con = sqlite3.connect(Path(tmp) / "branch.sqlite3", isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        stamp = stored_stamp(utcnow())
        seconds, n = 0.0, 0
        with path.open("rb") as fh:
            scan = scan_csv_bytes(fh)
            fh.seek(0)
            rows = DirectoryRows(iter(FileLines(fh, scan.encoding)), expected_rows=scan.size // 64)
            batch: list[tuple[object, ...]] = []

            def write() -> float:
                t0 = time.perf_counter()
                con.execute("BEGIN IMMEDIATE")
                con.executemany(_UPSERT_SQL, batch)
                con.execute("COMMIT")
                return time.perf_counter() - t0

            for row in rows:
                if row.record is not None:
                    batch.append(_customer_row(row.record, hashed, stamp))
                if len(batch) >= RAW_BATCH:
                    seconds += write()
                    n += len(batch)
                    batch = []
            if batch:
                seconds += write()
                n += len(batch)
        con.close()
    return {"rows": n, "seconds": seconds, "rows_per_s": n / seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--repeat", type=int, default=1, help="imports per size (medians)")
    ap.add_argument("--idle", type=float, default=5.0, help="seconds of tickets with no import")
    ap.add_argument("--probe", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--probe-out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.probe:
        probe(args.probe, args.probe_out, 0.1)
        return
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} at start")
    for n in args.rows:
        path = directory_csv(n)
        runs = [
            import_once(path, tickets=n == max(args.rows), idle_s=args.idle)
            for _ in range(args.repeat)
        ]
        raw = raw_limit(path)
        wall = statistics.median(float(str(r["wall_s"])) for r in runs)
        rate = statistics.median(float(str(r["rows_per_s"])) for r in runs)
        rss = max(float(str(r["peak_rss_mb"])) for r in runs)
        each = ", ".join(f"{float(str(r['wall_s'])):.1f} s" for r in runs)
        print(
            f"{n:>9,} rows: import {wall:.1f} s, {rate:,.0f} rows/s, peak RSS {rss:.0f} MB "
            f"(runs: {each}); "
            f"raw executemany {raw['rows_per_s']:,.0f} rows/s ({raw['seconds']:.1f} s); "
            f"import / raw = {rate / raw['rows_per_s']:.2f}"
        )
        for r in runs:
            if "tickets_during" in r:
                print(f"    tickets while importing: {r['tickets_during']}")
                print(f"    tickets with no import:  {r['tickets_idle']}")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
