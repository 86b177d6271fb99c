"""Small helpers shared by the benchmarks: percentiles and a description of the machine."""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics


def pct(samples: list[float], p: float) -> float:
    s = sorted(samples)
    k = max(0, min(len(s) - 1, round(p / 100 * (len(s) - 1))))
    return s[k]


def summary_ms(samples: list[float]) -> str:
    ms = [x * 1000 for x in samples]
    return (
        f"n={len(ms)} median={statistics.median(ms):.2f} ms p95={pct(ms, 95):.2f} ms "
        f"max={max(ms):.2f} ms"
    )


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
