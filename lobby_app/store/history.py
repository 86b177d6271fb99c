"""Service times learned from the branch's own history, for wait estimates that hold.

How long a ticket occupies a window (from its call to its finish, done tickets and no-shows
alike) per business and hour of the business day, over the last business days; where the
history is thin, the business over all hours, then the business table's ``service_minutes``.
Also learned: the hand-over, the minutes a window takes from one customer's finish to the
next call while someone waits. The figures are computed once per store and business date
(past days do not change during the day) and cached; ``bench/wait_accuracy.py`` measures
how well they predict and what they cost.
"""

from __future__ import annotations

import bisect
import functools
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from itertools import accumulate
from typing import TYPE_CHECKING, Literal

from lobby_app.store.setup import BranchSettings, read_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

Statistic = Literal["mean", "trimmed", "median"]

LOOKBACK_DAYS = 20  # business days (days with tickets) looked back
MAX_TICKETS = 10_000  # ... or fewer days, once these hold this many tickets
MIN_HOUR_SAMPLES = 5  # fewer in an hour: the business over all hours stands in
HOUR_PRIOR = 30  # an hour's own figure counts as much as this many services' worth
MIN_SHAPE_SAMPLES = 30  # fewer: the remaining time follows the standard shape below
MAX_SERVICE_MIN = 180.0  # longer is a ticket left open (a forgotten finish), not a service
MAX_HANDOVER_MIN = 10.0  # a longer gap is a break, not a hand-over
TRIM = 0.05  # share cut from each end by the trimmed mean
FLOOR_MIN = 0.5  # a customer at a window is expected to take at least this much longer
DEFAULT_MIN = 5.0  # a business missing from the table (an old code)
DEFAULT_SIGMA = 0.5  # lognormal spread of service times where the history is too thin
ZERO = timedelta(0)


@dataclass(frozen=True)
class _Shape:
    """Service times of one business divided by their mean, sorted, with suffix sums: the
    expected remaining time of a service that has lasted ``u`` (in units of the typical
    time) is a bisection away."""

    values: tuple[float, ...]
    suffix: tuple[float, ...]  # suffix[i] = sum(values[i:])

    @classmethod
    def of(cls, values: Sequence[float]) -> _Shape:
        vals = tuple(sorted(values))
        suffix = (*tuple(reversed(list(accumulate(reversed(vals))))), 0.0)
        return cls(vals, suffix)

    def residual(self, u: float) -> float:
        """Mean of ``v - u`` over the values above ``u`` (0 when none is)."""
        i = bisect.bisect_right(self.values, u)
        n = len(self.values) - i
        return 0.0 if n == 0 else self.suffix[i] / n - u


def _standard_shape(sigma: float = DEFAULT_SIGMA, n: int = 60) -> _Shape:
    """Lognormal quantiles scaled to mean 1: service times are right-skewed (a few long)."""
    import math
    import statistics

    nd = statistics.NormalDist(0.0, sigma)
    raw = [math.exp(nd.inv_cdf((i + 0.5) / n)) for i in range(n)]
    mean = sum(raw) / n
    return _Shape.of([v / mean for v in raw])


@functools.cache
def _standard() -> _Shape:
    """The standard shape, made on first use: ``statistics`` (with ``fractions`` and
    ``decimal``) is not loaded by a quick command that does not need it (issue 17 item 5)."""
    return _standard_shape()


@dataclass(frozen=True)
class LearnedTimes:
    """What a store's history says, as of one business date (its own day not included)."""

    business_date: date
    days: int  # business days with history looked at
    samples: int  # services counted
    by_business: Mapping[str, float]
    by_hour: Mapping[tuple[str, int], float]  # (business code, local hour) -> minutes
    hour_samples: Mapping[tuple[str, int], int]
    shapes: Mapping[str, _Shape]
    handover: float  # minutes from a finish to the next call while someone waits
    compute_s: float = 0.0  # how long computing this took (for the benchmark)


EMPTY = LearnedTimes(date.min, 0, 0, {}, {}, {}, {}, 0.0)


