"""Rising ids for new customer rows (core/ids.py): each greater than the one before, as
text, whatever the clock does, and still UUIDs in their usual text form."""

from __future__ import annotations

import itertools
import uuid

from hypothesis import given
from hypothesis import strategies as st

from lobby_app.core.ids import RisingIds


def test_ids_rise_and_are_uuid7_text() -> None:
    make = RisingIds()
    got = [make() for _ in range(20_000)]  # many within one millisecond: the counter rolls
    assert got == sorted(got)
    assert len(set(got)) == len(got)
    for value in got[::997]:
        u = uuid.UUID(value)
        assert str(u) == value  # lower-case 8-4-4-4-12, as uuid4 ids are stored
        assert u.version == 7
        assert u.variant == uuid.RFC_4122


@given(st.lists(st.integers(min_value=0, max_value=2**47), min_size=2, max_size=300))
def test_ids_rise_whatever_the_clock_says(clock_ms: list[int]) -> None:
    """A clock that stands still, jumps or is set back: the ids still rise."""
    ticks = iter(clock_ms)
    make = RisingIds(lambda: next(ticks) * 1_000_000)
    got = [make() for _ in clock_ms]
    assert all(a < b for a, b in itertools.pairwise(got))


def test_ten_thousand_ids_in_one_millisecond_still_rise() -> None:
    """The counter runs out (4,096 per millisecond): the next millisecond is borrowed."""
    make = RisingIds(lambda: 1_700_000_000_000 * 1_000_000)
    got = [make() for _ in range(10_000)]
    assert got == sorted(got) and len(set(got)) == len(got)
