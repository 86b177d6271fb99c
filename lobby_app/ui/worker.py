"""Runs store and printing work off the Qt thread and hands results back to it.

All store access goes through one worker thread (SQLite prefers one writer). Results come
back as a queued Qt signal, so callbacks run on the GUI thread. This needs no running
asyncio loop, which keeps the windows testable with pytest-qt as they are; the app itself
runs under qasync's event loop so coroutine-based parts (the hub client) can share it.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

Callback = Callable[[Any], None]


class Worker(QObject):
    """``submit(fn, on_done, on_error)``: fn runs on the worker thread, callbacks on the GUI."""

    _finished = Signal(int, object, object)
    idle = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[Callback | None, Callback | None]] = {}
        self._finished.connect(self._deliver)
        self._closed = False

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def submit(
        self,
        fn: Callable[[], Any],
        on_done: Callback | None = None,
        on_error: Callback | None = None,
    ) -> int:
        job = next(self._ids)
        if self._closed:  # the window is closing: a late timer or hub event asks for nothing
            log.debug("job %d dropped: the worker is shut down", job)
            return job
        self._pending[job] = (on_done, on_error)
        future = self._pool.submit(fn)

        def done(f: Future[Any]) -> None:
            exc = f.exception()
            self._finished.emit(job, None if exc else f.result(), exc)

        future.add_done_callback(done)
        return job

    def _deliver(self, job: int, result: object, error: object) -> None:
        on_done, on_error = self._pending.pop(job, (None, None))
        if error is not None:
            if on_error is not None:
                on_error(error)
            else:
                log.error("background job failed: %r", error)
        elif on_done is not None:
            on_done(result)
        if not self._pending:
            self.idle.emit()

    def shutdown(self) -> None:
        self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)
