"""The calendar's grid: rows of local times, a column per resource (a day) or per day (a week),
each cell closed, open, free to book (booking's /availability said so) or holding a session.

Only drawing: which times are bookable is booking's answer; the opening hours and closures are
booking's too, laid out here on the studio's wall clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Column:
    day: dt.date
    resource: dict[str, Any]
    opening: list[tuple[dt.time, dt.time]]
    closed_because: str | None


@dataclass
class Cell:
    kind: str  # "closed", "open", "free", "session"
    starts_at: dt.datetime  # UTC
    resource_id: str
    session: dict[str, Any] | None = None
    rowspan: int = 1


@dataclass
class Grid:
    columns: list[Column]
    times: list[dt.time]
    rows: list[list[Cell | None]] = field(default_factory=list)  # None: covered by a session


def utc(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def column_of(
    day: dt.date,
    resource: dict[str, Any],
    hours: list[dict[str, Any]],
    closures: list[dict[str, Any]],
) -> Column:
    closed = next(
        (
            c["reason"]
            for c in closures
            if c["resource_id"] in (None, resource["id"])
            and c["first_day"] <= day.isoformat() <= c["last_day"]
        ),
        None,
    )
    opening: list[tuple[dt.time, dt.time]] = []
    if closed is None:
        for rule in hours:
            if rule["resource_id"] != resource["id"] or day.weekday() not in rule["weekdays"]:
                continue
            if day.isoformat() < rule["valid_from"]:
                continue
            if rule["valid_until"] and day.isoformat() > rule["valid_until"]:
                continue
            opening.append(
                (dt.time.fromisoformat(rule["opens"]), dt.time.fromisoformat(rule["closes"]))
            )
    return Column(day, resource, sorted(opening), closed)


def build_grid(
    columns: list[Column],
    sessions: list[dict[str, Any]],
    free: set[tuple[dt.datetime, str]],
    zone: ZoneInfo,
    step_minutes: int,
) -> Grid:
    step = dt.timedelta(minutes=step_minutes)
    opens = [o for c in columns for o, _ in c.opening] or [dt.time(8)]
    closes = [e for c in columns for _, e in c.opening] or [dt.time(18)]
    first = min(opens)
    last = max(closes)
    minutes = first.hour * 60 + first.minute
    minutes -= minutes % step_minutes
    times: list[dt.time] = []
    while minutes < last.hour * 60 + last.minute and minutes < 24 * 60:
        times.append(dt.time(minutes // 60, minutes % 60))
        minutes += step_minutes
    grid = Grid(columns, times)
    table: list[list[Cell | None]] = [[None] * len(columns) for _ in times]
    for index, column in enumerate(columns):
        moments = [dt.datetime.combine(column.day, t, zone).astimezone(dt.UTC) for t in times]
        mine = [s for s in sessions if column.resource["id"] in s["resource_ids"]]
        starts_in_row: dict[int, dict[str, Any]] = {}
        for session in sorted(mine, key=lambda s: s["starts_at"]):
            start, end = utc(session["starts_at"]), utc(session["ends_at"])
            row = next(
                (r for r, m in enumerate(moments) if m <= start < m + step),
                0 if moments and start < moments[0] < end else None,
            )
            if row is not None and row not in starts_in_row:
                starts_in_row[row] = session
        covered: set[int] = set()
        for row, session in starts_in_row.items():
            end = utc(session["ends_at"])
            span = 1
            while (
                row + span < len(times)
                and moments[row + span] < end
                and row + span not in starts_in_row
            ):
                covered.add(row + span)
                span += 1
            table[row][index] = Cell("session", moments[row], column.resource["id"], session, span)
        for row, moment in enumerate(moments):
            if row in starts_in_row or row in covered:
                continue
            local = times[row]
            is_open = any(o <= local < e for o, e in column.opening)
            if (moment, column.resource["id"]) in free:
                kind = "free"
            elif is_open:
                kind = "open"
            else:
                kind = "closed"
            table[row][index] = Cell(kind, moment, column.resource["id"])
    grid.rows = table
    return grid


@dataclass
class MonthDay:
    """One day of the month view: open or not, its closures, its sessions in start order, and
    how many starts of the chosen session type are still free."""

    day: dt.date
    in_month: bool
    is_open: bool
    closures: list[str]
    sessions: list[dict[str, Any]]
    free: int = 0


def build_month(
    anchor: dt.date,
    resources: list[dict[str, Any]],
    hours: list[dict[str, Any]],
    closures: list[dict[str, Any]],
    sessions: list[dict[str, Any]],
    zone: ZoneInfo,
    free_starts: Sequence[dict[str, Any]] = (),
) -> list[list[MonthDay]]:
    """The weeks (Monday first) covering `anchor`'s month, each day with what happened and
    its free starts (booking's availability: one per start time, whatever the resources)."""
    first = anchor.replace(day=1)
    after = (first + dt.timedelta(days=32)).replace(day=1)
    start = first - dt.timedelta(days=first.weekday())
    end = after + dt.timedelta(days=(7 - after.weekday()) % 7)
    by_day: dict[dt.date, list[dict[str, Any]]] = {}
    for session in sorted(sessions, key=lambda s: s["starts_at"]):
        by_day.setdefault(utc(session["starts_at"]).astimezone(zone).date(), []).append(session)
    free: dict[dt.date, int] = {}
    for found in free_starts:
        local_day = utc(found["starts_at"]).astimezone(zone).date()
        free[local_day] = free.get(local_day, 0) + 1
    weeks: list[list[MonthDay]] = []
    day = start
    while day < end:
        columns = [column_of(day, r, hours, closures) for r in resources]
        reasons = sorted({c.closed_because for c in columns if c.closed_because})
        weeks_row = weeks[-1] if weeks and len(weeks[-1]) < 7 else None
        if weeks_row is None:
            weeks_row = []
            weeks.append(weeks_row)
        weeks_row.append(
            MonthDay(
                day=day,
                in_month=first <= day < after,
                is_open=any(c.opening for c in columns),
                closures=reasons,
                sessions=by_day.get(day, []),
                free=free.get(day, 0),
            )
        )
        day += dt.timedelta(days=1)
    return weeks
