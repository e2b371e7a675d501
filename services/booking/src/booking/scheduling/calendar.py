"""Time arithmetic for scheduling: granules, opening intervals, free starts. No I/O.

Resources are claimed in 5-minute granules (the unit of the no-double-booking rule), so
session starts, durations and buffers are whole multiples of 5 minutes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

GRANULE_MINUTES = 5
GRANULE_SECONDS = GRANULE_MINUTES * 60

Interval = tuple[datetime, datetime]


def granules(start: datetime, end: datetime) -> range:
    """The granule numbers that [start, end) touches."""
    first = int(start.timestamp()) // GRANULE_SECONDS
    last = -(-int(end.timestamp()) // GRANULE_SECONDS)  # ceiling
    return range(first, last)


def on_granule(moment: datetime) -> bool:
    return moment.second == 0 and moment.microsecond == 0 and moment.minute % GRANULE_MINUTES == 0


@dataclass(frozen=True)
class WeeklyHours:
    """A resource is open on `weekdays` (Monday = 0) from `opens` to `closes`, local time."""

    weekdays: frozenset[int]
    opens: time
    closes: time
    valid_from: date
    valid_until: date | None


@dataclass(frozen=True)
class Closure:
    """A resource (or the whole studio) is closed from `first_day` to `last_day`, inclusive."""

    first_day: date
    last_day: date


def days(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def opening_intervals(
    hours: Sequence[WeeklyHours],
    closures: Sequence[Closure],
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
) -> list[Interval]:
    """The resource's open intervals within [start, end), in UTC, merged and sorted."""
    first_day = start.astimezone(zone).date() - timedelta(days=1)
    last_day = end.astimezone(zone).date() + timedelta(days=1)
    intervals: list[Interval] = []
    for day in days(first_day, last_day):
        if any(c.first_day <= day <= c.last_day for c in closures):
            continue
        for rule in hours:
            if day.weekday() not in rule.weekdays or day < rule.valid_from:
                continue
            if rule.valid_until is not None and day > rule.valid_until:
                continue
            opens = datetime.combine(day, rule.opens, zone).astimezone(UTC)
            closes = datetime.combine(day, rule.closes, zone).astimezone(UTC)
            lo, hi = max(opens, start), min(closes, end)
            if lo < hi:
                intervals.append((lo, hi))
    return merge(intervals)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def overlaps(busy: Sequence[Interval], start: datetime, end: datetime) -> bool:
    return any(lo < end and start < hi for lo, hi in busy)


def covers(intervals: Sequence[Interval], start: datetime, end: datetime) -> bool:
    return any(lo <= start and end <= hi for lo, hi in intervals)


def starts_in(
    open_intervals: Sequence[Interval],
    busy: Sequence[Interval],
    *,
    duration: timedelta,
    buffer_after: timedelta,
    step: timedelta,
    not_before: datetime,
) -> list[datetime]:
    """Starts every `step` from each opening at which the session fits in the opening hours
    and neither it nor its buffer (which may run past closing) meets a busy interval."""
    starts: list[datetime] = []
    for opens, closes in open_intervals:
        moment = opens
        while moment + duration <= closes:
            if moment >= not_before and not overlaps(
                busy, moment, moment + duration + buffer_after
            ):
                starts.append(moment)
            moment += step
    return starts