@dataclass(frozen=True)
class ServiceModel:
    """Expected minutes a ticket occupies a window: learned, else the business table."""

    tz: tzinfo
    table: Mapping[str, float]  # the business table's service_minutes
    learned: LearnedTimes = EMPTY
    floor: float = FLOOR_MIN

    def service(self, business_code: str, at: datetime) -> float:
        """The typical service (call to finish) of a ticket called at ``at``."""
        hour = _aware(at).astimezone(self.tz).hour
        learned = self.learned.by_hour.get((business_code, hour))
        if learned is None:
            learned = self.learned.by_business.get(business_code)
        if learned is None:
            learned = self.table.get(business_code, DEFAULT_MIN)
        return max(self.floor, learned)

    def minutes(self, business_code: str, at: datetime) -> float:
        """Minutes a ticket called at ``at`` keeps its window from the next call: the
        service and the hand-over to the next customer."""
        return self.service(business_code, at) + self.learned.handover

    def remaining(self, business_code: str, called_at: datetime, now: datetime) -> float:
        """Expected minutes until the window that called this ticket at ``called_at`` is
        free for the next call: what a service that has lasted this long still takes, on
        average, by the business's own spread of service times (a long one tends to go on),
        never below ``floor``; plus the hand-over."""
        typical = self.service(business_code, called_at)
        elapsed = max(0.0, (_aware(now) - _aware(called_at)).total_seconds() / 60.0)
        shape = self.learned.shapes.get(business_code) or _standard()
        rest = typical * shape.residual(elapsed / typical)
        return max(self.floor, rest) + self.learned.handover

    def source(self, business_code: str, at: datetime) -> str:
        """Where the figure for this business and hour comes from (hour/business/table)."""
        if (business_code, _aware(at).astimezone(self.tz).hour) in self.learned.by_hour:
            return "hour"
        if business_code in self.learned.by_business:
            return "business"
        return "table"


