"""A closed day's "changed since close" warning speaks of the day's data only: not of the
opening hours (a setting) nor of keys a later version of the report added to its figures."""

from __future__ import annotations

import json

from sqlalchemy import update

from lobby_app.models import DayClose
from lobby_app.store import Store, commands, dayclose
from tests.store.test_report import D, at, demo, play_fixture_day

__all__ = ["demo"]  # the fixture, used by name


def test_an_older_frozen_copy_and_changed_hours_are_not_a_change(demo: Store) -> None:
    play_fixture_day(demo)
    dayclose.close_day(demo, D, actor="L01", reason="正常营业结束", now=at(18, 0))
    assert dayclose.summary(demo, D)["changed_since_close"] is False
    # a copy frozen by an earlier version of the report: without the keys added since
    with demo.write() as s:
        rec = s.query(DayClose).filter(DayClose.business_date == D).one()
        figures = json.loads(rec.figures)
        for key in ("open_time", "close_time"):
            figures.pop(key, None)
        for row in figures.get("referrers", []):
            row.pop("open", None)
        s.execute(
            update(DayClose)
            .where(DayClose.id == rec.id)
            .values(figures=json.dumps(figures, ensure_ascii=False))
        )
    assert dayclose.summary(demo, D)["changed_since_close"] is False
    commands.change_settings(demo, {"open_time": "08:30"}, actor="B01")
    assert dayclose.summary(demo, D)["changed_since_close"] is False
    # a real change of a frozen figure still shows
    with demo.write() as s:
        rec = s.query(DayClose).filter(DayClose.business_date == D).one()
        figures = json.loads(rec.figures)
        figures["issued"] += 1
        s.execute(update(DayClose).where(DayClose.id == rec.id).values(figures=json.dumps(figures)))
    assert dayclose.summary(demo, D)["changed_since_close"] is True
