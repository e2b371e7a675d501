"""The filters the session list and the workflow hub share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import Depends, Query

from kit.errors import Unprocessable


@dataclass(frozen=True)
class SessionFilter:
    session_type_id: str | None = None
    photographer_id: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def query(self) -> dict[str, Any]:
        query: dict[str, Any] = {"status_id": {"$ne": None}}
        if self.session_type_id:
            query["session_type_id"] = self.session_type_id
        if self.photographer_id:
            query["resource_ids"] = self.photographer_id
        window: dict[str, datetime] = {}
        if self.date_from:
            window["$gte"] = datetime.combine(self.date_from, time(), UTC)
        if self.date_to:
            window["$lt"] = datetime.combine(self.date_to + timedelta(days=1), time(), UTC)
        if window:
            query["starts_at"] = window
        return query


def session_filter(
    session_type_id: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    photographer_id: Annotated[
        str | None,
        Query(min_length=1, max_length=100, description="A resource booked for the session."),
    ] = None,
    date_from: Annotated[date | None, Query(description="Sessions starting on or after.")] = None,
    date_to: Annotated[date | None, Query(description="Sessions starting on or before.")] = None,
) -> SessionFilter:
    if date_from and date_to and date_from > date_to:
        raise Unprocessable(
            "date_from is after date_to.",
            detail={"date_from": date_from.isoformat(), "date_to": date_to.isoformat()},
        )
    return SessionFilter(session_type_id, photographer_id, date_from, date_to)


SessionFilterDep = Annotated[SessionFilter, Depends(session_filter)]
