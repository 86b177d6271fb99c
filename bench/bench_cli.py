"""Benchmark: quick commands are quick. Cold wall time of ``lobby-app --json lookup`` and
``lobby-app --json ticket`` (the minimal arguments that issue one), each a fresh process,
beside the raw start of Python (``python -c pass``) and of SQLAlchemy
(``python -c "import sqlalchemy"``) measured in the same run, interleaved so that the
shared machine's load falls on all of them alike.

Run: .venv/bin/python -m bench.bench_cli [--runs 15] [--compare DIR]

``--compare DIR`` also times an older ``lobby_app`` (a copy of the package in DIR, e.g.
``git archive HEAD lobby_app | tar -x -C DIR``) in the same run, as ``python -m lobby_app``.

A ticket renders its PDF by default (the branch's print setting is a folder of PDFs), so
it is measured twice: as set up by default, and on a branch that prints nowhere
(``print_kind=none``: no PDF is made, reportlab is not loaded). Bytecode is written (an
installed app has it): PYTHONDONTWRITEBYTECODE is dropped for the children and one
warm-up run of each is not counted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import machine

LOBBY_APP = str(Path(sys.executable).with_name("lobby-app"))
TARGET_S = 0.250  # issue 17 item 5


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["LOBBY_STAFF"] = "L01"  # the demo's lobby manager
    return env


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds from spawn to exit, and the CPU seconds (user + system) the process
    used: on a loaded machine the wall time includes waiting for a core, the CPU time not."""
    cwd = None
    if cmd[0].startswith("PYTHONPATH="):  # the older code of --compare, run from its folder
        cwd = cmd[0].split("=", 1)[1]  # (``-m`` puts the working folder first on the path)
        env = {**env, "PYTHONPATH": cwd}
        cmd = cmd[1:]
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=out, cwd=cwd)
        _pid, status, usage = os.wait4(proc.pid, 0)
        took = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            out.seek(0)
            raise SystemExit(f"{' '.join(cmd)} failed: {out.read().decode(errors='replace')}")
    return took, usage.ru_utime + usage.ru_stime


def demo_branches(app: list[str], where: Path, env: dict[str, str]) -> tuple[Path, Path]:
    """Two demo branches made by ``app``: one as set up by default (tickets to a folder
    of PDFs), one that prints nowhere."""
    folder, nowhere = where / "demo", where / "nowhere"
    run([*app, "--data-dir", str(folder), "demo"], env)
    shutil.copytree(folder, nowhere)
    # the branch head changes settings
    run(
        [*app, "--data-dir", str(nowhere), "settings", "print_kind=none"],
        {**env, "LOBBY_STAFF": "B01"},
    )
    return folder, nowhere


def quick_commands(app: list[str], folder: Path, nowhere: Path) -> dict[str, list[str]]:
    ticket = ("--json", "ticket", "--business", "cash")
    return {
        "lookup 2574": [*app, "--data-dir", str(folder), "--json", "lookup", "2574"],
        "ticket (print nowhere)": [*app, "--data-dir", str(nowhere), *ticket],
        "ticket (PDF, default)": [*app, "--data-dir", str(folder), *ticket],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--compare", type=Path, help="a folder holding an older lobby_app package")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    env = _env()
    with tempfile.TemporaryDirectory() as tmp:
        app = [LOBBY_APP]
        folder, nowhere = demo_branches(app, Path(tmp) / "now", env)
        commands = quick_commands(app, folder, nowhere)
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            'python -c "import sqlalchemy"': [sys.executable, "-c", "import sqlalchemy"],
            **commands,
        }
        if args.compare:  # its own branches: an older store schema than this code's
            old = [f"PYTHONPATH={args.compare.resolve()}", sys.executable, "-m", "lobby_app"]
            before = demo_branches(old, Path(tmp) / "before", env)
            for label, cmd in quick_commands(old, *before).items():
                commands[f"before: {label}"] = cmd
        for cmd in commands.values():  # warm-up: bytecode written, files in the page cache
            run(cmd, env)
        times: dict[str, list[float]] = {label: [] for label in commands}
        cpu: dict[str, list[float]] = {label: [] for label in commands}
        for _ in range(args.runs):
            for label, cmd in commands.items():
                took, used = run(cmd, env)
                times[label].append(took)
                cpu[label].append(used)
    raw = statistics.median(times["python -c pass"])
    print(
        f"cold start to exit, {args.runs} interleaved runs each (target {TARGET_S * 1000:.0f} ms):"
    )
    for label, samples in times.items():
        med = statistics.median(samples)
        print(
            f"  {label:<40} wall median {med * 1000:5.0f} ms  min {min(samples) * 1000:5.0f}  "
            f"max {max(samples) * 1000:5.0f}  ({med / raw:4.1f}x pass)  "
            f"cpu median {statistics.median(cpu[label]) * 1000:5.0f} ms"
        )
    print(f"load average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
