"""Private data through the hub (issue 16 items 10, 11): the station key checked by its
hash, and a referral's details only for its manager and the branch head."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from websockets.asyncio.client import connect

from lobby_app.core.errors import LobbyError
from lobby_app.hub.client import HubClient
from lobby_app.hub.server import Hub
from lobby_app.models import AuditEvent, Setting
from lobby_app.store import Store
from lobby_app.store.demo import DEMO_PIN
from lobby_app.store.staff import rotate_station_key
from tests.conftest import open_demo_copy
from tests.hub.test_hub import with_hub


@pytest.fixture
def store(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    s = open_demo_copy(tmp_path_factory, tmp_path / "data", 50)
    yield s
    s.close()


async def hello(hub: Hub, key: object) -> dict[str, Any]:
    async with connect(hub.url) as ws:
        await ws.send(
            json.dumps(
                {"v": 1, "type": "hello", "id": "h", "station": "display", "key": key},
            )
        )
        answer: dict[str, Any] = json.loads(await ws.recv())
        return answer


def test_the_hub_checks_the_station_key_by_its_hash(store: Store) -> None:
    """Was: the hub compared the key with the plain text kept in the store. Now the store
    keeps its hash; a rotated key replaces the old one at once, without a restart."""

    async def body(hub: Hub) -> None:
        assert hub.key  # made by this hub: the branch had none
        with store.read() as s:
            row = s.get(Setting, "station_key")
            assert row is not None and hub.key not in row.value
        assert (await hello(hub, hub.key))["ok"]
        for wrong in ("nope", "", None, ["k"]):
            answer = await hello(hub, wrong)
            assert not answer["ok"] and answer["error"] == "bad_station_key"
        new = rotate_station_key(store, actor="B01")
        assert (await hello(hub, hub.key))["error"] == "bad_station_key"
        assert (await hello(hub, new))["ok"]

    with_hub(store, body)


def test_another_manager_cannot_open_a_referral_through_the_hub(store: Store) -> None:
    """Was: ``referral`` answered any manager with the customer's name, the notes and the
    outcome. Now M01 is refused (audited) while M02, whose referral it is, and the branch
    head get it; the desk, live and in its list, follows the status only."""

    async def body(hub: Hub) -> None:
        key = hub.key
        assert key
        events: dict[str, list[dict[str, Any]]] = {"desk": [], "m02": []}

        def client(station: str, staff: str, keep: str | None = None) -> HubClient:
            def on_event(name: str, msg: dict[str, Any]) -> None:
                if keep and name == "referral":
                    events[keep].append(msg["data"])

            return HubClient(
                hub.url, station=station, key=key, staff=staff, pin=DEMO_PIN, on_event=on_event
            )

        desk = client("desk", "L01", "desk")
        m02, m01 = client("manager", "M02", "m02"), client("manager", "M01")
        head = client("manager", "B01")
        clients = (desk, m02, m01, head)
        tasks = [asyncio.create_task(c.run()) for c in clients]
        while not all(c.connected for c in clients):
            await asyncio.sleep(0.01)
        found = await desk.request("lookup", query="C000000001")
        ticket = await desk.request(
            "issue_ticket", business="wealth", customer_id=found[0]["id"], needs_note="定期到期"
        )
        ref = await desk.request(
            "refer", ticket=ticket["number"], to="M02", need="wealth", note="想买理财"
        )
        no = ref["referral_no"]
        await m02.request(
            "record_outcome",
            referral=no,
            outcome="sold",
            product="稳健理财",
            amount_fen=5_000_000,
            note="客户家里有变故",
        )
        with pytest.raises(LobbyError) as e:
            await m01.request("referral", referral=no)
        assert e.value.code == "not_your_referral" and "无权查看" in e.value.message
        for who in (m02, head):
            full = await who.request("referral", referral=no)
            assert full["outcome_note"] == "客户家里有变故" and full["customer"]["name"]
        status = await desk.request("referral", referral=no)
        assert status["status"] == "sold" and status["outcome_note"] == ""
        listed = await desk.request("referrals", closed=True)
        assert [r["referral_no"] for r in listed] == [no]
        assert listed[0]["outcome_note"] == "" and listed[0]["product"] == ""
        assert await m01.request("referrals", closed=True) == []
        while len(events["desk"]) < 2 or len(events["m02"]) < 2:
            await asyncio.sleep(0.01)
        assert events["m02"][-1]["outcome_note"] == "客户家里有变故"
        assert all(not e["outcome_note"] and not e["product"] for e in events["desk"])
        for c in clients:
            await c.close()
        for t in tasks:
            t.cancel()

    with_hub(store, body)
    with store.read() as s:
        refused = s.scalars(select(AuditEvent).where(AuditEvent.action == "referral_refused"))
        assert [a.actor for a in refused] == ["M01"]