def _aware(value: datetime) -> datetime:
    """Stored times are UTC; a naive one (a raw read) is taken as UTC too."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# ---------------------------------------------------------------- the statistic


def typical(values: Sequence[float], statistic: Statistic = "trimmed") -> float:
    """A robust typical value: the trimmed mean cuts ``TRIM`` of each end, so a few
    forgotten finishes do not inflate every estimate, yet it stays near the mean that a
    sum of services (a wait) needs, unlike the median of a right-skewed time."""
    if not values:
        raise ValueError("no values")
    if statistic == "mean":
        return sum(values) / len(values)
    if statistic == "median":
        import statistics

        return statistics.median(values)
    vals = sorted(values)
    k = int(len(vals) * TRIM)
    kept = vals[k : len(vals) - k] or vals
    return sum(kept) / len(kept)


# ---------------------------------------------------------------- learning

# Plain SQL on the store's ``sqlite3`` connection: the service times are read for every
# ticket issued (its wait), which runs without SQLAlchemy (issue 17 item 5). An ORM caller's
# session is read through its own connection (``db.sql_of``).


def _con(s: Session | sqlite3.Connection) -> sqlite3.Connection:
    if isinstance(s, sqlite3.Connection):
        return s
    from lobby_app.store.db import sql_of

    return sql_of(s)


# Times come back as minutes (julianday on the stored UTC text, in SQLite): parsing tens of
# thousands of timestamps in Python cost more than the query. Ordered by window and call,
# so that each call follows the previous call at its window.
_CALLS = """
    SELECT business_date, window_no, business_code, status,
           julianday(business_date) * 1440.0, julianday(issued_at) * 1440.0,
           julianday(called_at) * 1440.0, julianday(finished_at) * 1440.0
    FROM ticket
    WHERE business_date >= :first AND business_date < :day AND called_at IS NOT NULL
    ORDER BY business_date, window_no, called_at
    """
_DAYS = (
    "SELECT business_date, count(*) FROM ticket WHERE business_date < ? "
    "GROUP BY business_date ORDER BY business_date DESC LIMIT ?"
)


def _day_text(d: date) -> str:
    return d.isoformat()


def learn(
    s: Session | sqlite3.Connection,
    business_date: date,
    tz: tzinfo,
    *,
    lookback_days: int = LOOKBACK_DAYS,
    max_tickets: int = MAX_TICKETS,
    statistic: Statistic = "trimmed",
) -> LearnedTimes:
    """Learn from the ``lookback_days`` business days with tickets before ``business_date``,
    fewer once they hold ``max_tickets`` tickets (the cost grows with the rows read).

    Two indexed reads: the dates, then the called tickets of those days as minutes."""
    import time

    t0 = time.perf_counter()
    con = _con(s)
    days: list[date] = []
    tickets = 0
    for past, count in con.execute(_DAYS, (_day_text(business_date), lookback_days)).fetchall():
        if tickets >= max_tickets:  # a very busy branch: its last days are plenty
            break
        days.append(date.fromisoformat(past))
        tickets += count
    if not days:
        return LearnedTimes(business_date, 0, 0, {}, {}, {}, {}, 0.0, time.perf_counter() - t0)
    bounds = {"first": _day_text(min(days)), "day": _day_text(business_date)}
    # the branch's clock offset on each day, in minutes (one per day: no branch changes
    # clocks during business hours)
    offsets = {
        _day_text(d): (datetime(d.year, d.month, d.day, 12, tzinfo=tz).utcoffset() or ZERO)
        / timedelta(minutes=1)
        for d in days
    }
    durations: dict[str, list[float]] = defaultdict(list)
    by_hour_raw: dict[tuple[str, int], list[float]] = defaultdict(list)
    gaps: list[float] = []
    previous: tuple[str, int | None, float | None] = ("", None, None)  # day, window, finish
    for bdate, window, code, status, midnight, issued, called, finished in con.execute(
        _CALLS, bounds
    ):
        prev_day, prev_window, prev_finish = previous
        if (
            (prev_day, prev_window) == (bdate, window)
            and window is not None
            and prev_finish is not None
            and issued < prev_finish <= called  # the next customer was already waiting
            and called - prev_finish <= MAX_HANDOVER_MIN
        ):
            gaps.append(called - prev_finish)
        previous = (bdate, window, finished)
        if status not in ("done", "no_show") or finished is None:
            continue
        took = finished - called
        if not 0.0 < took <= MAX_SERVICE_MIN:
            continue
        durations[code].append(took)
        hour = int((called - midnight + offsets.get(bdate, 0.0)) // 60) % 24
        by_hour_raw[(code, hour)].append(took)
    by_business = {code: typical(v, statistic) for code, v in durations.items()}
    # an hour with few services leans on the business's all-day figure, one with many on
    # its own (a weighted mean of the two, weights n and HOUR_PRIOR)
    by_hour = {
        (code, hour): (len(v) * typical(v, statistic) + HOUR_PRIOR * by_business[code])
        / (len(v) + HOUR_PRIOR)
        for (code, hour), v in by_hour_raw.items()
        if len(v) >= MIN_HOUR_SAMPLES
    }
    # the spread, scaled to mean 1: ``remaining`` scales it back by the typical time
    shapes = {
        code: _Shape.of([x / mean for x in v])
        for code, v in durations.items()
        if len(v) >= MIN_SHAPE_SAMPLES and (mean := sum(v) / len(v)) > 0
    }
    return LearnedTimes(
        business_date=business_date,
        days=len(days),
        samples=sum(len(v) for v in durations.values()),
        by_business=by_business,
        by_hour=by_hour,
        hour_samples={k: len(v) for k, v in by_hour_raw.items()},
        shapes=shapes,
        handover=typical(gaps, statistic) if gaps else 0.0,
        compute_s=time.perf_counter() - t0,
    )


# ---------------------------------------------------------------- the cache


@dataclass
class _Options:
    learning: bool = True
    statistic: Statistic = "trimmed"
    lookback_days: int = LOOKBACK_DAYS


_options = _Options()
_cache: dict[str, LearnedTimes] = {}  # store (database URL) -> the latest day learned
_lock = threading.Lock()


def configure(
    *,
    learning: bool = True,
    statistic: Statistic = "trimmed",
    lookback_days: int = LOOKBACK_DAYS,
) -> None:
    """For the benchmark and tests: turn learning off (the business table only) or change
    the statistic. Clears the cache."""
    global _options
    _options = _Options(learning, statistic, lookback_days)
    clear_cache()


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def _store_key(con: sqlite3.Connection) -> str:
    """The store's database URL (as its engine names it), from the connection's own file."""
    for _seq, name, file in con.execute("PRAGMA database_list"):
        if name == "main":
            return f"sqlite:///{file}"
    return ""  # pragma: no cover - every connection has its main database


def learned_times(s: Session | sqlite3.Connection, business_date: date, tz: tzinfo) -> LearnedTimes:
    """The store's learned times as of ``business_date``, computed once per day."""
    if not _options.learning:
        return EMPTY
    con = _con(s)
    key = _store_key(con)
    with _lock:
        hit = _cache.get(key)
    if hit is not None and hit.business_date == business_date:
        return hit
    fresh = learn(
        con,
        business_date,
        tz,
        lookback_days=_options.lookback_days,
        statistic=_options.statistic,
    )
    with _lock:
        _cache[key] = fresh
    return fresh


_TABLE = "SELECT code, service_minutes FROM business_type"


def service_model(
    s: Session | sqlite3.Connection, now: datetime, *, settings: BranchSettings | None = None
) -> ServiceModel:
    """The service times to expect at ``now``: learned from the branch's history before
    today (cached per day), the business table where there is none. The table is read
    afresh each time (15 rows), so a changed table counts at once. ``settings``: the
    branch's settings, when the caller has just read them in the same transaction."""
    con = _con(s)
    st = settings or read_settings(con)
    tz = st.tz
    table = {code: float(v) for code, v in con.execute(_TABLE)}
    return ServiceModel(tz, table, learned_times(con, st.business_date(now), tz))
