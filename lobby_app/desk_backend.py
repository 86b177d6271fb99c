"""What the lobby desk does, wherever the store is.

The desk window calls these on its worker thread (they block). ``LocalDesk`` works on the
store in this PC (the desk that is also the hub); ``RemoteDesk`` sends the same commands to
the branch hub over the LAN, for a second greeting desk. Both hand back the same values, so
the window cannot tell them apart; the ticket and slip print on this PC's printer either way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from lobby_app.core.business import BusinessType, Category
from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.core.staffing import DESK_ROLES, role_label
from lobby_app.core.zones import Zone
from lobby_app.lobby import (
    PrintOutcome,
    deliver_slip,
    deliver_summary,
    deliver_ticket,
    print_slip,
    print_ticket,
)
from lobby_app.store import commands
from lobby_app.store.admin import Person
from lobby_app.store.commands import IssueRequest
from lobby_app.store.db import Store
from lobby_app.store.referrals import CustomerBrief, ReferralView
from lobby_app.store.setup import BranchSettings
from lobby_app.store.teller import CounterState
from lobby_app.store.views import CustomerView, IssuedTicket, LobbySnapshot
from lobby_app.store.walkin import Registered

log = logging.getLogger(__name__)

LobbyView = tuple[LobbySnapshot, list[CounterState], list[ReferralView]]


class DeskBackend(Protocol):
    remote: bool

    @property
    def where(self) -> str:
        """Where the branch's data is, for the status bar."""
        ...

    def settings(self) -> BranchSettings: ...
    def business_types(self) -> list[BusinessType]: ...
    def lookup(self, text: str) -> list[CustomerView]: ...
    def customer(self, customer_id: str, *, actor: str) -> CustomerView: ...
    def issue(self, req: IssueRequest) -> tuple[IssuedTicket, PrintOutcome]: ...
    def reprint(self, issued: IssuedTicket, *, actor: str) -> PrintOutcome: ...
    def lobby(self) -> LobbyView: ...
    def managers(self) -> list[dict[str, Any]]: ...
    def refer(
        self, *, ticket: str, to: str, need: str, note: str, actor: str
    ) -> dict[str, Any]: ...
    def print_slip(self, referral: dict[str, Any]) -> dict[str, Any]: ...
    def summary(self, start: date, end: date) -> dict[str, Any]: ...
    def sync_status(self) -> dict[str, Any]: ...
    def close_day(self, day: date, *, actor: str, reason: str, force: bool) -> dict[str, Any]: ...
    def print_summary(
        self, figures: dict[str, Any], *, pdf_path: Path | None, prepared_by: str
    ) -> PrintOutcome: ...
    def sign_in(self, staff_no: str, pin: str) -> Person:
        """Check a desk person's staff number and PIN (wrong PIN, locked, not a desk role:
        LobbyError with the words to show)."""
        ...

    def register(
        self, *, name: str, phone: str, id_number: str | None, consent: bool, actor: str
    ) -> Registered: ...
    def record_takeover(self, *, before: Person, after: Person) -> None: ...


