"""Fuzzing the hub protocol: a real hub on 127.0.0.1, real WebSocket connections, random
messages and arguments. Whatever a station sends, it gets one reply with its id, a result or
a refusal with a stable code, never ``internal_error``; the connection stays up."""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from websockets.sync.client import ClientConnection, connect

from lobby_app.hub.commands import COMMANDS
from lobby_app.hub.thread import HubThread
from lobby_app.store import Store
from lobby_app.store.demo import DEMO_PIN, seed_demo
from tests.robustness import examples

HELLOS = {
    "desk": {"station": "desk", "staff": "L01", "pin": DEMO_PIN},
    "teller": {"station": "teller", "staff": "T01", "pin": DEMO_PIN, "window": 1},
    "manager": {"station": "manager", "staff": "M01", "pin": DEMO_PIN},
    "display": {"station": "display"},
}
# Argument names the commands read, so random values reach the checks behind them.
ARG_NAMES = [
    *("business", "customer_id", "vip", "vip_reason", "priority", "priority_reason", "needs"),
    *("greeting_note", "needs_note", "zone", "zone_reason", "window", "open", "ticket"),
    *("ticket_id", "score", "date", "to", "reason", "waiting", "self_service", "force"),
    *("to_zone", "to_window", "name", "phone", "id_number", "consent", "query", "need"),
    *("note", "slip_here", "closed", "all", "referral", "outcome", "product", "amount_fen"),
    *("follow_up_on", "ok", "detail"),
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=60),
    st.sampled_from(
        ["cash", "wealth", "vip", "A001", "ZJ1", "2026-11-20", "0001-01-01", "\x00", "true"]
    ),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
ARGS = st.dictionaries(st.sampled_from(ARG_NAMES), VALUES, max_size=6)


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    """(station kind, command, args): mostly a command that station may send, so the
    arguments reach the command's own checks rather than ``forbidden``."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(sorted(HELLOS))), draw(st.text(max_size=12)), draw(ARGS)
    command = draw(st.sampled_from(sorted(COMMANDS)))
    kinds = [k for k in COMMANDS[command].stations if k in HELLOS] or sorted(HELLOS)
    return draw(st.sampled_from(kinds)), command, draw(ARGS)


# The hub's keepalive pings (every 10 s, on its own thread) draw their payload from the
# ``random`` module, which Hypothesis takes for a strategy using it; they are not ours.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module:hypothesis.errors.HypothesisDeprecationWarning"
)
FUZZ = settings(
    max_examples=examples(150),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubThread]:
    base = tmp_path_factory.mktemp("fuzz-template")
    s = Store.open(base)
    seed_demo(s, customers=30)
    s.close()
    data = tmp_path_factory.mktemp("fuzz") / "data"
    shutil.copytree(base, data)
    store = Store.open(data)
    thread = HubThread(store, "127.0.0.1", 0)
    thread.start()
    try:
        yield thread
    finally:
        thread.stop()
        store.close()


@pytest.fixture(scope="module")
def stations(hub: HubThread) -> Iterator[dict[str, ClientConnection]]:
    out: dict[str, ClientConnection] = {}
    with contextlib.ExitStack() as stack:
        for kind, hello in HELLOS.items():
            ws = stack.enter_context(connect(hub.url, max_size=2**20))
            ws.send(json.dumps({"v": 1, "type": "hello", "id": "h", "key": hub.key, **hello}))
            assert json.loads(ws.recv(10))["ok"], kind
            out[kind] = ws
        yield out


def _reply(ws: ClientConnection, *rids: str | None) -> dict[str, Any]:
    """The next reply (events skipped); its id is one of ``rids``."""
    while True:
        msg: dict[str, Any] = json.loads(ws.recv(30))
        if msg.get("type") == "reply":
            assert msg.get("id") in rids, (rids, msg)
            return msg


def _check(reply: dict[str, Any]) -> None:
    assert reply["v"] == 1 and isinstance(reply["ok"], bool)
    if not reply["ok"]:
        assert reply["error"] != "internal_error", reply
        assert isinstance(reply["error"], str) and reply["message"], reply


@FUZZ
@given(request=requests(), n=st.integers(0, 10**9))
@example(request=("desk", "issue_ticket", {"business": "cash", "customer_id": ["x"]}), n=1)
@example(request=("desk", "issue_ticket", {"business": "cash", "greeting_note": "a\x00"}), n=2)
@example(
    request=(
        "manager", "record_outcome",
        {"referral": "ZJ1", "outcome": "sold", "product": "p", "amount_fen": 10**23},
    ),
    n=3,
)  # fmt: skip
@example(request=("desk", "report", {"date": "0001-01-01"}), n=4)
def test_any_request_gets_a_clean_answer(
    hub: HubThread,
    stations: dict[str, ClientConnection],
    request: tuple[str, str, dict[str, Any]],
    n: int,
) -> None:
    """Rule: every request, whatever its command and arguments (any JSON type, NUL, deep
    lists, huge integers), is answered with a result or a stable refusal code; no argument
    reaches the store unchecked as an ``internal_error``. The examples are the probe's."""
    kind, command, args = request
    ws = stations[kind]
    rid = f"f{n}"
    ws.send(json.dumps({"v": 1, "type": "request", "id": rid, "command": command, "args": args}))
    _check(_reply(ws, rid))


RAW = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200),
    st.builds(lambda d: "[" * d + "]" * d, st.integers(1, 40_000)),
    st.builds(
        lambda v, t, i: json.dumps({"v": v, "type": t, "id": i, "command": "queue"}),
        st.one_of(st.integers(), st.text(max_size=3), st.none()),
        st.one_of(st.sampled_from(["request", "hello", "reply"]), st.integers()),
        st.one_of(st.text(max_size=70), st.integers(), st.none()),
    ),
    st.sampled_from(
        [
            '{"v":1,"type":"request","id":"x","command":"queue","args":{"a":NaN}}',
            '{"v":1,"type":"request","id":"x","command":"queue","args":[]}',
            '{"v":1,"type":"request","id":"x","command":"queue","args":{"a":' + "1" * 5000 + "}}",
        ]
    ),
)


@FUZZ
@given(raw=RAW)
def test_any_frame_gets_a_refusal_and_the_connection_stays(
    hub: HubThread, stations: dict[str, ClientConnection], raw: str | bytes
) -> None:
    """Rule: a frame that is not a well-formed request (not JSON, binary, nested 40,000
    deep, a number JSON cannot hold, a wrong version) gets a refusal, and the connection
    survives it, except a wrong version, which the protocol closes on purpose."""
    ws = stations["desk"]
    ws.send(raw)
    reply = _reply(ws, None, _id_of(raw))  # no id when the frame could not be read
    _check(reply)
    ws.send(json.dumps({"v": 1, "type": "request", "id": "alive", "command": "queue"}))
    assert _reply(ws, "alive")["ok"]


def _id_of(raw: str | bytes) -> str | None:
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if isinstance(doc, dict) and doc.get("v") == 1 and doc.get("type") == "request":
        rid = doc.get("id")
        if (
            isinstance(rid, str)
            and rid
            and len(rid) <= 64
            and rid.isprintable()
            and isinstance(doc.get("command"), str)
        ):
            return rid
    return None


def test_after_the_fuzzing_no_internal_error_and_a_sound_store(hub: HubThread) -> None:
    """Rule: the hub's own count of internal errors stays 0 across everything above, and
    the store it kept is sound."""
    assert hub.hub.stats.as_json()["internal_errors"] == 0
    with hub.hub.store.read() as s:
        assert s.connection().exec_driver_sql("pragma integrity_check").scalar() == "ok"
