"""Closing the business day (日终): settle what is still open, freeze the day's figures.

A close is version 1 of the day's figures. A later correction (``correct``) adds a version
with its reason; a reopen (for a close made by mistake) adds a version that marks the day
open again. Nothing is overwritten: the summary of a closed day prints the latest close or
correction, and says when the store has changed since.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lobby_app.core import limits
from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.core.identity import mask_free_text
from lobby_app.core.limits import check_text
from lobby_app.core.zones import Zone
from lobby_app.models import AuditEvent, DayClose, Ticket, TicketEvent
from lobby_app.models.base import utcnow
from lobby_app.store import report
from lobby_app.store.closed import is_closed, latest_close, staff_label
from lobby_app.store.db import Store
from lobby_app.store.setup import load_settings

WAITING_OUTCOMES = ("left", "not_served", "done")
SELF_SERVICE_OUTCOMES = ("done", "left")
OUTCOME_LABELS = {
    "done": tr("已办理"),
    "left": tr("离开未办理"),
    "not_served": tr("未能办理"),
    "no_show": tr("过号未到"),
}
CLOSING_ROLES = ("lobby_manager", "branch_head")
REASON_MAX = limits.REASON_MAX


@dataclass(frozen=True)
class CloseRecord:
    business_date: str
    version: int
    kind: str  # close / correction / reopened
    at: str
    actor: str
    actor_name: str
    reason: str
    settled: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _record(s: Session, row: DayClose) -> CloseRecord:
    return CloseRecord(
        business_date=row.business_date.isoformat(),
        version=row.version,
        kind=row.kind,
        at=row.at.isoformat(),
        actor=row.actor,
        actor_name=staff_label(s, row.actor),
        reason=row.reason,
        settled=json.loads(row.settled) if row.settled else {},
    )


def _check_actor(s: Session, actor: str) -> None:
    from lobby_app.store.admin import check_person

    check_person(s, actor, CLOSING_ROLES, doing=tr("日终"))


def _reason(reason: str, required: bool, what: str) -> str:
    # the limit is head office's column; no NUL/ESC (core/limits.py)
    reason = check_text(reason, field="reason", label=tr("原因"), limit=REASON_MAX, code="too_long")
    if required and not reason:
        raise LobbyError("reason_required", tr(f"{what}请填写原因（--reason）"), field="reason")
    return mask_free_text(reason)  # no full ID/phone/card kept in free text (JR/T 0171)


def close_day(
    store: Store,
    bdate: date | None = None,
    *,
    actor: str,
    reason: str = "",
    waiting: str = "left",
    self_service: str = "done",
    force: bool = False,
    now: datetime | None = None,
) -> CloseRecord:
    """Settle the day's open tickets and freeze its figures.

    ``waiting``: what became of customers still waiting for a counter (left, not_served, done);
    ``self_service``: of tickets still open in the self-service zone (done: the guide helped
    them at the machines; left). A window still serving stops the close unless ``force``: then
    the customer at the window counts as served and a called customer who never came as a no-show.
    """
    if waiting not in WAITING_OUTCOMES:
        raise LobbyError(
            "bad_outcome",
            tr(f"等候客户的结算方式应为 {'/'.join(WAITING_OUTCOMES)}"),
            field="waiting",
        )
    if self_service not in SELF_SERVICE_OUTCOMES:
        raise LobbyError(
            "bad_outcome",
            tr(f"自助区客户的结算方式应为 {'/'.join(SELF_SERVICE_OUTCOMES)}"),
            field="self_service",
        )
    reason = _reason(reason, False, "")
    now = now or utcnow()
    with store.write() as s:
        _check_actor(s, actor)
        st = load_settings(s)
        today = st.business_date(now)
        bdate = bdate or today
        if bdate > today:
            raise LobbyError("future_date", tr(f"{bdate} 还没到，不能日终"), field="date")
        done = is_closed(s, bdate)
        if done is not None:
            raise LobbyError(
                "already_closed",
                tr(
                    f"{bdate} 已于 {done.at.astimezone(st.tz):%H:%M} 由 {staff_label(s, done.actor)} 日终，"
                    "不需要再次日终。日终后的更正请用 close-day --correct --reason 原因"
                ),
                field="date",
            )
        open_rows = list(
            s.scalars(
                select(Ticket)
                .where(
                    Ticket.business_date == bdate,
                    Ticket.status.in_(("waiting", "called", "serving")),
                )
                .order_by(Ticket.day_seq)
            )
        )
        at_windows = [t for t in open_rows if t.status in ("called", "serving")]
        if at_windows and not force:
            busy = "、".join(f"{t.window_no} 号窗口（{t.number}）" for t in at_windows)
            raise LobbyError(
                "windows_serving",
                tr(
                    f"还有窗口在办理：{busy}。请柜员先完成或过号后再日终；"
                    "确需结束请加 --force（办理中的按已办理、已叫未到的按过号结算）"
                ),
                field="force",
            )
        # a settled ticket ends when the day closes, or at midnight for a day closed later
        end_of_day = datetime.combine(bdate + timedelta(days=1), datetime.min.time(), st.tz)
        settle_at = min(now, end_of_day)
        settled: dict[str, list[str]] = {}
        for t in open_rows:
            if t.status == "serving":
                outcome = "done"
            elif t.status == "called":
                outcome = "no_show"
            elif t.zone == Zone.SELF_SERVICE.value:
                outcome = self_service
            else:
                outcome = waiting
            note = tr("日终结算") + (f"：{reason}" if reason else "")
            if outcome == "done" and t.status == "serving":
                t.finished_at = settle_at
            elif outcome in ("done", "left", "not_served"):
                t.finished_at = t.finished_at or settle_at
            t.status = outcome
            t.settle_reason = note[:REASON_MAX]
            s.add(
                TicketEvent(
                    ticket_id=t.id,
                    at=now,
                    kind="settled",
                    actor=actor,
                    detail=json.dumps({"outcome": outcome, "reason": reason}, ensure_ascii=False),
                )
            )
            settled.setdefault(outcome, []).append(t.number)
        s.flush()
        return _add_version(
            s,
            bdate,
            "close",
            "close_day",
            actor=actor,
            reason=reason,
            now=now,
            figures=json.dumps(report.compute(s, bdate, bdate, now=now), ensure_ascii=False),
            settled=settled,
            audit={"settled": {k: len(v) for k, v in settled.items()}},
        )


def correct_day(
    store: Store, bdate: date, *, actor: str, reason: str, now: datetime | None = None
) -> CloseRecord:
    """Record the closed day's figures again as they now stand, as a correction with its reason."""
    reason = _reason(reason, True, tr("更正"))
    now = now or utcnow()
    with store.write() as s:
        _check_actor(s, actor)
        done = is_closed(s, bdate)
        if done is None:
            raise LobbyError(
                "not_closed", tr(f"{bdate} 还没有日终，不需要更正；请先日终"), field="date"
            )
        return _add_version(
            s,
            bdate,
            "correction",
            "correct_day",
            actor=actor,
            reason=reason,
            now=now,
            figures=json.dumps(report.compute(s, bdate, bdate, now=now), ensure_ascii=False),
            audit={"reason": reason},
        )


