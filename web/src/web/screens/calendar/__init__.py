"""Calendar: the studio's resources side by side for a day, one resource's week, or the
month with every session by day; book a free slot (client search or a new client inline),
reschedule (a form, or drag the session onto another slot), cancel with a reason.

Which starts are free is booking's /availability; opening hours and closures are booking's and
shade the grid; a reschedule sends the version the page showed, and booking's 409 (changed
meanwhile, or the slot is taken) is shown as booking says it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web.gateway import GatewayError
from web.pages import (
    STUDIO_ROLES,
    NavItem,
    Page,
    PageDep,
    form_value,
    is_htmx,
    screen_router,
    studio_zone,
)
from web.screens.calendar.grid import Grid, build_grid, build_month, column_of, utc

router = screen_router(STUDIO_ROLES)
nav = [NavItem("Calendar", "/calendar", 20, STUDIO_ROLES, key="c")]

BOOKING = "/api/booking"


def _day(text: str, zone: ZoneInfo) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return dt.datetime.now(zone).date()


def client_name(client: dict[str, Any] | None) -> str:
    if not client:
        return ""
    name = " ".join(p for p in (client.get("first_name"), client.get("last_name")) if p)
    return name or client.get("organization") or client.get("email") or ""


async def _client_names(page: Page, ids: set[str]) -> dict[str, str]:
    async def one(client_id: str) -> tuple[str, str]:
        try:
            return client_id, client_name(await page.gateway.get(f"{BOOKING}/clients/{client_id}"))
        except GatewayError:
            return client_id, ""

    return dict(await asyncio.gather(*(one(i) for i in sorted(ids))))


def calendar_link(**params: Any) -> str:
    return "/calendar?" + urlencode({k: v for k, v in params.items() if v})


async def _calendar_values(
    page: Page, day_text: str, view: str, type_id: str, resource_id: str
) -> dict[str, Any]:
    gateway = page.gateway
    zone, resources, types, hours, closures = await asyncio.gather(
        studio_zone(page.gateway),
        gateway.get(f"{BOOKING}/resources"),
        gateway.get(f"{BOOKING}/session-types"),
        gateway.get(f"{BOOKING}/opening-hours"),
        gateway.get(f"{BOOKING}/closures"),
    )
    view = view if view in ("week", "month") else "day"
    day = _day(day_text, zone)
    resources = [r for r in resources if r["active"]]
    types = [t for t in types if t["active"]]
    stype = next((t for t in types if t["id"] == type_id), None) or next(
        (t for t in types if t["resource_ids"]), None
    )
    if view == "month":
        return await _month_values(page, day, zone, resources, types, hours, closures, stype)
    if view == "week":
        first = day - dt.timedelta(days=day.weekday())
        days = [first + dt.timedelta(days=i) for i in range(7)]
        resource = next((r for r in resources if r["id"] == resource_id), None) or (
            resources[0] if resources else None
        )
        columns = [column_of(d, resource, hours, closures) for d in days] if resource else []
        step_back, step_on = first - dt.timedelta(days=7), first + dt.timedelta(days=7)
    else:
        days = [day]
        resource = None
        columns = [column_of(day, r, hours, closures) for r in resources]
        step_back, step_on = day - dt.timedelta(days=1), day + dt.timedelta(days=1)
    start = dt.datetime.combine(days[0], dt.time(), zone).astimezone(dt.UTC)
    end = dt.datetime.combine(days[-1] + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
    sessions = await gateway.get(
        f"{BOOKING}/sessions", start=start.isoformat(), end=end.isoformat()
    )
    sessions = [s for s in sessions if s["state"] in ("booked", "held")]
    free: set[tuple[dt.datetime, str]] = set()
    availability_error = None
    if stype is not None:
        try:
            found = await gateway.get(
                f"{BOOKING}/availability",
                session_type_id=stype["id"],
                start=start.isoformat(),
                end=end.isoformat(),
            )
        except GatewayError as error:
            if error.status >= 500:
                raise
            availability_error = error.message
        else:
            free = {(utc(s["starts_at"]), r) for s in found["starts"] for r in s["resource_ids"]}
    names = await _client_names(page, {s["client_id"] for s in sessions})
    type_names = {t["id"]: t["name"] for t in types}
    step = min(max(int(stype["start_every_minutes"]) if stype else 30, 15), 60)
    grid: Grid = build_grid(columns, sessions, free, zone, step)
    here = {"view": view, "type": stype["id"] if stype else "", "resource": resource_id}
    return {
        "grid": grid,
        "zone": zone,
        "view": view,
        "day": day,
        "days": days,
        "stype": stype,
        "types": types,
        "type_names": type_names,
        "resources": resources,
        "resource": resource,
        "names": names,
        "here": here,
        "today_link": calendar_link(**here),
        "back_link": calendar_link(day=step_back.isoformat(), **here),
        "on_link": calendar_link(day=step_on.isoformat(), **here),
        "day_link": calendar_link(day=day.isoformat(), **(here | {"view": "day"})),
        "week_link": calendar_link(day=day.isoformat(), **(here | {"view": "week"})),
        "month_link": calendar_link(day=day.isoformat(), **(here | {"view": "month"})),
        "availability_error": availability_error,
        "local": lambda moment: (
            utc(moment).astimezone(zone) if isinstance(moment, str) else moment.astimezone(zone)
        ),
    }


async def _month_values(
    page: Page,
    day: dt.date,
    zone: ZoneInfo,
    resources: list[dict[str, Any]],
    types: list[dict[str, Any]],
    hours: list[dict[str, Any]],
    closures: list[dict[str, Any]],
    stype: dict[str, Any] | None,
) -> dict[str, Any]:
    """The month around `day`: every booked or held session by day, closures and closed days,
    and how many starts of the chosen session type are free each day (booking's availability);
    a day opens the day view, where its free slots are booked."""
    first = day.replace(day=1)
    after = (first + dt.timedelta(days=32)).replace(day=1)
    weeks_start = first - dt.timedelta(days=first.weekday())
    weeks_end = after + dt.timedelta(days=(7 - after.weekday()) % 7)
    start = dt.datetime.combine(weeks_start, dt.time(), zone).astimezone(dt.UTC)
    end = dt.datetime.combine(weeks_end, dt.time(), zone).astimezone(dt.UTC)
    sessions = await page.gateway.get(
        f"{BOOKING}/sessions", start=start.isoformat(), end=end.isoformat()
    )
    sessions = [s for s in sessions if s["state"] in ("booked", "held")]
    free_starts: list[dict[str, Any]] = []
    availability_error = None
    if stype is not None:
        try:
            found = await page.gateway.get(
                f"{BOOKING}/availability",
                session_type_id=stype["id"],
                start=max(start, dt.datetime.now(dt.UTC)).isoformat(),
                end=end.isoformat(),
            )
        except GatewayError as error:
            if error.status >= 500:
                raise
            availability_error = error.message
        else:
            free_starts = found["starts"]
    weeks = build_month(day, resources, hours, closures, sessions, zone, free_starts)
    type_id = stype["id"] if stype else ""
    here = {"view": "month", "type": type_id, "resource": ""}
    before = (first - dt.timedelta(days=1)).replace(day=1)
    return {
        "view": "month",
        "day": day,
        "days": [first],
        "zone": zone,
        "weeks": weeks,
        "month_sessions": sum(len(d.sessions) for week in weeks for d in week if d.in_month),
        "today": dt.datetime.now(zone).date(),
        "types": types,
        "stype": stype,
        "type_names": {t["id"]: t["name"] for t in types},
        "resources": resources,
        "resource": None,
        "here": here,
        "today_link": calendar_link(**here),
        "back_link": calendar_link(day=before.isoformat(), **here),
        "on_link": calendar_link(day=after.isoformat(), **here),
        "day_link": calendar_link(day=day.isoformat(), view="day", type=type_id),
        "week_link": calendar_link(day=day.isoformat(), view="week", type=type_id),
        "month_link": calendar_link(day=day.isoformat(), **here),
        "availability_error": availability_error,
        "local": lambda moment: utc(moment).astimezone(zone),
    }


@router.get("/calendar")
async def calendar(
    page: PageDep, day: str = "", view: str = "day", type: str = "", resource: str = ""
) -> HTMLResponse:
    values = await _calendar_values(page, day, view, type, resource)
    return page.render("calendar/calendar.html", **values, move_error=None)


@router.post("/calendar/move", response_model=None)
async def move(page: PageDep, request: Request) -> Response:
    """A session dragged onto another slot: booking's reschedule with the version shown."""
    form = await request.form()
    session_id = form_value(form, "session_id")
    view_of = {n: form_value(form, n) for n in ("day", "view", "type", "resource")}
    error_message = None
    status_code = 200
    try:
        await page.gateway.send(
            "POST",
            f"{BOOKING}/sessions/{session_id}/reschedule",
            {
                "starts_at": form_value(form, "starts_at"),
                "resource_ids": [form_value(form, "resource_id")],
                "version": int(form_value(form, "version") or "-1"),
            },
        )
    except GatewayError as error:
        if error.status >= 500:
            raise
        error_message, status_code = error.message, error.status
    if not is_htmx(request):
        if error_message:
            values = await _calendar_values(page, *view_of.values())
            return page.render(
                "calendar/calendar.html", status_code, **values, move_error=error_message
            )
        return RedirectResponse(calendar_link(**view_of), status_code=303)
    values = await _calendar_values(page, *view_of.values())
    return page.render(
        "calendar/calendar.html", status_code, block="grid", **values, move_error=error_message
    )


# --- booking a free slot ------------------------------------------------------------------

CLIENT_FIELDS = ("first_name", "last_name", "email", "phone")


async def _search_clients(page: Page, query: str) -> list[dict[str, Any]]:
    if not query:
        return []
    key = (
        "email"
        if "@" in query
        else "phone"
        if query.replace(" ", "").lstrip("+").isdigit()
        else "name"
    )
    found = await page.gateway.get(f"{BOOKING}/clients", **{key: query}, page_size=10)
    return list(found["items"])


async def _book_page(
    page: Page,
    typed: dict[str, str],
    *,
    status_code: int = 200,
    matches: list[dict[str, Any]] | None = None,
    message: str | None = None,
    fields: dict[str, str] | None = None,
) -> HTMLResponse:
    zone, resources, types = await asyncio.gather(
        studio_zone(page.gateway),
        page.gateway.get(f"{BOOKING}/resources"),
        page.gateway.get(f"{BOOKING}/session-types"),
    )
    resource = next((r for r in resources if r["id"] == typed["resource_id"]), None)
    usable = [t for t in types if t["active"] and typed["resource_id"] in t["resource_ids"]]
    starts = utc(typed["starts_at"]) if typed["starts_at"] else None
    return page.render(
        "calendar/book.html",
        status_code,
        typed=typed,
        resource=resource,
        types=usable,
        starts=starts.astimezone(zone) if starts else None,
        matches=matches or [],
        message=message,
        fields=fields or {},
        client_name=client_name,
    )


@router.get("/calendar/book")
async def book_form(
    page: PageDep, starts_at: str = "", resource_id: str = "", type: str = ""
) -> HTMLResponse:
    typed = {"starts_at": starts_at, "resource_id": resource_id, "session_type_id": type}
    typed |= {"q": "", "client_id": "", **dict.fromkeys(CLIENT_FIELDS, "")}
    return await _book_page(page, typed)


@router.get("/calendar/clients")
async def client_matches(page: PageDep, q: str = "") -> HTMLResponse:
    """The live client search of the booking form (an htmx swap of the matches)."""
    matches = await _search_clients(page, q.strip())
    return page.render(
        "calendar/book.html",
        block="matches",
        matches=matches,
        typed={"q": q, "client_id": ""},
        client_name=client_name,
    )


@router.post("/calendar/book", response_model=None)
async def book(page: PageDep, request: Request) -> Response:
    form = await request.form()
    names = ("starts_at", "resource_id", "session_type_id", "q", "client_id", *CLIENT_FIELDS)
    typed = {n: form_value(form, n) for n in names}
    matches = await _search_clients(page, typed["q"])
    if form_value(form, "action") == "search":
        return await _book_page(page, typed, matches=matches)
    made_client = None
    client_id = typed["client_id"]
    try:
        if client_id in ("", "new"):
            if client_id == "" and not any(typed[n] for n in CLIENT_FIELDS):
                return await _book_page(
                    page,
                    typed,
                    status_code=422,
                    matches=matches,
                    message="Pick a client from the search, or enter a new client.",
                )
            body: dict[str, Any] = {
                n: typed[n] or None for n in ("first_name", "last_name", "email")
            }
            if typed["phone"]:
                body["phones"] = [{"number": typed["phone"]}]
            made_client = await page.gateway.send("POST", f"{BOOKING}/clients", body)
            client_id = made_client["id"]
        session = await page.gateway.send(
            "POST",
            f"{BOOKING}/sessions",
            {
                "client_id": client_id,
                "session_type_id": typed["session_type_id"],
                "starts_at": typed["starts_at"],
                "resource_ids": [typed["resource_id"]] if typed["resource_id"] else [],
            },
        )
    except GatewayError as error:
        if error.status >= 500:
            raise
        if made_client is not None:  # nothing half-written: the new client goes with the booking
            await page.gateway.request("DELETE", f"{BOOKING}/clients/{made_client['id']}")
        fields = {}
        if error.code == "validation_error" and isinstance(error.detail, list):
            for problem in error.detail:
                location = [p for p in problem.get("location") or [] if isinstance(p, str)]
                if location:
                    name = "phone" if "phones" in location else location[-1]
                    fields[name] = str(problem.get("message", "")).removeprefix("Value error, ")
        duplicate = (
            (error.detail or {}).get("duplicate_of") if isinstance(error.detail, dict) else None
        )
        if duplicate:
            with contextlib.suppress(GatewayError):
                matches = [await page.gateway.get(f"{BOOKING}/clients/{duplicate}"), *matches]
        message = error.message if not fields else "Some fields need a change: see below."
        return await _book_page(
            page, typed, status_code=error.status, matches=matches, message=message, fields=fields
        )
    zone = await studio_zone(page.gateway)
    day = utc(session["starts_at"]).astimezone(zone).date().isoformat()
    return RedirectResponse(calendar_link(day=day, type=typed["session_type_id"]), status_code=303)


# --- one session: reschedule, cancel, reopen ------------------------------------------------------


async def _session_page(
    page: Page,
    session_id: str,
    *,
    status_code: int = 200,
    typed: dict[str, str] | None = None,
    move_error: str | None = None,
    cancel_error: str | None = None,
    reopen_error: str | None = None,
    deposit_error: str | None = None,
) -> HTMLResponse:
    zone, session, resources, types, payments = await asyncio.gather(
        studio_zone(page.gateway),
        page.gateway.get(f"{BOOKING}/sessions/{session_id}"),
        page.gateway.get(f"{BOOKING}/resources"),
        page.gateway.get(f"{BOOKING}/session-types"),
        page.gateway.get(f"{BOOKING}/payments", session_id=session_id),
    )
    stype = next((t for t in types if t["id"] == session["session_type_id"]), None)
    client = await page.gateway.get(f"{BOOKING}/clients/{session['client_id']}")
    starts = utc(session["starts_at"]).astimezone(zone)
    ends = utc(session["ends_at"]).astimezone(zone)
    typed = typed or {
        "date": starts.date().isoformat(),
        "time": starts.strftime("%H:%M"),
        "resource_id": (session["resource_ids"] or [""])[0],
        "reason": "",
    }
    return page.render(
        "calendar/session.html",
        status_code,
        session=session,
        client=client,
        client_label=client_name(client),
        starts=starts,
        ends=ends,
        resources=resources,
        names={r["id"]: r["name"] for r in resources},
        type_name=stype["name"] if stype else "",
        deposit_minor=stype["deposit_minor"] if stype else 0,
        currency=(stype["currency"] if stype else "usd").upper(),
        deposits=[p for p in payments if p["purpose"] == "deposit"],
        typed=typed,
        move_error=move_error,
        cancel_error=cancel_error,
        reopen_error=reopen_error,
        deposit_error=deposit_error,
        day_link=calendar_link(day=starts.date().isoformat(), type=session["session_type_id"]),
    )


@router.get("/calendar/sessions/{session_id}")
async def session_page(page: PageDep, session_id: str) -> HTMLResponse:
    return await _session_page(page, session_id)


@router.post("/calendar/sessions/{session_id}/reschedule", response_model=None)
async def reschedule(page: PageDep, request: Request, session_id: str) -> Response:
    form = await request.form()
    typed = {n: form_value(form, n) for n in ("date", "time", "resource_id", "version")}
    typed["reason"] = ""
    zone = await studio_zone(page.gateway)
    try:
        local = dt.datetime.combine(
            dt.date.fromisoformat(typed["date"]), dt.time.fromisoformat(typed["time"]), zone
        )
    except ValueError:
        return await _session_page(
            page, session_id, status_code=422, typed=typed, move_error="Give a date and a time."
        )
    try:
        await page.gateway.send(
            "POST",
            f"{BOOKING}/sessions/{session_id}/reschedule",
            {
                "starts_at": local.isoformat(),
                "resource_ids": [typed["resource_id"]] if typed["resource_id"] else [],
                "version": int(typed["version"] or "-1"),
            },
        )
    except GatewayError as error:
        if error.status >= 500:
            raise
        return await _session_page(
            page, session_id, status_code=error.status, typed=typed, move_error=error.message
        )
    session = await page.gateway.get(f"{BOOKING}/sessions/{session_id}")
    day = utc(session["starts_at"]).astimezone(zone).date().isoformat()
    return RedirectResponse(
        calendar_link(day=day, type=session["session_type_id"]), status_code=303
    )


@router.post("/calendar/sessions/{session_id}/cancel", response_model=None)
async def cancel(page: PageDep, request: Request, session_id: str) -> Response:
    form = await request.form()
    reason = form_value(form, "reason")
    try:
        await page.gateway.send(
            "POST", f"{BOOKING}/sessions/{session_id}/cancel", {"reason": reason}
        )
    except GatewayError as error:
        if error.status >= 500:
            raise
        message = (
            "Give a reason for the cancellation."
            if error.code == "validation_error"
            else error.message
        )
        return await _session_page(page, session_id, status_code=error.status, cancel_error=message)
    return RedirectResponse(f"/calendar/sessions/{session_id}", status_code=303)


@router.post("/calendar/sessions/{session_id}/reopen", response_model=None)
async def reopen(page: PageDep, request: Request, session_id: str) -> Response:
    """Reinstate a session cancelled by mistake: in its old slot, or in the one typed when
    that one is taken (booking answers 409 and the form asks for another)."""
    form = await request.form()
    typed = {n: form_value(form, n) for n in ("date", "time", "resource_id", "version", "reason")}
    typed["another"] = form_value(form, "another")
    body: dict[str, Any] = {"reason": typed["reason"], "version": int(typed["version"] or "-1")}
    if typed["another"]:
        zone = await studio_zone(page.gateway)
        try:
            local = dt.datetime.combine(
                dt.date.fromisoformat(typed["date"]), dt.time.fromisoformat(typed["time"]), zone
            )
        except ValueError:
            return await _session_page(
                page,
                session_id,
                status_code=422,
                typed=typed,
                reopen_error="Give the date and time of the other slot.",
            )
        body["starts_at"] = local.isoformat()
        body["resource_ids"] = [typed["resource_id"]] if typed["resource_id"] else []
    try:
        await page.gateway.send("POST", f"{BOOKING}/sessions/{session_id}/reopen", body)
    except GatewayError as error:
        if error.status >= 500:
            raise
        message = (
            "Give a reason for reopening the session."
            if error.code == "validation_error"
            else error.message
        )
        return await _session_page(
            page, session_id, status_code=error.status, typed=typed, reopen_error=message
        )
    return RedirectResponse(f"/calendar/sessions/{session_id}", status_code=303)


@router.post("/calendar/sessions/{session_id}/deposit", response_model=None)
async def take_deposit(page: PageDep, request: Request, session_id: str) -> Response:
    """The session type's deposit: taken at the desk (recorded, with a receipt number) or
    asked for through a Stripe Checkout link to send the client."""
    form = await request.form()
    method = form_value(form, "method")
    body: dict[str, Any] = {"session_id": session_id}
    if method == "checkout":
        path = f"{BOOKING}/payments"
        body["method"] = "checkout"
    else:
        path = f"{BOOKING}/payments/recorded"
        body["method"] = method
        if form_value(form, "reference"):
            body["reference"] = form_value(form, "reference")
    try:
        await page.gateway.send("POST", path, body)
    except GatewayError as error:
        if error.status >= 500:
            raise
        return await _session_page(
            page, session_id, status_code=error.status, deposit_error=error.message
        )
    return RedirectResponse(f"/calendar/sessions/{session_id}#deposit", status_code=303)
