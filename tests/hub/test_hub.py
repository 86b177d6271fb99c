"""A real hub on 127.0.0.1 with real WebSocket clients."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from lobby_app.core.business import PriorityKind
from lobby_app.core.errors import LobbyError
from lobby_app.core.pins import hash_pin
from lobby_app.core.zones import Zone
from lobby_app.hub.client import HubClient
from lobby_app.hub.server import Hub
from lobby_app.models import Counter, Staff
from lobby_app.store import Store, commands
from lobby_app.store.commands import IssueRequest
from lobby_app.store.demo import DEMO_PIN, seed_demo

_TEMPLATE: dict[str, Path] = {}


@pytest.fixture
def store(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    if "dir" not in _TEMPLATE:
        base = tmp_path_factory.mktemp("hub-template")
        s = Store.open(base)
        seed_demo(s, customers=100)
        digest = hash_pin(DEMO_PIN)
        with s.write() as w:  # twenty more closed-counter windows for the race, a teller each
            w.add_all(
                Counter(window_no=n, staff_no="T99", name=f"{n}号", zones="closed_counter")
                for n in range(11, 31)
            )
            w.add_all(
                Staff(staff_no=f"W{n}", name=f"柜员{n}", role="teller", pin_hash=digest)
                for n in range(11, 31)
            )
        s.close()
        _TEMPLATE["dir"] = base
    shutil.copytree(_TEMPLATE["dir"], tmp_path / "data")
    s = Store.open(tmp_path / "data")
    yield s
    s.close()


def with_hub(store: Store, body: Callable[[Hub], Awaitable[None]]) -> None:
    async def main() -> None:
        hub = Hub(store, "127.0.0.1", 0)
        await hub.start()
        try:
            await asyncio.wait_for(body(hub), 120)
        finally:
            await hub.stop()

    asyncio.run(main())


def teller(hub: Hub, window: int, **kw: Any) -> HubClient:
    """A teller station; one person signs in at one window only. The VIP room (7) is a
    customer manager's: a closed-counter teller may not claim it (issue 16 item 12)."""
    staff = f"W{window}" if window >= 11 else ("M03" if window == 7 else "T01")
    return HubClient(
        hub.url, station="teller", key=hub.key, staff=staff, pin=DEMO_PIN, window=window, **kw
    )


async def raw_session(hub: Hub, hello: dict[str, Any]) -> Any:
    ws = await connect(hub.url)
    await ws.send(json.dumps({"v": 1, "type": "hello", "id": "h", **hello}))
    return ws, json.loads(await ws.recv())


def test_twenty_tellers_race_and_each_ticket_is_called_once(store: Store) -> None:
    for i in range(120):
        commands.issue_ticket(
            store, IssueRequest("cash", priority=PriorityKind.ELDERLY if i % 9 == 0 else None)
        )

    async def body(hub: Hub) -> None:
        clients = [teller(hub, 11 + i) for i in range(20)]
        await asyncio.gather(*(c.connect_once() for c in clients))
        runners = [asyncio.create_task(c._receive()) for c in clients]

        async def drain(c: HubClient) -> list[str]:
            got = []
            while True:
                try:
                    got.append((await c.request("call_next"))["ticket_id"])
                except LobbyError as exc:
                    assert exc.code == "queue_empty", exc.message
                    return got

        results = await asyncio.gather(*(drain(c) for c in clients))
        called = [t for r in results for t in r]
        assert len(called) == 120 and len(set(called)) == 120
        assert sum(1 for r in results if r) > 1  # really shared among windows
        for c in clients:
            await c.close()
        for r in runners:
            r.cancel()

    with_hub(store, body)


def test_wrong_key_wrong_role_wrong_pin_refused(store: Store) -> None:
    async def body(hub: Hub) -> None:
        ws, answer = await raw_session(
            hub, {"station": "teller", "window": 1, "key": "nope", "staff": "T01", "pin": DEMO_PIN}
        )
        assert not answer["ok"] and answer["error"] == "bad_station_key"
        assert "站点密钥" in answer["message"]
        await ws.close()
        ws, answer = await raw_session(
            hub, {"station": "desk", "key": hub.key, "staff": "T01", "pin": DEMO_PIN}
        )
        assert answer["error"] == "wrong_role"
        await ws.close()
        ws, answer = await raw_session(
            hub, {"station": "desk", "key": hub.key, "staff": "L01", "pin": "9999"}
        )
        assert answer["error"] == "login_failed"
        await ws.close()

    with_hub(store, body)


