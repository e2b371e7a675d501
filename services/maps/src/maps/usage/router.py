"""The usage ledger, reported by month."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from kit.errors import BadRequest
from maps.bootstrap import ServicesDep
from maps.usage.repository import month_of
from maps.usage.schemas import MonthUsage, UsageReport

router = APIRouter(prefix="/usage", tags=["usage"])
_MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


@router.get("", responses={400: {"description": "since is after until"}})
async def usage_by_month(
    services: ServicesDep,
    since: Annotated[str | None, Query(pattern=_MONTH, description="YYYY-MM")] = None,
    until: Annotated[str | None, Query(pattern=_MONTH, description="YYYY-MM")] = None,
) -> UsageReport:
    """Location look-ups (cache misses) and map look-ups (maps drawn), month by month.

    By default the twelve months up to the current one.
    """
    until = until or month_of(datetime.now(UTC))
    if since is None:
        year, month = int(until[:4]), int(until[5:])
        year, month = (year, month - 11) if month > 11 else (year - 1, month + 1)
        since = f"{year:04d}-{month:02d}"
    if since > until:
        raise BadRequest("since is after until.", detail={"since": since, "until": until})
    months = [
        MonthUsage(
            month=d["_id"],
            location_lookups=d.get("location_lookups", 0),
            map_lookups=d.get("map_lookups", 0),
        )
        for d in await services.ledger.months(since, until)
    ]
    return UsageReport(
        since=since,
        until=until,
        months=months,
        location_lookups=sum(m.location_lookups for m in months),
        map_lookups=sum(m.map_lookups for m in months),
    )
