"""Business days: due dates count only the studio's working days."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta


def start_of_day(moment: datetime) -> datetime:
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)


def add_business_days(moment: datetime, days: int, work_week: Sequence[int]) -> datetime:
    """The day `days` working days after `moment` (midnight UTC); 0 days is the same day."""
    if not work_week:
        raise ValueError("a work week needs at least one working day")
    day = start_of_day(moment)
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if day.weekday() in work_week:
            remaining -= 1
    return day
