"""What store commands hand back: plain, masked values that any station may show."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from lobby_app.core.business import NEED_TAGS, PriorityKind
from lobby_app.core.tiers import Tier, VipCard
from lobby_app.core.zones import Zone


@dataclass(frozen=True)
class VisitNote:
    business_date: date
    number: str
    business_name: str
    zone: Zone
    greeting_note: str
    needs_note: str
    needs: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "business_date": self.business_date.isoformat(),
            "number": self.number,
            "business": self.business_name,
            "zone": self.zone.value,
            "greeting_note": self.greeting_note,
            "needs_note": self.needs_note,
            "needs": list(self.needs),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> VisitNote:
        return cls(
            date.fromisoformat(d["business_date"]),
            d["number"],
            d["business"],
            Zone(d["zone"]),
            d["greeting_note"],
            d["needs_note"],
            tuple(d["needs"]),
        )

    @property
    def summary(self) -> str:
        tags = "、".join(NEED_TAGS.get(t, t) for t in self.needs)
        parts = [p for p in (self.greeting_note, tags, self.needs_note) if p]
        return f"{self.business_date:%m-%d} {self.business_name}：" + "；".join(parts)


@dataclass(frozen=True)
class CustomerView:
    id: str
    customer_no: str
    name: str
    salutation: str
    masked_id: str
    masked_phone: str
    masked_card: str
    tier: Tier
    vip_card: VipCard | None
    vip_special: bool
    prospect: bool
    manager: str
    recent_notes: tuple[VisitNote, ...] = ()
    matched: str = ""  # which field the search matched (a core.search.Matched value)
    card_note: str = ""  # 特批 (approver, end date) or 待降级 (core.tiers.card_note)

    @property
    def vip_entitled(self) -> bool:
        return self.tier is Tier.MID_HIGH or self.vip_card is not None

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "customer_no": self.customer_no,
            "name": self.name,
            "salutation": self.salutation,
            "id_number": self.masked_id,
            "phone": self.masked_phone,
            "card": self.masked_card,
            "tier": self.tier.value,
            "vip_card": self.vip_card.value if self.vip_card else None,
            "vip_special": self.vip_special,
            "vip": self.vip_entitled,
            "prospect": self.prospect,
            "manager": self.manager,
            "recent_notes": [n.as_json() for n in self.recent_notes],
            "matched": self.matched,
            "card_note": self.card_note,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> CustomerView:
        """Back from ``as_json()``, as a station receives it from the hub."""
        return cls(
            id=d["id"],
            customer_no=d["customer_no"],
            name=d["name"],
            salutation=d["salutation"],
            masked_id=d["id_number"],
            masked_phone=d["phone"],
            masked_card=d["card"],
            tier=Tier(d["tier"]),
            vip_card=VipCard(d["vip_card"]) if d["vip_card"] else None,
            vip_special=d["vip_special"],
            prospect=d["prospect"],
            manager=d["manager"],
            recent_notes=tuple(VisitNote.from_json(n) for n in d["recent_notes"]),
            matched=str(d.get("matched") or ""),  # absent from a hub of an older version
            card_note=str(d.get("card_note") or ""),
        )


@dataclass(frozen=True)
class IssuedTicket:
    id: str
    number: str
    business_date: date
    issued_at: datetime
    business_code: str
    business_name: str
    zone: Zone
    suggested_zone: Zone
    zone_reason: str
    customer_no: str | None
    salutation: str | None
    tier: Tier | None
    vip_card: VipCard | None
    vip: bool
    priority: PriorityKind | None
    green_channel: bool
    ahead: int
    estimated_wait_min: int
    needs: tuple[str, ...]
    # the windows open now for this ticket's queue, as the customer sees them ("贵宾理财室")
    windows: tuple[str, ...] = ()
    # an ID, phone or card number in the notes or reasons was masked when saved (JR/T 0171)
    notes_masked: bool = False

    @property
    def zone_overridden(self) -> bool:
        return self.zone is not self.suggested_zone

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "number": self.number,
            "business_date": self.business_date.isoformat(),
            "issued_at": self.issued_at.isoformat(),
            "business": self.business_code,
            "business_name": self.business_name,
            "zone": self.zone.value,
            "suggested_zone": self.suggested_zone.value,
            "zone_overridden": self.zone_overridden,
            "zone_reason": self.zone_reason,
            "customer_no": self.customer_no,
            "salutation": self.salutation,
            "tier": self.tier.value if self.tier else None,
            "vip_card": self.vip_card.value if self.vip_card else None,
            "vip": self.vip,
            "priority": self.priority.value if self.priority else None,
            "green_channel": self.green_channel,
            "ahead": self.ahead,
            "estimated_wait_min": self.estimated_wait_min,
            "needs": list(self.needs),
            "windows": list(self.windows),
            "notes_masked": self.notes_masked,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> IssuedTicket:
        return cls(
            id=d["id"],
            number=d["number"],
            business_date=date.fromisoformat(d["business_date"]),
            issued_at=datetime.fromisoformat(d["issued_at"]),
            business_code=d["business"],
            business_name=d["business_name"],
            zone=Zone(d["zone"]),
            suggested_zone=Zone(d["suggested_zone"]),
            zone_reason=d["zone_reason"],
            customer_no=d["customer_no"],
            salutation=d["salutation"],
            tier=Tier(d["tier"]) if d["tier"] else None,
            vip_card=VipCard(d["vip_card"]) if d["vip_card"] else None,
            vip=d["vip"],
            priority=PriorityKind(d["priority"]) if d["priority"] else None,
            green_channel=d["green_channel"],
            ahead=d["ahead"],
            estimated_wait_min=d["estimated_wait_min"],
            needs=tuple(d["needs"]),
            windows=tuple(d.get("windows", ())),
            notes_masked=bool(d.get("notes_masked", False)),
        )


@dataclass(frozen=True)
class QueueEntry:
    ticket_id: str
    number: str
    zone: Zone
    position: int  # 0 = next to be called
    business_name: str
    green_channel: bool
    vip: bool
    priority: PriorityKind | None
    tier: Tier | None
    issued_at: datetime
    waited_min: int
    lane: str = ""  # the queue it waits in (core/queue.py): a zone, or the VIP cash lane
    ahead: int = 0  # tickets of its lane called before it
    estimated_wait_min: int | None = None  # None: no open window serves its lane
    assigned_window: int | None = None  # transferred to this window

    def as_json(self) -> dict[str, object]:
        return {
            "ticket_id": self.ticket_id,
            "number": self.number,
            "zone": self.zone.value,
            "position": self.position,
            "business": self.business_name,
            "green_channel": self.green_channel,
            "vip": self.vip,
            "priority": self.priority.value if self.priority else None,
            "tier": self.tier.value if self.tier else None,
            "issued_at": self.issued_at.isoformat(),
            "waited_min": self.waited_min,
            "lane": self.lane,
            "ahead": self.ahead,
            "estimated_wait_min": self.estimated_wait_min,
            "assigned_window": self.assigned_window,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> QueueEntry:
        return cls(
            ticket_id=d["ticket_id"],
            number=d["number"],
            zone=Zone(d["zone"]),
            position=d["position"],
            business_name=d["business"],
            green_channel=d["green_channel"],
            vip=d["vip"],
            priority=PriorityKind(d["priority"]) if d["priority"] else None,
            tier=Tier(d["tier"]) if d["tier"] else None,
            issued_at=datetime.fromisoformat(d["issued_at"]),
            waited_min=d["waited_min"],
            lane=d.get("lane", ""),
            ahead=d.get("ahead", 0),
            estimated_wait_min=d.get("estimated_wait_min"),
            assigned_window=d.get("assigned_window"),
        )


@dataclass(frozen=True)
class ZoneQueue:
    zone: Zone
    waiting: tuple[QueueEntry, ...]
    longest_wait_min: int
    estimated_wait_min: int  # for someone arriving now without a flag
    open_windows: int

    def as_json(self) -> dict[str, object]:
        return {
            "zone": self.zone.value,
            "waiting_count": len(self.waiting),
            "longest_wait_min": self.longest_wait_min,
            "estimated_wait_min": self.estimated_wait_min,
            "open_windows": self.open_windows,
            "waiting": [e.as_json() for e in self.waiting],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ZoneQueue:
        return cls(
            zone=Zone(d["zone"]),
            waiting=tuple(QueueEntry.from_json(e) for e in d["waiting"]),
            longest_wait_min=d["longest_wait_min"],
            estimated_wait_min=d["estimated_wait_min"],
            open_windows=d["open_windows"],
        )


@dataclass(frozen=True)
class LobbySnapshot:
    business_date: date
    at: datetime
    zones: tuple[ZoneQueue, ...]
    issued_today: int
    branch_name: str = ""
    timezone: str = ""
    # lanes an open window with a teller serves now, for the desk's zone suggestion
    served_lanes: tuple[str, ...] = ()

    def zone(self, zone: Zone) -> ZoneQueue:
        return next(z for z in self.zones if z.zone is zone)

    def as_json(self) -> dict[str, object]:
        """The whole lobby for staff stations (no names: numbers, flags, tiers, waits)."""
        return {
            "business_date": self.business_date.isoformat(),
            "at": self.at.isoformat(),
            "zones": [z.as_json() for z in self.zones],
            "issued_today": self.issued_today,
            "branch_name": self.branch_name,
            "timezone": self.timezone,
            "served_lanes": list(self.served_lanes),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> LobbySnapshot:
        return cls(
            business_date=date.fromisoformat(d["business_date"]),
            at=datetime.fromisoformat(d["at"]),
            zones=tuple(ZoneQueue.from_json(z) for z in d["zones"]),
            issued_today=d["issued_today"],
            branch_name=d["branch_name"],
            timezone=d["timezone"],
            served_lanes=tuple(d.get("served_lanes", ())),
        )


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: bool = False
    errors: list[dict[str, object]] = field(default_factory=list)
    # rows taken in but flagged (a VIP card due for downgrade, 特批 over the branch's share)
    warnings: list[dict[str, object]] = field(default_factory=list)
    # a huge file lists its first 10,000 errors (and flags) and counts the rest
    errors_omitted: int = 0
    warnings_omitted: int = 0
    resumed_from_line: int = 0  # an import that stopped half-way, continued from this line

    @property
    def imported(self) -> int:
        return self.created + self.updated

    def as_json(self) -> dict[str, object]:
        return {
            "imported": self.imported,
            "created": self.created,
            "updated": self.updated,
            "skipped": self.skipped,
            "rejected": self.rejected,
            "errors": self.errors,
            "warnings": self.warnings,
            "errors_omitted": self.errors_omitted,
            "warnings_omitted": self.warnings_omitted,
            "resumed_from_line": self.resumed_from_line,
        }
