"""When an action falls due, in the studio's zone (pure arithmetic, no servers)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from notify.schedule.timing import Offset, QuietHours, due_instant, local_instant

BERLIN = ZoneInfo("Europe/Berlin")


def test_a_day_before_at_nine_is_nine_on_the_wall_clock_on_both_sides_of_a_change() -> None:
    # Berlin springs forward on 29 March 2026 (UTC+1 to UTC+2).
    monday = datetime(2026, 3, 30, 14, 0, tzinfo=BERLIN)
    sunday = datetime(2026, 3, 29, 14, 0, tzinfo=BERLIN)
    before = Offset(days=-1, at_local_time=time(9, 0))
    assert due_instant(monday, before, BERLIN) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert due_instant(sunday, before, BERLIN) == datetime(2026, 3, 28, 8, 0, tzinfo=UTC)


def test_whole_days_keep_the_sessions_time_of_day_and_minutes_are_exact() -> None:
    monday = datetime(2026, 3, 30, 14, 0, tzinfo=BERLIN)
    assert due_instant(monday, Offset(days=-2), BERLIN).astimezone(BERLIN).hour == 14
    two_hours = due_instant(monday, Offset(minutes=-120), BERLIN)
    assert two_hours == datetime(2026, 3, 30, 10, 0, tzinfo=UTC)


def test_a_time_the_clocks_skip_moves_on_and_one_they_repeat_is_its_first() -> None:
    skipped = local_instant(date(2026, 3, 29), time(2, 30), BERLIN)
    assert skipped.astimezone(BERLIN).strftime("%H:%M %z") == "03:30 +0200"
    repeated = local_instant(date(2026, 10, 25), time(2, 30), BERLIN)
    assert repeated == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_a_due_date_needs_a_time_of_day() -> None:
    due = due_instant(date(2026, 12, 15), Offset(at_local_time=time(8, 0)), BERLIN)
    assert due == datetime(2026, 12, 15, 7, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="time of day"):
        due_instant(date(2026, 12, 15), Offset(), BERLIN)
    with pytest.raises(ValueError, match="zone"):
        due_instant(datetime(2026, 12, 15, 8, 0), Offset(), BERLIN)


def test_quiet_hours_across_midnight_release_at_their_end() -> None:
    quiet = QuietHours.parse("21:00-08:00")
    assert quiet is not None
    evening = datetime(2026, 3, 28, 22, 0, tzinfo=BERLIN)
    early = datetime(2026, 3, 29, 6, 0, tzinfo=BERLIN)
    noon = datetime(2026, 3, 29, 12, 0, tzinfo=BERLIN)
    # Released at 08:00 the next morning, which is already summer time.
    assert quiet.release(evening, BERLIN) == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    assert quiet.release(early, BERLIN) == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    assert quiet.release(noon, BERLIN) == noon
    lunch = QuietHours.parse("12:00-13:30")
    assert lunch is not None
    assert lunch.release(noon, BERLIN) == datetime(2026, 3, 29, 11, 30, tzinfo=UTC)
    assert QuietHours.parse("") is None
    with pytest.raises(ValueError, match="HH:MM-HH:MM"):
        QuietHours.parse("late")