def test_lockout_after_repeated_failures(store: Store) -> None:
    async def body(hub: Hub) -> None:
        for _ in range(5):
            ws, answer = await raw_session(
                hub, {"station": "desk", "key": hub.key, "staff": "L01", "pin": "0000"}
            )
            assert answer["error"] == "login_failed"
            await ws.close()
        ws, answer = await raw_session(
            hub, {"station": "desk", "key": hub.key, "staff": "L01", "pin": DEMO_PIN}
        )
        assert answer["error"] == "login_locked"  # even the right PIN, for a while
        await ws.close()

    with_hub(store, body)


def test_malformed_oversized_forbidden_and_unknown(store: Store) -> None:
    async def body(hub: Hub) -> None:
        ws, answer = await raw_session(
            hub, {"station": "teller", "window": 1, "key": hub.key, "staff": "T01", "pin": DEMO_PIN}
        )
        assert answer["ok"] and answer["result"]["window"] == 1
        for raw, code in [
            ("{not json", "malformed"),
            (json.dumps({"v": 1, "type": "request", "command": "queue"}), "malformed"),
            (
                json.dumps({"v": 9, "type": "request", "id": "x", "command": "queue"}),
                "unsupported_version",
            ),
            (
                json.dumps(
                    {
                        "v": 1,
                        "type": "request",
                        "id": "a",
                        "command": "issue_ticket",
                        "args": {"business": "cash"},
                    }
                ),
                "forbidden",
            ),
            (
                json.dumps({"v": 1, "type": "request", "id": "b", "command": "fly"}),
                "unknown_command",
            ),
            (
                json.dumps(
                    {
                        "v": 1,
                        "type": "request",
                        "id": "c",
                        "command": "queue",
                        "args": {"pad": "x" * 70_000},
                    }
                ),
                "message_too_large",
            ),
        ]:
            await ws.send(raw)
            reply = json.loads(await ws.recv())
            assert reply["ok"] is False and reply["error"] == code, (raw[:40], reply)
            assert reply["message"]
        await ws.send(json.dumps({"v": 1, "type": "request", "id": "d", "command": "queue"}))
        assert json.loads(await ws.recv())["ok"]  # the connection survived all of that
        await ws.close()

    with_hub(store, body)


def test_lost_reply_retried_with_same_id_acts_once(store: Store) -> None:
    commands.issue_ticket(store, IssueRequest("cash"))
    commands.issue_ticket(store, IssueRequest("cash"))
    hello = {"station": "teller", "window": 1, "key": "", "staff": "T01", "pin": DEMO_PIN}

    async def body(hub: Hub) -> None:
        hello["key"] = hub.key
        req = json.dumps({"v": 1, "type": "request", "id": "r-42", "command": "call_next"})
        ws, _ = await raw_session(hub, hello)
        await ws.send(req)
        await ws.close()  # the reply is lost with the connection
        await asyncio.sleep(0.2)
        ws, _ = await raw_session(hub, hello)
        await ws.send(req)
        reply = json.loads(await ws.recv())
        while reply.get("type") != "reply":
            reply = json.loads(await ws.recv())
        assert reply["ok"] and reply["result"]["number"] == "A001"
        await ws.close()

    with_hub(store, body)
    snap = commands.lobby_snapshot(store)
    assert [e.number for e in snap.zone(Zone.CLOSED_COUNTER).waiting] == ["A002"]


def test_events_reach_every_station_and_display_sees_no_personal_data(store: Store) -> None:
    async def body(hub: Hub) -> None:
        seen: list[tuple[str, dict[str, Any]]] = []
        display = HubClient(
            hub.url,
            station="display",
            key=hub.key,
            on_event=lambda name, msg: seen.append((name, msg)),
        )
        desk = HubClient(hub.url, station="desk", key=hub.key, staff="L01", pin=DEMO_PIN)
        tel = teller(hub, 4)
        tasks = [asyncio.create_task(c.run()) for c in (display, desk, tel)]
        while not (display.connected and desk.connected and tel.connected):
            await asyncio.sleep(0.01)
        found = await desk.request("lookup", query="oymh")
        assert found and found[0]["name"] == "欧阳明华"  # the desk may see the customer
        issued = await desk.request(
            "issue_ticket", business="cash", customer_id=found[0]["id"], greeting_note="老客户"
        )
        assert issued["number"] == "V001"
        called = await tel.request("call_next")
        assert called["number"] == "V001" and called["window"] == 4
        while not any(n == "called" for n, _ in seen):
            await asyncio.sleep(0.01)
        text = json.dumps([m for _, m in seen], ensure_ascii=False)
        assert "V001" in text
        for secret in ("欧阳", "C000000001", "老客户", "mid_high", "black_gold"):
            assert secret not in text
        with pytest.raises(LobbyError) as e:
            await display.request("lookup", query="oymh")
        assert e.value.code == "forbidden"
        for c in (display, desk, tel):
            await c.close()
        for t in tasks:
            t.cancel()

    with_hub(store, body)


