"""Clients: booking's client records through the gateway.

Search (name, email, phone, postal code) with sort and server-side pages, live through htmx
and by a submit button without JS; the client record with its edit form, sessions, payments,
invoices (workflow) and deliveries (delivery); a new client whose likely duplicate (booking's
409) is named with a link, "create anyway" and "merge into the existing client"; merging
another client into this one (`merging.py`); the CSV/.xlsx import (`importing.py`); the CSV
export streamed through the web app.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse

from web.gateway import GatewayError
from web.pages import ALL_ROLES, STUDIO_ROLES, NavItem, PageDep, form_value, is_htmx, screen_router
from web.screens.clients import importing, merging
from web.screens.clients.merging import name_of

router = screen_router(ALL_ROLES)
# Before the record's routes, so that /clients/import is not taken for a client's id.
router.include_router(importing.routes)
router.include_router(merging.routes)
nav = [NavItem("Clients", "/clients", 30, ALL_ROLES, key="k")]

CLIENTS = "/api/booking/clients"
INVOICES = "/api/workflow/workflow/invoices"
DELIVERIES = "/api/delivery/deliveries"
# Delivery lists deliveries by session only: the record asks for those of the client's most
# recent sessions, one call each, in parallel.
DELIVERY_SESSIONS = 10
PAGE_SIZE = 25
SEARCH = ("name", "email", "phone", "postal_code", "organization")
CONSENT_FILTERS = {"": "Any", "true": "Given", "false": "Not given"}
# How consent was given or withdrawn, as booking names it (its `ConsentMethod`).
CONSENT_METHODS = {
    "in_person": "In person",
    "paper_form": "Paper form",
    "web_form": "Web form",
    "online_booking": "Online booking",
    "email": "By email",
    "phone": "By phone",
    "import": "Imported",
    "unsubscribe": "Asked to unsubscribe",
    "staff_entry": "Recorded by the studio",
    "other": "Other",
}
SORTS = {
    "last_name": "Last name",
    "first_name": "First name",
    "organization": "Organization",
    "email": "Email",
    "postal_code": "Postal code",
    "-created_at": "Newest first",
}
FIELDS = (
    "first_name",
    "last_name",
    "organization",
    "email",
    "phone",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "tags",
    "notes",
    "marketing_consent_method",
    "marketing_consent_note",
)


def _criteria(request: Request) -> dict[str, str]:
    query = request.query_params
    criteria = {name: query.get(name, "").strip() for name in SEARCH}
    consent = query.get("marketing_consent", "")
    criteria["marketing_consent"] = consent if consent in CONSENT_FILTERS else ""
    sort = query.get("sort", "last_name")
    criteria["sort"] = sort if sort in SORTS else "last_name"
    return criteria


def _page_number(request: Request) -> int:
    try:
        return max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        return 1


def _link(criteria: dict[str, str], page: int) -> str:
    values = {k: v for k, v in criteria.items() if v} | {"page": str(page)}
    return "/clients?" + urlencode(values)


@router.get("/clients", response_class=HTMLResponse)
async def clients(page: PageDep) -> HTMLResponse:
    criteria = _criteria(page.request)
    number = _page_number(page.request)
    found: dict[str, Any] = {"items": [], "total": 0}
    problem = None
    try:
        found = await page.gateway.get(CLIENTS, **criteria, page=number, page_size=PAGE_SIZE)
    except GatewayError as error:
        problem = error.message
    total = int(found.get("total", 0))
    values = {
        "criteria": criteria,
        "sorts": SORTS,
        "consent_filters": CONSENT_FILTERS,
        "found": found["items"],
        "total": total,
        "number": number,
        "first": (number - 1) * PAGE_SIZE + 1,
        "previous": _link(criteria, number - 1) if number > 1 else None,
        "next": _link(criteria, number + 1) if number * PAGE_SIZE < total else None,
        "export": "/clients/export.csv?" + urlencode({k: v for k, v in criteria.items() if v}),
        "message": problem,
        "can_write": page.role in STUDIO_ROLES,
    }
    if is_htmx(page.request):
        return page.render("clients/clients.html", block="results", **values)
    return page.render("clients/clients.html", **values)


@router.get("/clients/export.csv", response_model=None)
async def export(page: PageDep) -> StreamingResponse:
    criteria = _criteria(page.request)
    stack = contextlib.AsyncExitStack()
    answer = await stack.enter_async_context(
        page.gateway.stream(
            "GET", f"{CLIENTS}/export.csv", params={k: v for k, v in criteria.items() if v}
        )
    )

    async def body() -> AsyncIterator[bytes]:
        async with stack:
            async for chunk in answer.aiter_bytes():
                yield chunk

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="clients.csv"'},
    )


def _form_of(client: dict[str, Any]) -> dict[str, str]:
    address = client.get("address") or {}
    phones = client.get("phones") or []
    return {
        "first_name": client.get("first_name") or "",
        "last_name": client.get("last_name") or "",
        "organization": client.get("organization") or "",
        "email": client.get("email") or "",
        "phone": phones[0]["number"] if phones else "",
        "street": address.get("street") or "",
        "city": address.get("city") or "",
        "region": address.get("region") or "",
        "postal_code": address.get("postal_code") or "",
        "country": address.get("country") or "",
        "tags": ", ".join(client.get("tags") or []),
        "notes": client.get("notes") or "",
        # How a consent change came about describes the change, so it starts blank.
        "marketing_consent_method": "",
        "marketing_consent_note": "",
    }


def _body_of(form: dict[str, str], consent: bool) -> dict[str, Any]:
    """The form as booking's client fields; an empty input clears the field."""
    address = {k: form[k] or None for k in ("street", "city", "region", "postal_code", "country")}
    return {
        "first_name": form["first_name"] or None,
        "last_name": form["last_name"] or None,
        "organization": form["organization"] or None,
        "email": form["email"] or None,
        "phones": [{"number": form["phone"], "sms": False}] if form["phone"] else [],
        "address": address if any(address.values()) else None,
        "tags": [t.strip() for t in form["tags"].replace(";", ",").split(",") if t.strip()],
        "notes": form["notes"] or None,
        "marketing_consent": consent,
        **{
            name: form[name]
            for name in ("marketing_consent_method", "marketing_consent_note")
            if form.get(name)
        },
    }


