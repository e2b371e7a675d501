"""When an action falls due: pure arithmetic on instants, in the studio's time zone.

Every schedule is a UTC instant, computed once from the rule's timing and the record's
anchor. "09:00 the day before" is the studio's wall clock: the local date moves by whole days
and the time is set on it, so a reminder stays at 09:00 across a daylight-saving change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Offset:
    """How far from the anchor: whole local days, then either a local time of day or exact
    minutes (negative: before the anchor)."""

    days: int = 0
    minutes: int = 0
    at_local_time: time | None = None


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """`at` on `day` in `zone`, as a UTC instant. A time the clocks skip (spring forward) is
    moved on by the gap; a time they pass twice (fall back) is its first occurrence."""
    # fold=0 reads a skipped time with the offset before the gap (so it lands after it) and a
    # repeated one as its first occurrence.
    return datetime.combine(day, at).replace(tzinfo=zone, fold=0).astimezone(UTC)


def due_instant(anchor: datetime | date, offset: Offset, zone: ZoneInfo) -> datetime:
    """The UTC instant `offset` from `anchor` (an instant, or a local date such as a status's
    due date, which needs a time of day)."""
    if isinstance(anchor, datetime):
        if anchor.tzinfo is None:
            raise ValueError("an anchor instant must carry its zone")
        local = anchor.astimezone(zone)
        day, wall = local.date(), local.time().replace(tzinfo=None)
    else:
        if offset.at_local_time is None:
            raise ValueError("a date anchor needs a time of day")
        day, wall = anchor, offset.at_local_time
    day += timedelta(days=offset.days)
    if offset.at_local_time is not None:
        return local_instant(day, offset.at_local_time, zone) + timedelta(minutes=offset.minutes)
    # Whole days keep the wall-clock time (a reminder "2 days before 14:00" is at 14:00).
    return local_instant(day, wall, zone) + timedelta(minutes=offset.minutes)


@dataclass(frozen=True)
class QuietHours:
    """Local hours in which a channel sends nothing; `start` after `end` wraps midnight."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours | None:
        """`"21:00-08:00"`; empty text is no quiet hours."""
        text = text.strip()
        if not text:
            return None
        try:
            start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
        except ValueError as exc:
            raise ValueError(f"quiet hours must read HH:MM-HH:MM, not {text!r}") from exc
        return None if start == end else cls(start, end)

    def contains(self, wall: time) -> bool:
        if self.start < self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end

    def release(self, instant: datetime, zone: ZoneInfo) -> datetime:
        """`instant` itself when outside the quiet hours, else the instant they end."""
        local = instant.astimezone(zone)
        wall = local.time().replace(tzinfo=None)
        if not self.contains(wall):
            return instant
        day = local.date()
        if self.start >= self.end and wall >= self.start:
            day += timedelta(days=1)  # evening part of hours that wrap: they end tomorrow
        return local_instant(day, self.end, zone)
