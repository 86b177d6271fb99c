"""The hub takes each argument as its JSON type says, and refuses abuse cleanly."""

from __future__ import annotations

import json
from typing import Any

from lobby_app.hub.server import Hub
from lobby_app.store import Store, commands
from lobby_app.store.demo import DEMO_PIN
from tests.hub.test_hub import raw_session, store, with_hub  # noqa: F401 - the fixture

DESK = {"station": "desk", "key": "", "staff": "L01", "pin": DEMO_PIN}


async def _ask(ws: Any, rid: str, command: str, **args: Any) -> dict[str, Any]:
    await ws.send(
        json.dumps({"v": 1, "type": "request", "id": rid, "command": command, "args": args})
    )
    while True:
        reply: dict[str, Any] = json.loads(await ws.recv())
        if reply.get("type") == "reply":
            return reply


async def _desk(hub: Hub) -> Any:
    ws, answer = await raw_session(hub, {**DESK, "key": hub.key})
    assert answer["ok"], answer
    return ws


def test_loose_types_are_refused_not_guessed(store: Store) -> None:  # noqa: F811
    """Defect pinned (issue 16 item 12): ``"vip": "false"`` issued a VIP ticket (any
    non-empty string is true in Python), ``window: true`` was taken as window 1 (bool is an
    int), and ``customer_id`` as a list went down to SQL as an internal error. Now each is
    ``bad_args`` naming the field, and nothing is issued or changed."""

    async def body(hub: Hub) -> None:
        ws = await _desk(hub)
        for n, (command, args, field) in enumerate(
            [
                ("issue_ticket", {"business": "cash", "vip": "false"}, "vip"),
                ("issue_ticket", {"business": "cash", "vip": 1}, "vip"),
                ("issue_ticket", {"business": "cash", "customer_id": ["x"]}, "customer_id"),
                ("issue_ticket", {"business": "cash", "needs": "wealth"}, "needs"),
                ("issue_ticket", {"business": ["cash"]}, "business"),
                ("window_open", {"window": True, "open": True}, "window"),
                ("window_open", {"window": 1, "open": "true"}, "open"),
                ("close_day", {"force": "yes"}, "force"),
                (
                    "register_customer",
                    {"name": "张三", "phone": "13800138000", "consent": 1},
                    "consent",
                ),
                ("report", {"date": 20261120}, "date"),
            ]
        ):
            reply = await _ask(ws, f"r{n}", command, **args)
            assert reply["ok"] is False, (command, args, reply)
            assert reply["error"] == "bad_args" and reply["field"] == field, reply
            assert reply["message"]
        await ws.close()

    with_hub(store, body)
    assert commands.lobby_snapshot(store).issued_today == 0


def test_hello_with_window_true_is_refused(store: Store) -> None:  # noqa: F811
    async def body(hub: Hub) -> None:
        ws, answer = await raw_session(
            hub,
            {"station": "teller", "window": True, "key": hub.key, "staff": "T01", "pin": DEMO_PIN},
        )
        assert answer["ok"] is False and answer["error"] == "malformed"
        await ws.close()

    with_hub(store, body)


def test_protocol_abuse_is_a_clean_refusal(store: Store) -> None:  # noqa: F811
    """Defect pinned (issue 16 item 12): a message nested 30,000 deep, numbers JSON cannot
    hold (1e400, NaN, an integer of 5,000 digits) and an amount of 99999999999999999999999
    fen gave ``internal_error`` (or killed the connection at hello); a NUL in a note was
    stored and then refused by head office on every sync. Now: ``malformed``, ``bad_amount``
    or ``bad_text`` with the connection still open, and nothing stored."""

    async def body(hub: Hub) -> None:
        deep = '{"v": 1, "type": "request", "id": "d", "command": "queue", "args": {"x": '
        deep += "[" * 30_000 + "]" * 30_000 + "}}"
        # at hello, before anything else
        from websockets.asyncio.client import connect

        ws0 = await connect(hub.url)
        await ws0.send(deep.replace('"request"', '"hello"'))
        first = json.loads(await ws0.recv())
        assert first["ok"] is False and first["error"] == "malformed"
        await ws0.close()
        ws = await _desk(hub)
        for raw in (
            deep,
            '{"v": 1, "type": "request", "id": "n", "command": "queue", "args": {"x": NaN}}',
            '{"v": 1, "type": "request", "id": "i", "command": "queue", "args": {"x": 1e400}}',
            '{"v": 1, "type": "request", "id": "b", "command": "queue", "args": {"x": '
            + "9" * 5000
            + "}}",
            '{"v": 1, "type": "request", "id": "' + "x" * 65 + '", "command": "queue"}',
        ):
            await ws.send(raw)
            reply = json.loads(await ws.recv())
            assert reply["ok"] is False and reply["error"] == "malformed", reply
        for n, (args, field, code) in enumerate(
            [
                (
                    {"business": "cash", "greeting_note": "带孙子\x00来的"},
                    "greeting_note",
                    "bad_text",
                ),
                ({"business": "cash", "needs_note": "\x1b[31m红字"}, "needs_note", "bad_text"),
                ({"business": "cash", "vip_reason": "老\u202e客户"}, "vip_reason", "bad_text"),
            ]
        ):
            reply = await _ask(ws, f"t{n}", "issue_ticket", **args)
            assert (reply["error"], reply["field"]) == (code, field), reply
        ok = await _ask(ws, "q", "queue")
        assert ok["ok"]  # the connection survived all of that
        await ws.close()
        stats = hub.stats.as_json()
        assert stats["internal_errors"] == 0

    with_hub(store, body)
    assert commands.lobby_snapshot(store).issued_today == 0


def test_referral_amounts_and_dates_out_of_range(store: Store) -> None:  # noqa: F811
    """Defect pinned (issue 16 item 12): an amount of 99999999999999999999999 fen reached
    SQLite (OverflowError: internal_error), and report dates 0001-01-01 / 9999-12-31
    overflowed the day's bounds. Now ``bad_amount`` / ``bad_args`` naming the field."""

    async def body(hub: Hub) -> None:
        desk = await _desk(hub)
        for n, day in enumerate(("0001-01-01", "9999-12-31")):
            reply = await _ask(desk, f"d{n}", "report", date=day)
            assert (reply["error"], reply["field"]) == ("bad_date", "date"), reply
            reply = await _ask(desk, f"c{n}", "close_day", date=day)
            assert (reply["error"], reply["field"]) == ("bad_date", "date"), reply
        await desk.close()
        mgr, answer = await raw_session(
            hub, {"station": "manager", "key": hub.key, "staff": "M02", "pin": DEMO_PIN}
        )
        assert answer["ok"]
        for n, amount in enumerate((99999999999999999999999, -1, True, 10**14 + 1)):
            reply = await _ask(
                mgr,
                f"a{n}",
                "record_outcome",
                referral="ZJ1",
                outcome="sold",
                product="理财",
                amount_fen=amount,
            )
            assert (reply["error"], reply["field"]) == ("bad_amount", "amount_fen"), reply
        await mgr.close()
        assert hub.stats.as_json()["internal_errors"] == 0

    with_hub(store, body)
