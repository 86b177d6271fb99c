"""In-process latency of issuing a ticket (``store.commands.issue_ticket``, the function the
hub, the desk and ``lobby-app ticket`` all run) on the hub benchmark's demo branch (19
windows, a teller signed in at each), with a short queue: the windows finish every waiting
ticket after every fifth issue. Wall and CPU time per issue.

Run: .venv/bin/python -m bench.bench_issue [--issues 200]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.bench_hub import demo_branch
from bench.common import machine, pct
from lobby_app.store import commands
from lobby_app.store.admin import sign_in_counter
from lobby_app.store.commands import IssueRequest

CODES = ("cash", "card", "query", "wealth", "remit_cash", "cash", "fx")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--issues", type=int, default=200)
    args = ap.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        store = demo_branch(Path(tmp) / "b")
        for i in range(19):
            sign_in_counter(store, 100 + i, f"X{i:02d}")
        for _ in range(5):  # statements prepared, pages cached
            commands.issue_ticket(store, IssueRequest("cash", actor="L01"))
        wall: list[float] = []
        cpu: list[float] = []
        for i in range(args.issues):
            req = IssueRequest(
                CODES[i % len(CODES)], actor="L01", needs=("wealth",) if i % 3 else ()
            )
            t0, c0 = time.perf_counter(), time.process_time()
            commands.issue_ticket(store, req, request_id=f"r{i}")
            wall.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            if i % 5 == 4:
                with store.write_sql() as con:
                    con.execute("update ticket set status = 'done' where status = 'waiting'")
        store.close()
    print(
        f"issue_ticket x{args.issues}: wall p50 {pct(wall, 50):.2f} ms, p95 {pct(wall, 95):.2f} ms,"
        f" p99 {pct(wall, 99):.2f} ms; cpu p50 {pct(cpu, 50):.2f} ms, p95 {pct(cpu, 95):.2f} ms"
    )


if __name__ == "__main__":
    main()