class LocalDesk:
    """The desk on the PC that holds the store."""

    remote = False

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def where(self) -> str:
        return f"数据目录 {self.store.data_dir}"

    def settings(self) -> BranchSettings:
        return commands.settings(self.store)

    def business_types(self) -> list[BusinessType]:
        return commands.business_types(self.store)

    def lookup(self, text: str) -> list[CustomerView]:
        return commands.lookup_customers(self.store, text)

    def customer(self, customer_id: str, *, actor: str) -> CustomerView:
        return commands.customer_detail(self.store, customer_id, actor=actor)

    def issue(self, req: IssueRequest) -> tuple[IssuedTicket, PrintOutcome]:
        issued = commands.issue_ticket(self.store, req)
        return issued, print_ticket(self.store, issued, actor=req.actor)

    def reprint(self, issued: IssuedTicket, *, actor: str) -> PrintOutcome:
        return print_ticket(self.store, issued, actor=actor)

    def lobby(self) -> LobbyView:
        from lobby_app.store import referrals, teller

        return (
            commands.lobby_snapshot(self.store),
            teller.counters_view(self.store),
            referrals.inbox(self.store, open_only=False, limit=100),
        )

    def managers(self) -> list[dict[str, Any]]:
        from lobby_app.store import referrals

        return referrals.managers(self.store)

    def refer(self, *, ticket: str, to: str, need: str, note: str, actor: str) -> dict[str, Any]:
        from lobby_app.store import referrals

        ref = referrals.refer(
            self.store, ticket_number=ticket, to_staff=to, need=need, note=note, actor=actor
        )
        return self.print_slip(ref)

    def print_slip(self, referral: dict[str, Any]) -> dict[str, Any]:
        return {**referral, "print": print_slip(self.store, referral).as_json()}

    def summary(self, start: date, end: date) -> dict[str, Any]:
        from lobby_app.store import dayclose

        return dayclose.summary(self.store, start, end)

    def sync_status(self) -> dict[str, Any]:
        from lobby_app.sync.engine import sync_status

        return sync_status(self.store).as_json()

    def close_day(self, day: date, *, actor: str, reason: str, force: bool) -> dict[str, Any]:
        from lobby_app.store import dayclose

        return dayclose.close_day(
            self.store, day, actor=actor, reason=reason, force=force
        ).as_json()

    def print_summary(
        self, figures: dict[str, Any], *, pdf_path: Path | None, prepared_by: str
    ) -> PrintOutcome:
        return deliver_summary(
            figures,
            self.settings(),
            self.store.data_dir,
            pdf_path=pdf_path,
            send_to_printer=pdf_path is None,
            prepared_by=prepared_by,
        )

    def sign_in(self, staff_no: str, pin: str) -> Person:
        from lobby_app.store.staff import login

        no = _staff_no(staff_no)
        who = login(self.store, no, pin)
        person = Person(who.staff_no, who.name, who.role)
        _check_desk_role(person)
        return person

    def register(
        self, *, name: str, phone: str, id_number: str | None, consent: bool, actor: str
    ) -> Registered:
        from lobby_app.store import walkin

        return walkin.register_walk_in(
            self.store, name=name, phone=phone, id_number=id_number, consent=consent, actor=actor
        )

    def record_takeover(self, *, before: Person, after: Person) -> None:
        commands.record_audit(
            self.store,
            actor=after.staff_no,
            action="desk_takeover",
            detail=f"{before.staff_no}->{after.staff_no}",
        )


def _staff_no(staff_no: str) -> str:
    no = (staff_no or "").strip()
    if not no:
        raise LobbyError("required", tr("请输入工号"), field="staff")
    return no


def _check_desk_role(person: Person) -> None:
    if person.role not in DESK_ROLES:
        raise LobbyError(
            "wrong_role",
            tr(
                f"{person.name}（{person.staff_no}）是{role_label(person.role)}，不能登录大堂工作台。"
                "请大堂经理、大堂引导员或网点负责人登录"
            ),
            field="staff",
        )


Call = Callable[[str, dict[str, Any]], Any]


