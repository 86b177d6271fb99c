"""Writing a rendered PDF to its place."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(data: bytes, path: str | os.PathLike[str], prefix: str) -> Path:
    """Write beside the destination, then rename: a reader (a printer spooler watching the
    folder, a person opening it) never sees half a file, and a failure leaves no debris."""
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".pdf", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest
