"""The studio's clients' pages: book a session online, and the cancel and reschedule links.

No login: each page calls the gateway's public routes (booking's `/public/...`), which check
a link's signed token and the studio's cut-off themselves; a refusal is shown as booking's
message with the studio's phone. Times are shown on the studio's wall clock. The links
booking writes into confirmations (`BOOKING_PUBLIC_BASE_URL`) point at these pages.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web.gateway import GatewayError
from web.pages import (
    NavItem,
    StateDep,
    WebState,
    anonymous_csrf,
    anonymous_page,
    client_address,
    form_value,
)

router = APIRouter(include_in_schema=False)
nav: list[NavItem] = []

AnonymousCsrf = Annotated[None, Depends(anonymous_csrf)]
Token = Annotated[str, Query(min_length=1, max_length=200)]
DAYS_SHOWN = 7
CLIENT_FIELDS = ("email", "first_name", "last_name", "phone", "notes")


class Client:
    """One client's request: the gateway's public routes as that client's address."""

    def __init__(self, request: Request, state: WebState) -> None:
        self.request = request
        self.state = state
        self.address = client_address(request)

    async def get(self, path: str, **params: str) -> Any:
        query = f"?{urlencode(params)}" if params else ""
        return await self.state.http.anonymous("GET", f"/public{path}{query}", address=self.address)

    async def send(self, path: str, body: dict[str, Any]) -> Any:
        return await self.state.http.anonymous(
            "POST", f"/public{path}", address=self.address, json=body
        )

    async def studio(self) -> dict[str, Any]:
        studio: dict[str, Any] = await self.get("/studio")
        studio["zone"] = ZoneInfo(studio["timezone"])
        return studio

    def page(self, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
        return anonymous_page(self.request, self.state, template, status_code, **values)

    async def refused(self, error: GatewayError, studio: dict[str, Any] | None = None) -> Response:
        """A link that does not work (a bad token, no such session): booking's message."""
        if error.status >= 500:
            raise error
        if studio is None:
            studio = await self.studio()
        return self.page("book/refused.html", error.status, studio=studio, message=error.message)


def _client(request: Request, state: StateDep) -> Client:
    return Client(request, state)


ClientDep = Annotated[Client, Depends(_client)]


def _local(value: str, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.fromisoformat(value).astimezone(zone)


def _first_day(text: str | None, zone: ZoneInfo) -> dt.date:
    today = dt.datetime.now(zone).date()
    try:
        day = dt.date.fromisoformat(text) if text else today
    except ValueError:
        day = today
    return max(day, today)


async def _free_days(
    client: Client, type_id: str, zone: ZoneInfo, first: dt.date
) -> list[tuple[dt.date, list[dt.datetime]]]:
    """The free starts of a session type in the `DAYS_SHOWN` days from `first`, by day."""
    start = dt.datetime.combine(first, dt.time(), zone)
    end = start + dt.timedelta(days=DAYS_SHOWN)
    found = await client.get(
        f"/session-types/{type_id}/availability", start=start.isoformat(), end=end.isoformat()
    )
    days: dict[dt.date, list[dt.datetime]] = {}
    for value in found["starts"]:
        local = _local(value, zone)
        days.setdefault(local.date(), []).append(local)
    return sorted(days.items())


def _week_links(path: str, first: dt.date, zone: ZoneInfo, **params: str) -> dict[str, str | None]:
    today = dt.datetime.now(zone).date()
    earlier = first - dt.timedelta(days=DAYS_SHOWN)
    later = first + dt.timedelta(days=DAYS_SHOWN)
    return {
        "earlier": f"{path}?{urlencode({**params, 'from': max(earlier, today).isoformat()})}"
        if first > today
        else None,
        "later": f"{path}?{urlencode({**params, 'from': later.isoformat()})}",
    }


# --- booking online -----------------------------------------------------------------------


@router.get("/book")
async def session_types(client: ClientDep) -> Response:
    studio = await client.studio()
    types = await client.get("/session-types")
    return client.page("book/types.html", studio=studio, types=types)


async def _type_of(client: Client, type_id: str) -> dict[str, Any] | None:
    types: list[dict[str, Any]] = await client.get("/session-types")
    return next((t for t in types if t["id"] == type_id), None)


async def _booking_page(
    client: Client,
    type_id: str,
    first_text: str | None,
    status_code: int = 200,
    **values: Any,
) -> Response:
    studio = await client.studio()
    stype = await _type_of(client, type_id)
    if stype is None:
        return client.page(
            "book/refused.html",
            404,
            studio=studio,
            message="This kind of session cannot be booked online.",
        )
    first = _first_day(first_text, studio["zone"])
    return client.page(
        "book/book.html",
        status_code,
        studio=studio,
        stype=stype,
        days=await _free_days(client, type_id, studio["zone"], first),
        first=first,
        weeks=_week_links(f"/book/{type_id}", first, studio["zone"]),
        typed=values.pop("typed", {}),
        fields=values.pop("fields", {}),
        **values,
    )


@router.get("/book/{type_id}")
async def booking_form(
    client: ClientDep,
    type_id: str,
    first: Annotated[str | None, Query(alias="from", max_length=10)] = None,
) -> Response:
    return await _booking_page(client, type_id, first)


def _problems(error: GatewayError) -> dict[str, str]:
    problems: dict[str, str] = {}
    if error.code == "validation_error" and isinstance(error.detail, list):
        for problem in error.detail:
            if isinstance(problem, dict):
                names = [p for p in problem.get("location") or [] if isinstance(p, str)]
                name = names[-1] if names else "form"
                message = str(problem.get("message", "invalid")).removeprefix("Value error, ")
                problems.setdefault(name if name != "client" else "form", message)
    return problems


@router.post("/book/{type_id}", response_model=None)
async def book(client: ClientDep, type_id: str, _: AnonymousCsrf) -> Response:
    """Book the chosen start; with a deposit, on to the payment page (Stripe Checkout)."""
    form = await client.request.form()
    typed = {name: form_value(form, name) for name in (*CLIENT_FIELDS, "starts_at", "from")}
    missing = {
        name: message
        for name, message in (
            ("starts_at", "Choose a time."),
            ("last_name", "Give your last name."),
            ("email", "Give your email address: the confirmation and your links go there."),
        )
        if not typed[name]
    }
    if missing:
        return await _booking_page(
            client,
            type_id,
            typed["from"],
            422,
            typed=typed,
            fields=missing,
            message="Some details need a change: see below.",
        )
    details = {n: typed[n] or None for n in ("email", "first_name", "last_name", "phone")}
    body = {
        "session_type_id": type_id,
        "starts_at": typed["starts_at"],
        "client": details,
        "notes": typed["notes"] or None,
    }
    try:
        booked = await client.send("/bookings", body)
    except GatewayError as error:
        if error.status >= 500:
            raise
        fields = _problems(error)
        message = fields.pop("form", None) or error.message
        if fields:
            message = "Some details need a change: see below."
        if error.status == 409:
            typed["starts_at"] = ""
        return await _booking_page(
            client,
            type_id,
            typed["from"],
            error.status,
            typed=typed,
            fields=fields,
            message=message,
        )
    deposit = booked.get("deposit")
    if deposit and deposit.get("checkout_url"):
        # A page with the payment link rather than a redirect: it says how long the time is
        # held, and a form may only lead to this app (the page's form-action).
        studio = await client.studio()
        return client.page(
            "book/pay.html",
            201,
            studio=studio,
            booked=booked,
            deposit=deposit,
            starts=_local(booked["starts_at"], studio["zone"]),
            held_until=_local(booked["hold_expires_at"], studio["zone"])
            if booked.get("hold_expires_at")
            else None,
            booked_path=_booked_path(booked),
        )
    return RedirectResponse(_booked_path(booked), status_code=303)


def _token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query).get("token", [""])[0]


def _booked_path(booked: dict[str, Any]) -> str:
    links = booked["links"]
    tokens = {
        "cancel": _token_of(links["cancel_url"]),
        "reschedule": _token_of(links["reschedule_url"]),
    }
    return f"/book/booked/{booked['session_id']}?{urlencode(tokens)}"


@router.get("/book/booked/{session_id}")
async def booked(client: ClientDep, session_id: str, cancel: Token, reschedule: Token) -> Response:
    """The confirmation: when, and the client's own links to cancel or reschedule."""
    studio = await client.studio()
    try:
        session = await client.get(f"/sessions/{session_id}", token=cancel)
    except GatewayError as error:
        return await client.refused(error, studio)
    return client.page(
        "book/booked.html",
        studio=studio,
        session=session,
        starts=_local(session["starts_at"], studio["zone"]),
        ends=_local(session["ends_at"], studio["zone"]),
        cancel_path=f"/public/sessions/{session_id}/cancel?{urlencode({'token': cancel})}",
        reschedule_path=(
            f"/public/sessions/{session_id}/reschedule?{urlencode({'token': reschedule})}"
        ),
    )


@router.get("/booking/paid")
async def paid(client: ClientDep) -> Response:
    """Where Stripe Checkout sends a client back after paying (a deposit or an invoice)."""
    return client.page("book/paid.html", studio=await client.studio(), paid=True)


@router.get("/booking/unpaid")
async def unpaid(client: ClientDep) -> Response:
    """Where Stripe Checkout sends a client back who left the payment page."""
    return client.page("book/paid.html", studio=await client.studio(), paid=False)


# --- the client's links: cancel, reschedule ---------------------------------------------------


async def _link_page(
    client: Client,
    session_id: str,
    purpose: str,
    token: str,
    status_code: int = 200,
    first_text: str | None = None,
    **values: Any,
) -> Response:
    studio = await client.studio()
    try:
        session = await client.get(f"/sessions/{session_id}/{purpose}", token=token)
    except GatewayError as error:
        return await client.refused(error, studio)
    zone = studio["zone"]
    days: list[tuple[dt.date, list[dt.datetime]]] = []
    # Without a chosen week: the days around the session's own, where a move usually goes.
    around = _local(session["starts_at"], zone).date() - dt.timedelta(days=DAYS_SHOWN // 2)
    first = _first_day(first_text or around.isoformat(), zone)
    weeks: dict[str, str | None] = {}
    if purpose == "reschedule" and session["can_change"] and session["state"] == "booked":
        try:
            days = await _free_days(client, session["session_type_id"], zone, first)
        except GatewayError as error:
            if error.status >= 500:
                raise
            session = {**session, "can_change": False, "refusal": _not_online(studio)}
        weeks = _week_links(f"/public/sessions/{session_id}/reschedule", first, zone, token=token)
    return client.page(
        f"book/{purpose}.html",
        status_code,
        studio=studio,
        session=session,
        starts=_local(session["starts_at"], zone),
        ends=_local(session["ends_at"], zone),
        token=token,
        days=days,
        first=first,
        weeks=weeks,
        **values,
    )


def _not_online(studio: dict[str, Any]) -> str:
    phone = f" on {studio['studio_phone']}" if studio.get("studio_phone") else ""
    return f"This session cannot be moved online: please call the studio{phone}."


@router.get("/public/sessions/{session_id}/cancel")
async def cancel_link(client: ClientDep, session_id: str, token: Token) -> Response:
    return await _link_page(client, session_id, "cancel", token)


@router.post("/public/sessions/{session_id}/cancel", response_model=None)
async def cancel(client: ClientDep, session_id: str, _: AnonymousCsrf) -> Response:
    form = await client.request.form()
    token = form_value(form, "token")
    reason = form_value(form, "reason")
    try:
        await client.send(
            f"/sessions/{session_id}/cancel", {"token": token, "reason": reason or None}
        )
    except GatewayError as error:
        if error.status >= 500 or error.status in (403, 404):
            return await client.refused(error)
        return await _link_page(
            client, session_id, "cancel", token, error.status, message=error.message, reason=reason
        )
    return RedirectResponse(
        f"/public/sessions/{session_id}/cancel?{urlencode({'token': token})}", status_code=303
    )


@router.get("/public/sessions/{session_id}/reschedule")
async def reschedule_link(
    client: ClientDep,
    session_id: str,
    token: Token,
    first: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    moved: bool = False,
) -> Response:
    return await _link_page(client, session_id, "reschedule", token, 200, first, moved=moved)


@router.post("/public/sessions/{session_id}/reschedule", response_model=None)
async def reschedule(client: ClientDep, session_id: str, _: AnonymousCsrf) -> Response:
    form = await client.request.form()
    token = form_value(form, "token")
    starts_at = form_value(form, "starts_at")
    if not starts_at:
        return await _link_page(
            client,
            session_id,
            "reschedule",
            token,
            422,
            form_value(form, "from"),
            message="Choose one of the free times.",
        )
    try:
        await client.send(
            f"/sessions/{session_id}/reschedule", {"token": token, "starts_at": starts_at}
        )
    except GatewayError as error:
        if error.status >= 500 or error.status in (403, 404):
            return await client.refused(error)
        return await _link_page(
            client,
            session_id,
            "reschedule",
            token,
            error.status,
            form_value(form, "from"),
            message=error.message,
        )
    query = urlencode({"token": token, "moved": "true"})
    return RedirectResponse(f"/public/sessions/{session_id}/reschedule?{query}", status_code=303)
