"""Today: the studio's day at a glance, each part read from its owner through the gateway.

Sessions of the day by resource, overdue statuses, unpaid invoices, render runs running or
failed, deliveries ready and links about to expire. A part whose service does not answer
shows why, and the rest of the page still works.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.responses import HTMLResponse, RedirectResponse

from web.gateway import Gateway, GatewayError
from web.pages import ALL_ROLES, STUDIO_ROLES, NavItem, PageDep, screen_router, studio_zone

router = screen_router(ALL_ROLES)  # others are sent to their first screen
nav = [NavItem("Today", "/", 10, STUDIO_ROLES, key="t")]

LINK_SOON = dt.timedelta(days=3)


async def _part(call: Awaitable[Any]) -> tuple[Any, str | None]:
    try:
        return await call, None
    except GatewayError as error:
        return None, error.message


def _when(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


async def _studio_zone(gateway: Gateway) -> ZoneInfo:
    """The studio's time zone; UTC when booking cannot say (Today shows each part it can)."""
    try:
        return await studio_zone(gateway)
    except (GatewayError, KeyError, ValueError):
        return ZoneInfo("UTC")


def studio_day(zone: ZoneInfo, now: dt.datetime) -> tuple[dt.date, dt.datetime, dt.datetime]:
    """The studio's day at `now`, from its midnight to the next, in UTC."""
    day = now.astimezone(zone).date()
    start = dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
    return day, start, end


async def _day_sessions(
    gateway: Gateway, zone: ZoneInfo, start: dt.datetime, end: dt.datetime
) -> dict[str, Any]:
    """The day's sessions by resource, with their start on the studio's clock."""
    sessions, resources = await asyncio.gather(
        gateway.get("/api/booking/sessions", start=start.isoformat(), end=end.isoformat()),
        gateway.get("/api/booking/resources"),
    )
    names = {r["id"]: r["name"] for r in resources}
    by_resource: dict[str, list[dict[str, Any]]] = {}
    for session in sorted(sessions, key=lambda s: s["starts_at"]):
        if session.get("state") == "cancelled":
            continue
        starts = dt.datetime.fromisoformat(session["starts_at"])
        local = {**session, "local_time": starts.astimezone(zone).strftime("%H:%M")}
        for resource_id in session["resource_ids"] or ["-"]:
            by_resource.setdefault(names.get(resource_id, resource_id), []).append(local)
    return by_resource


@router.get("/", response_model=None)
async def today(page: PageDep) -> HTMLResponse | RedirectResponse:
    if page.role not in STUDIO_ROLES:
        # Marketing has no Today: its home is the first screen its role sees (Maps).
        home = next(
            (i.path for i in page.state.nav if page.role in i.roles and i.path != "/"), None
        )
        if home is not None:
            return RedirectResponse(home, status_code=303)
    page.require(STUDIO_ROLES)
    gateway = page.gateway
    zone = await _studio_zone(gateway)
    day, start, end = studio_day(zone, dt.datetime.now(dt.UTC))
    (
        (sessions, sessions_error),
        (hub, hub_error),
        (invoices, inv_error),
        (runs, runs_error),
        (
            deliveries,
            del_error,
        ),
    ) = await asyncio.gather(
        _part(_day_sessions(gateway, zone, start, end)),
        _part(gateway.get("/api/workflow/workflow/sessions", overdue="true", limit=50)),
        _part(gateway.get("/api/workflow/workflow/invoices", limit=200)),
        _part(gateway.get("/api/render/runs", limit=100)),
        _part(gateway.get("/api/delivery/deliveries", limit=100)),
    )
    overdue = hub or []
    unpaid = [i for i in invoices or [] if i["balance_minor"] > 0 and not i.get("closed")]
    active_runs = [r for r in runs or [] if r["status"] in ("planning", "rendering", "failed")]
    now = dt.datetime.now(dt.UTC)
    ready = [d for d in deliveries or [] if d["status"] == "ready"]
    expiring = [
        {"delivery": d, "link": link}
        for d in ready
        for link in d.get("links", [])
        if link.get("expires_at")
        and link.get("state") == "active"
        and now < (_when(link["expires_at"]) or now) <= now + LINK_SOON
    ]
    return page.render(
        "today/today.html",
        day=day,
        zone=zone.key,
        sessions=sessions,
        sessions_error=sessions_error,
        overdue=overdue,
        hub_error=hub_error,
        unpaid=unpaid,
        invoices_error=inv_error,
        runs=active_runs,
        runs_error=runs_error,
        ready=ready,
        expiring=expiring,
        deliveries_error=del_error,
    )