def test_client_reports_loss_reconnects_and_loses_nothing(store: Store) -> None:
    async def body(hub: Hub) -> None:
        states: list[bool] = []
        desk = HubClient(
            hub.url,
            station="desk",
            key=hub.key,
            staff="L01",
            pin=DEMO_PIN,
            on_state=lambda up, why: states.append(up),
        )
        task = asyncio.create_task(desk.run())
        while not desk.connected:
            await asyncio.sleep(0.01)
        first = await desk.request("issue_ticket", business="cash")
        port = hub.port
        await hub.stop()  # the hub PC goes away
        while desk.connected:
            await asyncio.sleep(0.01)
        assert states[-1] is False  # said at once
        pending = asyncio.create_task(desk.request("issue_ticket", business="cash"))
        await asyncio.sleep(0.3)
        again = Hub(store, "127.0.0.1", port)
        await again.start()
        second = await pending
        assert (first["number"], second["number"]) == ("A001", "A002")
        assert states[-1] is True and states.count(True) == 2
        lobby = desk.welcome["lobby"]  # the view reloaded on reconnect
        assert (desk.welcome["staff"], desk.welcome["name"]) == ("L01", "陈静")
        assert lobby["issued_today"] in (1, 2)  # reloaded before or after the retried issue
        await desk.close()
        task.cancel()
        await again.stop()

    async def main() -> None:
        hub = Hub(store, "127.0.0.1", 0)
        await hub.start()
        await asyncio.wait_for(body(hub), 60)

    asyncio.run(main())


def test_referral_reaches_its_manager_live_and_no_one_else(store: Store) -> None:
    async def body(hub: Hub) -> None:
        got: dict[str, list[dict[str, Any]]] = {"m02": [], "m01": [], "display": []}

        def keep(who: str) -> Callable[[str, dict[str, Any]], None]:
            return lambda name, msg: got[who].append(msg) if name == "referral" else None

        def mgr(staff: str) -> HubClient:
            return HubClient(
                hub.url,
                station="manager",
                key=hub.key,
                staff=staff,
                pin=DEMO_PIN,
                on_event=keep(staff.lower()),
            )

        m02, m01 = mgr("M02"), mgr("M01")
        display = HubClient(hub.url, station="display", key=hub.key, on_event=keep("display"))
        desk = HubClient(hub.url, station="desk", key=hub.key, staff="L01", pin=DEMO_PIN)
        tel = teller(hub, 7)
        clients = (m02, m01, display, desk, tel)
        tasks = [asyncio.create_task(c.run()) for c in clients]
        while not all(c.connected for c in clients):
            await asyncio.sleep(0.01)
        found = await desk.request("lookup", query="C000000001")
        await desk.request(
            "issue_ticket",
            business="wealth",
            customer_id=found[0]["id"],
            needs=["deposit_maturing"],
            needs_note="定期下周到期",
        )
        called = await tel.request("call_next")
        card = called["card"]  # the pop-up comes in the same reply
        assert card["salutation"] == "欧阳先生" and card["needs_note"] == "定期下周到期"
        assert card["marketing"] and "贵宾" in card["flags"]
        ref = await tel.request("refer", ticket=called["number"], to="M02", need="wealth")
        while not got["m02"]:
            await asyncio.sleep(0.01)
        assert got["m02"][0]["data"]["referral_no"] == ref["referral_no"]
        with pytest.raises(LobbyError) as e:
            await m01.request("accept_referral", referral=ref["referral_no"])
        assert e.value.code == "not_your_referral"
        inbox = await m02.request("referrals")
        assert [r["referral_no"] for r in inbox] == [ref["referral_no"]]
        done = await m02.request(
            "record_outcome",
            referral=ref["referral_no"],
            outcome="sold",
            product="理财",
            amount_fen=100_000_00,
        )
        assert done["credits"][0]["staff"] == "M01"  # the VIP's own manager
        with pytest.raises(LobbyError) as e:
            await tel.request("record_outcome", referral=ref["referral_no"], outcome="declined")
        assert e.value.code == "forbidden"
        await asyncio.sleep(0.2)
        assert got["m01"] == [] and got["display"] == []
        for c in clients:
            await c.close()
        for t in tasks:
            t.cancel()

    with_hub(store, body)


