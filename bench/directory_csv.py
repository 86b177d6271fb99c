"""A customer directory CSV of any size for the benchmarks, written row by row (a million
rows without holding them), as a bank's export would be: the demo directory's columns and
mix of tiers, valid ID numbers (about one in eleven ending in X), mobiles and card numbers.

Files are cached by size and seed under the system's temp folder, so the import, lookup
and sync benchmarks share one copy:

    .venv/bin/python -m bench.directory_csv 1000000      # prints the file's path
"""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
import time
from pathlib import Path

from lobby_app.core.demo_data import COLUMNS, DEMO_SEED, iter_customer_rows

CACHE = Path(tempfile.gettempdir()) / "lobby-bench-directories"


def directory_csv(n: int, seed: int = DEMO_SEED, folder: Path | None = None) -> Path:
    """The path of an n-row directory CSV (written now if not cached)."""
    folder = folder or CACHE
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"customers-{n}-{seed}.csv"
    if path.exists():
        return path
    part = path.with_suffix(".part")
    with part.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(COLUMNS))
        writer.writeheader()
        for row in iter_customer_rows(n, seed):
            writer.writerow(row)
    os.replace(part, path)  # a half-written file is never taken for a whole one
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rows", type=int)
    ap.add_argument("--seed", type=int, default=DEMO_SEED)
    args = ap.parse_args()
    t0 = time.perf_counter()
    path = directory_csv(args.rows, args.seed)
    print(path, f"({path.stat().st_size / 1e6:.0f} MB, {time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
