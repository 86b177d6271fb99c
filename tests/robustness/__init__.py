"""The probe of issue 16 kept in the project: fuzzing of the hub protocol, the import files
and the command line, and a crash test. ``LOBBY_FUZZ_SCALE=20`` runs twenty times as many
examples (by hand, or nightly); the default keeps the suite near half a minute."""

from __future__ import annotations

import os

SCALE = float(os.environ.get("LOBBY_FUZZ_SCALE", "1"))


def examples(n: int) -> int:
    """``n`` examples, scaled by ``LOBBY_FUZZ_SCALE``."""
    return max(1, int(n * SCALE))
