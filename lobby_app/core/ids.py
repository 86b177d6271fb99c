"""Row ids that rise: for the customer rows an import or a directory download adds by the
hundred thousand.

A random id (``uuid4``) lands anywhere in the primary key's index, so every new row dirties
some page of it; ids that rise in text order go to its right edge, where one page takes
many rows. The ids keep the UUID text form (8-4-4-4-12 lower-case hex, version 7 of RFC
9562: a millisecond clock, then a counter, then random bits), so they sit beside the
``uuid4`` ids other rows have and head office takes them as before.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

_COUNTER_MAX = 0xFFF  # 12 bits after the version nibble


class RisingIds:
    """Makes ids each greater (as text) than the one before, within one process: the clock
    in milliseconds, a counter within the millisecond (borrowing the next millisecond when
    it runs out; a clock set back keeps the last value), then 62 random bits."""

    def __init__(self, clock_ns: Callable[[], int] = time.time_ns) -> None:
        self._clock_ns = clock_ns
        self._ms = 0
        self._count = 0
        self._random = ""
        self._at = 0

    def __call__(self) -> str:
        now = self._clock_ns() // 1_000_000
        if now > self._ms:
            self._ms, self._count = now, 0
        elif self._count < _COUNTER_MAX:
            self._count += 1
        else:
            self._ms, self._count = self._ms + 1, 0
        if self._at >= len(self._random):  # one read of the random source per 256 ids
            self._random, self._at = os.urandom(2048).hex(), 0
        tail, self._at = self._random[self._at : self._at + 16], self._at + 16
        variant = "89ab"[int(tail[0], 16) & 3]
        h = f"{self._ms & 0xFFFF_FFFF_FFFF:012x}7{self._count:03x}{variant}{tail[1:]}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
