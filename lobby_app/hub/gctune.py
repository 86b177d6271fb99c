"""The hub's garbage collection: watched (pause per generation, for the stats) and, in the
standalone hub, tuned once the hub has loaded and warmed up.

Python's cycle collector stops every thread while it runs. Left at its defaults in a process
that has imported SQLAlchemy, websockets and the app (some hundred thousand long-lived
objects), each full (generation 2) collection walks all of them: 23-73 ms pauses measured in
``bench/bench_hub.py``, landing inside whichever request allocates at that moment.
``tune_for_serving`` moves what start-up made into the permanent generation (``gc.freeze``),
so later collections walk only what serving makes, and raises the generation-0 threshold, so
the young collections come less often (each still small: a few thousand objects).
"""

from __future__ import annotations

import gc
import threading
import time
from collections import deque
from typing import Any

# Young collections after this many net allocations (Python's default is 700): a request
# allocates a few thousand objects, so at 700 nearly every request paid a collection.
GEN0_THRESHOLD = 10_000
GEN1_THRESHOLD = 10  # a generation-1 collection every 10 young ones
GEN2_THRESHOLD = 10  # a full one every 10 generation-1 ones (only what serving made: frozen)


class GcWatch:
    """Pauses of the cycle collector, per generation, through ``gc.callbacks``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started: dict[int, float] = {}  # thread id -> when its collection started
        self.pauses: dict[int, deque[float]] = {g: deque(maxlen=20_000) for g in (0, 1, 2)}
        self.counts = {0: 0, 1: 0, 2: 0}
        self.total_s = 0.0
        self.installed = False

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        now = time.perf_counter()
        me = threading.get_ident()
        if phase == "start":
            self._started[me] = now
            return
        began = self._started.pop(me, None)
        if began is None:
            return
        generation = int(info.get("generation", 0))
        took = now - began
        with self._lock:
            self.pauses[generation].append(took)
            self.counts[generation] += 1
            self.total_s += took

    def reset(self) -> None:
        with self._lock:
            for pauses in self.pauses.values():
                pauses.clear()
            self.counts = {0: 0, 1: 0, 2: 0}
            self.total_s = 0.0

    def install(self) -> None:
        if not self.installed:
            gc.callbacks.append(self._callback)
            self.installed = True

    def uninstall(self) -> None:
        if self.installed:
            gc.callbacks.remove(self._callback)
            self.installed = False

    def as_json(self) -> dict[str, object]:
        with self._lock:
            per = {g: sorted(p) for g, p in self.pauses.items()}
            counts = dict(self.counts)
            total = self.total_s

        def at(ms: list[float], p: float) -> float:
            return round(ms[min(len(ms) - 1, int(p / 100 * len(ms)))] * 1000, 2) if ms else 0.0

        return {
            "collections": {f"gen{g}": counts[g] for g in (0, 1, 2)},
            "pause_ms": {
                f"gen{g}": {"p50": at(per[g], 50), "p99": at(per[g], 99), "max": at(per[g], 100)}
                for g in (0, 1, 2)
            },
            "total_pause_ms": round(total * 1000, 1),
            "thresholds": list(gc.get_threshold()),
            "frozen": gc.get_freeze_count(),
            "enabled": gc.isenabled(),
        }


WATCH = GcWatch()  # one per process: the collector is the process's


def tune_for_serving() -> None:
    """After start-up and warm-up, before the first station: collect what start-up left,
    freeze the survivors (the permanent generation; never walked again) and raise the
    thresholds. For a process that only serves (``lobby-app hub``); the desk keeps its own
    rule (``ui.app.collect_garbage_on_gui_thread``)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GEN0_THRESHOLD, GEN1_THRESHOLD, GEN2_THRESHOLD)
    WATCH.install()
    WATCH.reset()  # the stats tell of serving, not of the start-up collection above
