"""Crash test: the store's writers are killed (SIGKILL) at random moments, over and over,
while they issue, call and finish tickets. Afterwards the store is sound, the numbering has
no gap and no double, and every ticket whose command answered is there as answered."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

from lobby_app.core.errors import LobbyError
from lobby_app.models.base import utcnow
from lobby_app.store import Store, commands, db, teller
from lobby_app.store.commands import IssueRequest
from lobby_app.store.demo import seed_demo
from tests.robustness import examples

ROUNDS = examples(25)  # each kills all four writers: 100 kills by default
WINDOWS = {1: "T01", 2: "T02", 3: "T03"}
BUSINESS = ("cash", "cash", "remit_cash", "card", "wealth")


def _desk(data: str, answers: str, seed: int) -> None:
    """A desk issuing tickets as fast as it can; writes each answer after it came back."""
    store = Store.open(data)
    fd = os.open(answers, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    rnd = random.Random(seed)
    while True:
        t = commands.issue_ticket(store, IssueRequest(rnd.choice(BUSINESS)))
        os.write(fd, f"issued {t.number}\n".encode())


def _window(data: str, answers: str, window: int) -> None:
    """A teller calling and finishing at one window; each answer written once it came."""
    store = Store.open(data)
    fd = os.open(answers, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    while True:
        try:
            t = teller.call_next(store, window, actor=WINDOWS[window])
        except LobbyError:  # the queue is empty for now
            time.sleep(0.005)
            continue
        os.write(fd, f"called {t.number} {window}\n".encode())
        t = teller.finish(store, window, actor=WINDOWS[window])
        os.write(fd, f"finished {t.number} {window}\n".encode())


def _answers(path: Path) -> list[list[str]]:
    text = path.read_text() if path.exists() else ""
    return [line.split() for line in text.split("\n")[:-1]]  # a torn last line: not answered


def test_writers_killed_at_random_lose_and_double_nothing(tmp_path: Path) -> None:
    """Defect guarded (issue 16 item 13; the probe's 167 kills found nothing lost): a writer
    killed in the middle of a command must leave either the whole command or none of it.
    Checked after every round of kills, on the real store files."""
    data = tmp_path / "data"
    store = Store.open(data)
    seed_demo(store, customers=20)
    for window, staff in WINDOWS.items():
        teller.set_window_open(store, window, True, actor=staff)
    bdate = commands.settings(store).business_date(utcnow())
    store.close()
    answers = tmp_path / "answers.txt"
    ctx = multiprocessing.get_context("fork")
    rnd = random.Random(16)
    kills = 0
    t0 = time.monotonic()
    for round_no in range(ROUNDS):
        writers = [ctx.Process(target=_desk, args=(str(data), str(answers), round_no))]
        writers += [ctx.Process(target=_window, args=(str(data), str(answers), w)) for w in WINDOWS]
        for w in writers:
            w.start()
        time.sleep(rnd.uniform(0.15, 0.6))  # a random point in whatever each is doing
        for w in rnd.sample(writers, len(writers)):
            assert w.pid is not None
            os.kill(w.pid, signal.SIGKILL)
            kills += 1
            time.sleep(rnd.uniform(0, 0.02))
        for w in writers:
            w.join(10)
            assert w.exitcode == -signal.SIGKILL
        _check(data, answers, bdate.isoformat())
    got = _answers(answers)
    issued = sum(1 for a in got if a[0] == "issued")
    finished = sum(1 for a in got if a[0] == "finished")
    print(
        f"\ncrash test: {kills} kills in {ROUNDS} rounds, {time.monotonic() - t0:.1f} s; "
        f"{issued} tickets issued and {finished} finished with an answer; 0 lost, 0 doubled"
    )
    assert issued > ROUNDS and finished > 0  # the writers really worked between the kills


def _check(data: Path, answers: Path, bdate: str) -> None:
    con = sqlite3.connect(data / db.DB_NAME)  # after a kill: the WAL is recovered here
    try:
        assert con.execute("pragma integrity_check").fetchone() == ("ok",)
        assert con.execute("pragma foreign_key_check").fetchall() == []
        rows = con.execute(
            "select number, prefix, seq, day_seq, status, window_no from ticket"
            " where business_date = ?",
            (bdate,),
        ).fetchall()
        counters: dict[str, Any] = dict(
            con.execute(
                "select prefix, last_seq from number_counter where business_date = ?", (bdate,)
            ).fetchall()
        )
    finally:
        con.close()
    tickets = {r[0]: r for r in rows}
    assert len(tickets) == len(rows), "a number was given twice"
    day_seqs = sorted(r[3] for r in rows)
    assert day_seqs == list(range(1, len(rows) + 1)), "the day's numbering has a gap or a double"
    assert counters.get("*", 0) == len(rows), "the day's counter ran ahead of its tickets"
    for prefix in {r[1] for r in rows}:
        seqs = sorted(r[2] for r in rows if r[1] == prefix)
        assert seqs == list(range(1, len(seqs) + 1)), f"numbering of {prefix} has a gap"
        assert counters[prefix] == len(seqs), f"the counter of {prefix} ran ahead of its tickets"
    for a in _answers(answers):
        number = a[1]
        assert number in tickets, f"{a} answered, but the ticket is gone"
        status, window = tickets[number][4], tickets[number][5]
        if a[0] in ("called", "finished"):
            assert status != "waiting" and window == int(a[2]), (a, status, window)
        if a[0] == "finished":
            assert status == "done", (a, status)