def _duplicate_of(error: GatewayError) -> dict[str, Any] | None:
    """booking's likely duplicate (409): which client, and what they share."""
    if error.status == 409 and isinstance(error.detail, dict) and error.detail.get("duplicate_of"):
        matched = error.detail.get("matched_on") or []
        return {
            "id": error.detail["duplicate_of"],
            "matched_on": ", ".join(importing.REASONS.get(str(m), str(m)) for m in matched)
            if isinstance(matched, list)
            else str(matched),
        }
    return None


def _problems(error: GatewayError) -> dict[str, str]:
    problems = error.field_problems()
    if "number" in problems:
        problems["phone"] = problems.pop("number")
    return problems


@router.get("/clients/new", response_class=HTMLResponse)
async def new_client(page: PageDep) -> HTMLResponse:
    page.require(STUDIO_ROLES)
    return page.render(
        "clients/new.html",
        form=dict.fromkeys(FIELDS, ""),
        consent_methods=CONSENT_METHODS,
        consent=False,
        errors={},
        message=None,
        duplicate=None,
    )


@router.post("/clients/new", response_model=None)
async def create_client(page: PageDep) -> HTMLResponse | RedirectResponse:
    page.require(STUDIO_ROLES)
    submitted = await page.request.form()
    form = {name: form_value(submitted, name) for name in FIELDS}
    consent = form_value(submitted, "marketing_consent") == "on"
    anyway = form_value(submitted, "allow_duplicate") == "true"
    merge_into = form_value(submitted, "merge_into")
    if merge_into:
        return await _merge_typed_into(page, merge_into, form, consent)
    try:
        made = await page.gateway.send(
            "POST",
            CLIENTS,
            _body_of(form, consent),
            params={"allow_duplicate": "true"} if anyway else None,
        )
    except GatewayError as error:
        duplicate = _duplicate_of(error)
        return page.render(
            "clients/new.html",
            status_code=error.status if error.status < 500 else 422,
            form=form,
            consent_methods=CONSENT_METHODS,
            consent=consent,
            errors=_problems(error),
            message=error.message,
            duplicate=duplicate,
        )
    return RedirectResponse(f"/clients/{made['id']}", status_code=303)