class RemoteDesk:
    """A desk on another PC: every command goes through the hub (``call`` blocks until the
    hub answers, across a reconnection); tickets and slips print here."""

    remote = True

    def __init__(self, call: Call, url: str, data_dir: Path, *, key: str = "") -> None:
        self.call = call  # replaced when another person takes over the desk (a new log-in)
        self.url = url
        self.data_dir = data_dir
        self.key = key  # the branch's station key, to check a person at the hub
        self._settings: BranchSettings | None = None

    @property
    def where(self) -> str:
        return f"网点主机 {self.url}"

    def settings(self) -> BranchSettings:
        self._settings = BranchSettings(**self.call("branch", {}))
        return self._settings

    def _st(self) -> BranchSettings:
        return self._settings or self.settings()

    def business_types(self) -> list[BusinessType]:
        return [
            BusinessType(
                code=b["code"],
                name=b["name"],
                category=Category(b["category"]),
                zone=Zone(b["zone"]),
                service_minutes=b["service_minutes"],
                counter_zone=Zone(b["counter_zone"]) if b["counter_zone"] else None,
                sort_order=b["sort_order"],
            )
            for b in self.call("business_types", {})
        ]

    def lookup(self, text: str) -> list[CustomerView]:
        return [CustomerView.from_json(c) for c in self.call("lookup", {"query": text})]

    def customer(self, customer_id: str, *, actor: str) -> CustomerView:
        return CustomerView.from_json(self.call("customer", {"customer_id": customer_id}))

    def issue(self, req: IssueRequest) -> tuple[IssuedTicket, PrintOutcome]:
        args = {k: v for k, v in asdict(req).items() if k not in ("actor", "business_code")}
        args["business"] = req.business_code
        args["needs"] = list(req.needs)
        args["zone"] = req.zone.value if req.zone else None
        args["priority"] = req.priority.value if req.priority else None
        issued = IssuedTicket.from_json(self.call("issue_ticket", args))
        return issued, self.reprint(issued, actor=req.actor)

    def reprint(self, issued: IssuedTicket, *, actor: str) -> PrintOutcome:
        def record(ok: bool, detail: str) -> None:  # a failure: said in the outcome
            self.call("record_print", {"ticket_id": issued.id, "ok": ok, "detail": detail})

        return deliver_ticket(issued, self._st(), self.data_dir, record=record)

    def lobby(self) -> LobbyView:
        snap = LobbySnapshot.from_json(self.call("lobby", {}))
        counters = [CounterState(**c) for c in self.call("counters", {})]
        refs = [_referral(r) for r in self.call("referrals", {"closed": True})]
        return snap, counters, refs

    def managers(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.call("managers", {})
        return result

    def refer(self, *, ticket: str, to: str, need: str, note: str, actor: str) -> dict[str, Any]:
        ref = self.call("refer", {"ticket": ticket, "to": to, "need": need, "note": note})
        return self.print_slip(ref)

    def print_slip(self, referral: dict[str, Any]) -> dict[str, Any]:
        outcome = deliver_slip(referral, self._st(), self.data_dir)
        return {**referral, "print": outcome.as_json()}

    def sync_status(self) -> dict[str, Any]:
        result: dict[str, Any] = self.call("sync_status", {})
        return result

    def summary(self, start: date, end: date) -> dict[str, Any]:
        result: dict[str, Any] = self.call(
            "report", {"date": start.isoformat(), "to": end.isoformat()}
        )
        return result

    def close_day(self, day: date, *, actor: str, reason: str, force: bool) -> dict[str, Any]:
        result: dict[str, Any] = self.call(
            "close_day", {"date": day.isoformat(), "reason": reason, "force": force}
        )
        return result

    def print_summary(
        self, figures: dict[str, Any], *, pdf_path: Path | None, prepared_by: str
    ) -> PrintOutcome:
        return deliver_summary(
            figures,
            self._st(),
            self.data_dir,
            pdf_path=pdf_path,
            send_to_printer=pdf_path is None,
            prepared_by=prepared_by,
        )

    def sign_in(self, staff_no: str, pin: str) -> Person:
        """The hub checks the person: a short log-in of its own, closed at once."""
        from lobby_app.hub.client import HubClient

        no = _staff_no(staff_no)
        client = HubClient(self.url, station="desk", key=self.key, staff=no, pin=pin)

        async def check() -> dict[str, Any]:
            try:
                await client.connect_once()
                return dict(client.welcome)
            finally:
                await client.close()

        welcome = asyncio.run(check())
        return Person(
            str(welcome.get("staff") or no), str(welcome.get("name") or ""), str(welcome["role"])
        )

    def register(
        self, *, name: str, phone: str, id_number: str | None, consent: bool, actor: str
    ) -> Registered:
        got = self.call(
            "register_customer",
            {"name": name, "phone": phone, "id_number": id_number or "", "consent": consent},
        )
        return Registered(**got)

    def record_takeover(self, *, before: Person, after: Person) -> None:
        # The hub knows the new person from the new log-in; it has no command for this record.
        log.info("desk taken over at %s: %s -> %s", self.url, before.staff_no, after.staff_no)


def _referral(d: dict[str, Any]) -> ReferralView:
    cust = d.get("customer")
    return ReferralView(**{**d, "customer": CustomerBrief(**cust) if cust else None})