def test_day_close_and_summary_through_the_hub(store: Store) -> None:
    async def body(hub: Hub) -> None:
        lobbies: list[dict[str, Any]] = []
        desk = HubClient(hub.url, station="desk", key=hub.key, staff="L01", pin=DEMO_PIN)
        guide = HubClient(hub.url, station="desk", key=hub.key, staff="G01", pin=DEMO_PIN)
        display = HubClient(
            hub.url,
            station="display",
            key=hub.key,
            on_event=lambda name, msg: lobbies.append(msg["data"]) if name == "lobby" else None,
        )
        tel = teller(hub, 1)
        clients = (desk, guide, display, tel)
        tasks = [asyncio.create_task(c.run()) for c in clients]
        while not all(c.connected for c in clients):
            await asyncio.sleep(0.01)
        await desk.request("issue_ticket", business="cash")
        await desk.request("issue_ticket", business="cash")
        await tel.request("call_next")
        await tel.request("finish")
        rated = await tel.request("rate", score=4)
        assert rated["number"] == "A001"
        live = await desk.request("report")
        assert (live["issued"], live["served"], live["waiting"], live["close"]) == (2, 1, 1, None)
        assert live["ratings"]["avg"] == 4.0
        for who, command in ((tel, "report"), (display, "report"), (tel, "close_day")):
            with pytest.raises(LobbyError) as e:
                await who.request(command)
            assert e.value.code == "forbidden"
        with pytest.raises(LobbyError) as e:
            await guide.request("close_day")
        assert e.value.code == "wrong_role"
        lobbies.clear()
        rec = await desk.request("close_day", reason="下班")
        assert rec["version"] == 1 and rec["settled"] == {"left": ["A002"]}
        while not lobbies or lobbies[-1]["zones"][1]["waiting_count"] != 0:
            await asyncio.sleep(0.01)  # the display sees the queue emptied
        frozen = await desk.request("report")
        assert frozen["close"]["actor"] == "L01" and frozen["left"] == 1
        with pytest.raises(LobbyError) as e:
            await desk.request("issue_ticket", business="cash")
        assert e.value.code == "day_closed"
        with pytest.raises(LobbyError) as e:
            await desk.request("report", date="2026-13-01")
        assert e.value.code == "bad_args"
        for c in clients:
            await c.close()
        await asyncio.gather(*tasks, return_exceptions=True)

    with_hub(store, body)


def test_the_pad_rates_the_customer_who_just_left_not_the_one_called(store: Store) -> None:
    """Defect: through the hub as at the store, a rating pressed after call next (without
    finish) went to the customer just called. The hub's ``rate`` is the store's rule: the
    service that just ended at the station's window, once; otherwise refused in words."""

    async def body(hub: Hub) -> None:
        desk = HubClient(hub.url, station="desk", key=hub.key, staff="L01", pin=DEMO_PIN)
        tel = teller(hub, 1)
        clients = (desk, tel)
        tasks = [asyncio.create_task(c.run()) for c in clients]
        while not all(c.connected for c in clients):
            await asyncio.sleep(0.01)
        first = await desk.request("issue_ticket", business="cash")
        second = await desk.request("issue_ticket", business="cash")
        with pytest.raises(LobbyError) as e:
            await tel.request("rate", score=5)  # nobody served yet
        assert e.value.code == "no_customer"
        assert (await tel.request("call_next"))["number"] == first["number"]
        assert (await tel.request("call_next"))["number"] == second["number"]  # F1, no F5
        rated = await tel.request("rate", score=3)
        assert rated["number"] == first["number"]
        with pytest.raises(LobbyError) as e:
            await tel.request("rate", score=5)
        assert e.value.code == "already_rated"
        live = await desk.request("report")
        assert live["ratings"]["n"] == 1 and live["ratings"]["avg"] == 3.0
        for c in clients:
            await c.close()
        await asyncio.gather(*tasks, return_exceptions=True)

    with_hub(store, body)


def test_a_hello_of_another_protocol_version_is_refused_and_closed(store: Store) -> None:
    """docs/protocol.md: a station speaking another version is told so and disconnected
    (4400), so an old station cannot go on as if it were understood."""

    async def body(hub: Hub) -> None:
        ws = await connect(hub.url)
        hello = {"station": "desk", "key": hub.key, "staff": "L01", "pin": DEMO_PIN}
        await ws.send(json.dumps({"v": 2, "type": "hello", "id": "h", **hello}))
        answer = json.loads(await ws.recv())
        assert answer["ok"] is False and answer["error"] == "unsupported_version"
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        assert ws.close_code == 4400

    with_hub(store, body)
