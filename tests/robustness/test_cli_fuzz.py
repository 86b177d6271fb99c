"""Fuzzing the command line: random values for the flags of the script commands, run as
``lobby-app`` runs them (``cli.main``). Every run ends with an exit code and, when refused,
a Chinese message; never an uncaught exception (a traceback for the person at the PC)."""

from __future__ import annotations

import contextlib
import gc
import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lobby_app.cli import main
from lobby_app.store import Store
from lobby_app.store.demo import seed_demo
from tests.robustness import examples

# what a terminal can pass: no NUL; bytes that are not UTF-8 arrive as lone surrogates
ARG = st.one_of(
    st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=40),
    st.sampled_from(
        [
            "0001-01-01", "9999-12-31", "today", "昨天", "1e400", "99999999999999999999999",
            "inf", "NaN", "-1", "0", "A001", "V001", "ZJ1", "M01", "T01", "L01", "cash", "wealth",
            "vip", "=cmd|' /C calc'!A0", "张\u202e三", "\x1b[2J", "\udcff", "A" * 41, "x" * 300,
        ]
    ),
)  # fmt: skip
NUMBER = st.one_of(st.integers(-5, 1200).map(str), ARG)


def _opt(flag: str, value: st.SearchStrategy[str] = ARG) -> st.SearchStrategy[list[str]]:
    return st.one_of(st.just([]), value.map(lambda v: [f"{flag}={v}"]))


def _command(name: str, *parts: st.SearchStrategy[list[str]]) -> st.SearchStrategy[list[str]]:
    return st.tuples(*parts).map(lambda lists: [name, *(a for part in lists for a in part)])


COMMANDS = st.one_of(
    _command(
        "ticket", _opt("--business"), _opt("--customer"), _opt("--priority"), _opt("--need"),
        _opt("--note"), _opt("--greeting"), _opt("--zone"), _opt("--zone-reason"),
        _opt("--vip-reason"), _opt("--actor"),
    ),
    _command("lookup", ARG.map(lambda v: ["--", v])),
    _command("queue"),
    _command("reprint", ARG.map(lambda v: ["--", v])),
    _command("report", ARG.map(lambda v: [f"--date={v}"]), _opt("--to")),
    _command(
        "close-day", _opt("--date"), _opt("--reason"), _opt("--actor"),
        st.sampled_from([[], ["--force"]]),
    ),
    _command(
        "referral-outcome",
        st.sampled_from(["sold", "declined", "follow_up", "accept"]).map(lambda o: [f"--outcome={o}"]),
        _opt("--amount"), _opt("--product"), _opt("--follow-up"), _opt("--note"), _opt("--actor"),
        ARG.map(lambda v: ["--", v]),  # the referral number, last: after "--" all is positional
    ),
    _command(
        "refer", ARG.map(lambda v: [f"--ticket={v}"]), ARG.map(lambda v: [f"--to={v}"]),
        ARG.map(lambda v: [f"--need={v}"]), _opt("--note"), _opt("--actor"),
        st.just(["--no-print"]),
    ),
    st.tuples(
        st.sampled_from(["call", "recall", "start", "finish", "no-show", "rate", "transfer"]),
        NUMBER, _opt("--score", NUMBER), _opt("--to-zone"), _opt("--to-window", NUMBER),
        _opt("--reason"), _opt("--actor"), _opt("--request-id"),
    ).map(
        lambda t: [t[0], f"--window={t[1]}", *(a for p in t[2:] for a in p)]
        + (["--score=3"] if t[0] == "rate" and not t[2] else [])
        + (["--to-zone=vip"] if t[0] == "transfer" and not (t[3] or t[4]) else [])
    ),
    _command(
        "register", ARG.map(lambda v: [f"--name={v}"]), ARG.map(lambda v: [f"--phone={v}"]),
        _opt("--id-number"), st.sampled_from([[], ["--consent"]]), _opt("--actor"),
    ),
    _command(
        "staff", st.just(["add", "X9"]), ARG.map(lambda v: [f"--name={v}"]),
        ARG.map(lambda v: [f"--role={v}"]), _opt("--actor"),
    ),
    _command("branch", _opt("--name"), _opt("--code"), _opt("--hours"), _opt("--actor")),
)  # fmt: skip


@pytest.fixture(scope="module")
def branch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    data = tmp_path_factory.mktemp("cli-fuzz") / "data"
    s = Store.open(data)
    seed_demo(s, customers=30)
    s.close()
    before = os.environ.get("LOBBY_STAFF")
    os.environ["LOBBY_STAFF"] = "L01"
    try:
        yield data
    finally:
        if before is None:
            os.environ.pop("LOBBY_STAFF", None)
        else:
            os.environ["LOBBY_STAFF"] = before
        shutil.rmtree(data, ignore_errors=True)


@settings(
    max_examples=examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(argv=COMMANDS)
@example(argv=["lookup", "--", "\udcff"])  # bytes that are not UTF-8 (a GBK terminal)
@example(argv=["report", "--date=0001-01-01"])
@example(argv=["referral-outcome", "--outcome=sold", "--product=p", "--amount=inf", "ZJ1"])
def test_any_arguments_end_with_an_exit_code(branch: Path, argv: list[str]) -> None:
    """Rule: whatever the flags say, the command answers with an exit code (0 done, 1-3
    refused or partly done, argparse's 2 for a malformed command line) and says why in
    Chinese; nothing escapes as a Python exception. (Output goes to strings, which hold
    what a terminal shows: a value that is not UTF-8 included.)"""
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main(["--data-dir", str(branch), "--json", *argv])
    except SystemExit as exc:  # argparse: usage and "error:" on stderr
        assert exc.code in (0, 2), argv
        return
    finally:
        gc.collect()  # each run opened the store: close what it left
    assert rc in (0, 1, 2, 3), (argv, rc)
    if rc == 2:
        assert err.getvalue().startswith("错误："), (argv, err.getvalue())
    assert "Traceback" not in err.getvalue()
    out.getvalue().encode("utf-8")  # what was printed can be written to a UTF-8 terminal
