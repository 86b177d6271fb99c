"""Benchmark: how soon the desk is usable after start, and how much memory it holds.

Run: .venv/bin/python -m bench.bench_startup [--runs 5]
Each run starts a fresh process on the demo branch (offscreen) and measures wall time from
spawn until the window is shown with the business list and the lobby panel loaded (usable),
and until the printing stack has warmed up in the background too (reportlab, CJK font);
then the process's resident memory.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import machine

CHILD = r"""
import sys
from lobby_app.ui.app import qt_app, build_desk
from lobby_app.store import Store
from PySide6.QtCore import QTimer

app = qt_app()
w = build_desk(Store.open(sys.argv[1]))
w.show()

usable = False

def check():
    global usable
    if not usable and w.business_model.rowCount() and hasattr(w, "lobby_snapshot"):
        usable = True
        print("usable", flush=True)
    if usable and not w.worker.busy:
        rss = hwm = 0
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
        print(f"ready {rss} {hwm}", flush=True)
        app.quit()
    else:
        QTimer.singleShot(5, check)

QTimer.singleShot(0, check)
app.exec()
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    print(f"machine: {machine()}")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "demo"
        subprocess.run(
            [sys.executable, "-m", "lobby_app", "--data-dir", str(data), "demo"],
            check=True,
            capture_output=True,
        )
        times, warm, rss, hwm = [], [], [], []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, "-c", CHILD, str(data)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "usable"
            times.append(time.perf_counter() - t0)
            line = proc.stdout.readline().split()
            warm.append(time.perf_counter() - t0)
            proc.wait()
            proc.stdout.close()
            rss.append(int(line[1]) / 1024)
            hwm.append(int(line[2]) / 1024)
    print(
        f"desk usable after start: median {statistics.median(times):.2f} s, "
        f"max {max(times):.2f} s over {args.runs} runs"
    )
    print(
        f"usable and printing warmed up (reportlab, CJK font): median "
        f"{statistics.median(warm):.2f} s, max {max(warm):.2f} s"
    )
    print(
        f"resident memory when warmed up: median {statistics.median(rss):.0f} MB, "
        f"peak (VmHWM) max {max(hwm):.0f} MB"
    )


if __name__ == "__main__":
    main()