def _gaps_filled(
    existing: dict[str, Any], form: dict[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """A PATCH that adds what was typed to an existing client where it has nothing: empty
    fields filled, a new phone added, tags joined; nothing it has is overwritten."""
    typed = _body_of(form, False)
    body: dict[str, Any] = {}
    filled: list[str] = []
    for name in ("first_name", "last_name", "organization", "email", "notes"):
        if typed[name] and not existing.get(name):
            body[name] = typed[name]
            filled.append(name.replace("_", " "))
    address = dict(existing.get("address") or {})
    for name, value in (typed["address"] or {}).items():
        if value and not address.get(name):
            address[name] = value
            filled.append(name.replace("_", " "))
    if address != (existing.get("address") or {}):
        body["address"] = address
    phones = list(existing.get("phones") or [])
    known = {"".join(ch for ch in p["number"] if ch.isdigit()) for p in phones}
    for phone in typed["phones"]:
        if "".join(ch for ch in phone["number"] if ch.isdigit()) not in known:
            body["phones"] = [*phones, phone]
            filled.append("phone")
    tags = list(existing.get("tags") or [])
    added = [t for t in typed["tags"] if t not in tags]
    if added:
        body["tags"] = tags + added
        filled.append("tags")
    return body, filled


async def _merge_typed_into(
    page: PageDep, client_id: str, form: dict[str, str], consent: bool
) -> HTMLResponse | RedirectResponse:
    """ "Merge into the existing client" on a likely duplicate: nothing new is created."""
    try:
        existing = await page.gateway.get(f"{CLIENTS}/{client_id}")
        body, filled = _gaps_filled(existing, form)
        if body:
            await page.gateway.send(
                "PATCH", f"{CLIENTS}/{client_id}", body, params={"allow_duplicate": "true"}
            )
    except GatewayError as error:
        if error.status >= 500:
            raise
        return page.render(
            "clients/new.html",
            status_code=error.status,
            form=form,
            consent_methods=CONSENT_METHODS,
            consent=consent,
            errors=_problems(error),
            message=error.message,
            duplicate=None,
        )
    added = ", ".join(dict.fromkeys(filled)) or "nothing new"
    return RedirectResponse(
        f"/clients/{client_id}?" + urlencode({"filled": added}), status_code=303
    )


async def _part(page: PageDep, path: str, **query: Any) -> tuple[Any, str | None]:
    try:
        return await page.gateway.get(path, **query), None
    except GatewayError as error:
        return [], error.message


async def _related(page: PageDep, client_id: str) -> dict[str, Any]:
    """The client's sessions and payments (booking), invoices (workflow, by client) and
    deliveries (delivery, by the client's sessions), each part with its own refusal."""
    if page.role not in STUDIO_ROLES:
        return {"related": False}
    now = dt.datetime.now(dt.UTC)
    window = {
        "start": (now - dt.timedelta(days=5 * 366)).isoformat(),
        "end": (now + dt.timedelta(days=2 * 366)).isoformat(),
    }
    (
        (sessions, sessions_error),
        (payments, payments_error),
        (invoices, invoices_error),
    ) = await asyncio.gather(
        _part(page, "/api/booking/sessions", client_id=client_id, **window),
        _part(page, "/api/booking/payments", client_id=client_id, limit=50),
        _part(page, INVOICES, client_id=client_id, limit=50),
    )
    recent = sorted(sessions, key=lambda s: str(s.get("starts_at") or ""), reverse=True)
    lists = await asyncio.gather(
        *(_part(page, DELIVERIES, session_id=s["id"], limit=50) for s in recent[:DELIVERY_SESSIONS])
    )
    deliveries = sorted(
        (d for found, _ in lists for d in found),
        key=lambda d: str(d.get("created_at") or ""),
        reverse=True,
    )
    return {
        "related": True,
        "sessions": sessions,
        "sessions_error": sessions_error,
        "payments": payments,
        "payments_error": payments_error,
        "invoices": invoices,
        "invoices_error": invoices_error,
        "deliveries": deliveries,
        "deliveries_error": next((problem for _, problem in lists if problem), None),
        "deliveries_of_sessions": min(len(recent), DELIVERY_SESSIONS),
        "sessions_count": len(recent),
    }


def _outcome(request: Request) -> str | None:
    """What the last action on the record did, as the redirect to it says."""
    query = request.query_params
    if query.get("saved") == "1":
        return "Saved."
    if query.get("unsubscribed") == "1":
        return "Unsubscribed: marketing consent withdrawn."
    if query.get("filled"):
        return f"Merged what was typed into this client: {query['filled'][:200]}."
    if query.get("merged"):
        return (
            f"Merged {query['merged'][:200]} into this client: {query.get('sessions', '0')} "
            f"session(s) and {query.get('payments', '0')} payment(s) moved here."
        )
    return None


@router.get("/clients/{client_id}", response_class=HTMLResponse)
async def client_record(page: PageDep, client_id: str) -> HTMLResponse:
    client = await page.gateway.get(f"{CLIENTS}/{client_id}")
    return page.render(
        "clients/client.html",
        client=client,
        form=_form_of(client),
        consent_methods=CONSENT_METHODS,
        consent=bool(client.get("marketing_consent")),
        errors={},
        message=None,
        duplicate=None,
        can_write=page.role in STUDIO_ROLES,
        saved=_outcome(page.request),
        name_of=name_of,
        **await _related(page, client_id),
    )


@router.post("/clients/{client_id}", response_model=None)
async def edit_client(page: PageDep, client_id: str) -> HTMLResponse | RedirectResponse:
    page.require(STUDIO_ROLES)
    submitted = await page.request.form()
    form = {name: form_value(submitted, name) for name in FIELDS}
    consent = form_value(submitted, "marketing_consent") == "on"
    anyway = form_value(submitted, "allow_duplicate") == "true"
    try:
        await page.gateway.send(
            "PATCH",
            f"{CLIENTS}/{client_id}",
            _body_of(form, consent),
            params={"allow_duplicate": "true"} if anyway else None,
        )
    except GatewayError as error:
        client = await page.gateway.get(f"{CLIENTS}/{client_id}")
        return page.render(
            "clients/client.html",
            status_code=error.status if error.status < 500 else 422,
            client=client,
            form=form,
            consent_methods=CONSENT_METHODS,
            consent=consent,
            errors=_problems(error),
            message=error.message,
            duplicate=_duplicate_of(error),
            can_write=True,
            saved=None,
            name_of=name_of,
            **await _related(page, client_id),
        )
    return RedirectResponse(f"/clients/{client_id}?saved=1", status_code=303)


@router.post("/clients/{client_id}/unsubscribe", response_model=None)
async def unsubscribe_client(page: PageDep, client_id: str) -> HTMLResponse | RedirectResponse:
    """The client asked to stop marketing: booking records the withdrawal (when, how)."""
    page.require(STUDIO_ROLES)
    submitted = await page.request.form()
    method = form_value(submitted, "method")
    note = form_value(submitted, "note")
    body = {"method": method if method in CONSENT_METHODS else "unsubscribe"}
    if note:
        body["note"] = note
    try:
        await page.gateway.send("POST", f"{CLIENTS}/{client_id}/unsubscribe", body)
    except GatewayError as error:
        if error.status >= 500:
            raise
        client = await page.gateway.get(f"{CLIENTS}/{client_id}")
        return page.render(
            "clients/client.html",
            status_code=error.status,
            client=client,
            form=_form_of(client),
            consent_methods=CONSENT_METHODS,
            consent=bool(client.get("marketing_consent")),
            errors={},
            message=None,
            consent_message=error.message,
            duplicate=None,
            can_write=True,
            saved=None,
            name_of=name_of,
            **await _related(page, client_id),
        )
    return RedirectResponse(f"/clients/{client_id}?unsubscribed=1", status_code=303)