def reopen_day(
    store: Store, bdate: date, *, actor: str, reason: str, now: datetime | None = None
) -> CloseRecord:
    """Undo a close made by mistake (branch head only). The close stays on record."""
    reason = _reason(reason, True, tr("撤销日终"))
    now = now or utcnow()
    with store.write() as s:
        from lobby_app.store.admin import check_person

        check_person(s, actor, ("branch_head",), doing=tr("撤销日终"))
        done = is_closed(s, bdate)
        if done is None:
            raise LobbyError("not_closed", tr(f"{bdate} 没有日终，不需要撤销"), field="date")
        return _add_version(
            s,
            bdate,
            "reopened",
            "reopen_day",
            actor=actor,
            reason=reason,
            now=now,
            figures=done.figures,
            audit={"reason": reason},
        )


def _add_version(
    s: Session,
    bdate: date,
    kind: str,
    action: str,
    *,
    actor: str,
    reason: str,
    now: datetime,
    figures: str,
    settled: dict[str, list[str]] | None = None,
    audit: dict[str, Any],
) -> CloseRecord:
    """The day's next version of its figures, with the audit record of who did it."""
    latest = latest_close(s, bdate)
    row = DayClose(
        business_date=bdate,
        version=(latest.version if latest else 0) + 1,
        kind=kind,
        at=now,
        actor=actor,
        reason=reason,
        settled=json.dumps(settled, ensure_ascii=False) if settled is not None else "",
        figures=figures,
    )
    s.add(row)
    detail = {"date": bdate.isoformat(), "version": row.version, **audit}
    s.add(AuditEvent(actor=actor, action=action, detail=json.dumps(detail, ensure_ascii=False)))
    s.flush()
    return _record(s, row)


def history(store: Store, bdate: date) -> list[CloseRecord]:
    with store.read() as s:
        rows = s.scalars(
            select(DayClose).where(DayClose.business_date == bdate).order_by(DayClose.version)
        )
        return [_record(s, r) for r in rows]


# not the day's data: when they were computed, whether closed, the branch's opening hours
# (a setting, changed after a close without changing the day)
_COMPARED_OUT = ("computed_at", "closed", "open_time", "close_time")


def summary(
    store: Store, start: date, end: date | None = None, *, now: datetime | None = None
) -> dict[str, Any]:
    """What the summary prints: for one closed day its frozen figures (latest close or
    correction) and whether the store has changed since; otherwise the figures as they stand.
    ``close`` says which (None for live figures)."""
    end = end or start
    now = now or utcnow()
    report._check_range(start, end)
    with store.read() as s:
        live = report.compute(s, start, end, now=now)
        frozen = is_closed(s, start) if start == end else None
        if frozen is None:
            live["close"] = None
            live["changed_since_close"] = False
            return live
        figures: dict[str, Any] = json.loads(frozen.figures)
        figures["close"] = _record(s, frozen).as_json()
        first = s.scalar(
            select(DayClose).where(DayClose.business_date == start, DayClose.version == 1)
        )
        if first is not None and first.version != frozen.version:
            figures["close"]["first_closed_at"] = first.at.isoformat()
    figures["changed_since_close"] = not _agrees(_strip(figures), _strip(live))
    return figures


def _agrees(frozen: Any, live: Any) -> bool:
    """The frozen figures still stand: every value they hold is the live one. Keys a later
    version of the report added (absent from a copy frozen before it) are not a change."""
    if isinstance(frozen, dict) and isinstance(live, dict):
        return all(k in live and _agrees(v, live[k]) for k, v in frozen.items())
    if isinstance(frozen, list) and isinstance(live, list):
        return len(frozen) == len(live) and all(map(_agrees, frozen, live))
    return bool(frozen == live)


def _strip(figures: dict[str, Any]) -> dict[str, Any]:
    """The figures without what says when and whether they were closed."""
    out = {
        k: v
        for k, v in figures.items()
        if k not in (*_COMPARED_OUT, "close", "changed_since_close")
    }
    out["per_day"] = [{k: v for k, v in d.items() if k != "closed"} for d in out.get("per_day", [])]
    return out
