"""When the nightly sync is due: at the branch's ``sync_time`` (default 21:30) branch time."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from lobby_app.store.setup import BranchSettings


def _at(st: BranchSettings) -> time:
    hh, mm = (int(p) for p in st.sync_time.split(":", 1))
    return time(hh, mm)


def last_due(now: datetime, st: BranchSettings) -> datetime:
    """The most recent scheduled time at or before ``now`` (UTC)."""
    local = now.astimezone(st.tz)
    due = datetime.combine(local.date(), _at(st), st.tz)
    if due > local:
        due = datetime.combine(local.date() - timedelta(days=1), _at(st), st.tz)
    return due.astimezone(UTC)


RETRY_AFTER = timedelta(minutes=10)  # a failed sync (head office down or frozen) waits this long


def is_due(
    now: datetime,
    st: BranchSettings,
    last_success: datetime | None,
    *,
    last_attempt: datetime | None = None,
    failed: bool = False,
) -> bool:
    """A scheduled run has passed since the last success (also after the PC was off); after
    a failed attempt, not before ``RETRY_AFTER`` has gone by."""
    if last_success is not None and last_success >= last_due(now, st):
        return False
    return not (failed and last_attempt is not None and now - last_attempt < RETRY_AFTER)
