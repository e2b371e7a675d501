"""Deliveries: packaged images for a client, their links (PIN, expiry in days or hours,
download limit), revoking and renewing them, and the download log with its resumes.

A link's URL exists only in delivery's answer that issues it (only its hash is stored): the
answer that asks for a delivery (its recipients' links) or that issues a further link. So the
page that asks shows the URL right there, once, with a copy button; it is never put in a
redirect or read back later.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web.gateway import GatewayError
from web.pages import STUDIO_ROLES, NavItem, Page, PageDep, form_value, is_htmx, screen_router

router = screen_router(STUDIO_ROLES)
nav = [NavItem("Deliveries", "/deliveries", 70, STUDIO_ROLES, key="d")]

DELIVERY = "/api/delivery/deliveries"
RENDER = "/api/render"
STEP = 25
WORKING = ("rendering", "pending", "packaging")
LINK_FIELDS = ("email", "name", "pin", "download_limit", "expires_in", "expires_unit")
# Delivery's names for a link's life, by the form's unit; both show next to `expires_in`.
EXPIRY_FIELDS = {"days": "expires_in_days", "hours": "expires_in_hours"}


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _whole_or_text(text: str) -> int | str:
    # Sent as typed when it is not a number, so that delivery's message names the problem.
    return int(text) if text.isdigit() else text


def link_request(form: Any) -> dict[str, Any]:
    """Delivery's link body from the link fields of a form (empty fields left out)."""
    body: dict[str, Any] = {}
    for name in ("email", "name", "pin"):
        value = form_value(form, name)
        if value:
            body[name] = value
    if limit := form_value(form, "download_limit"):
        body["download_limit"] = _whole_or_text(limit)
    if expires := form_value(form, "expires_in"):
        unit = form_value(form, "expires_unit")
        body[EXPIRY_FIELDS.get(unit, "expires_in_days")] = _whole_or_text(expires)
    return body


def lifetime_text(hours: float) -> str:
    """A link's life in words: "2 hours", "30 days", "1 day 6 hours"."""
    whole = round(hours)
    days, rest = divmod(whole, 24)
    parts = [f"{days} day{'s' if days != 1 else ''}"] if days else []
    if rest or not parts:
        parts.append(f"{rest} hour{'s' if rest != 1 else ''}")
    return " ".join(parts)


def _shown(link: dict[str, Any]) -> dict[str, Any]:
    if "lifetime_hours" in link:
        return {**link, "lifetime": lifetime_text(float(link["lifetime_hours"]))}
    return link


def link_problems(error: GatewayError) -> dict[str, str]:
    """Delivery's field problems, named as the form's fields."""
    problems = error.field_problems()
    for api_name in (*EXPIRY_FIELDS.values(), "days", "hours"):
        if api_name in problems:
            problems["expires_in" if api_name.startswith("expires") else "days"] = problems.pop(
                api_name
            )
    return problems


@router.get("/deliveries")
async def deliveries(page: PageDep, limit: int = STEP, session_id: str = "") -> HTMLResponse:
    limit = min(max(1, limit), 500)
    found = await page.gateway.get(DELIVERY, limit=limit + 1, session_id=session_id or None)
    return page.render(
        "deliveries/deliveries.html",
        deliveries=found[:limit],
        more=len(found) > limit,
        limit=limit,
        step=STEP,
        session_id=session_id,
    )


async def _new_page(
    page: Page,
    typed: dict[str, str],
    *,
    status_code: int = 200,
    error: str | None = None,
    problems: dict[str, str] | None = None,
) -> HTMLResponse:
    return page.render(
        "deliveries/new.html",
        status_code,
        typed=typed,
        error=error,
        problems=problems or {},
    )


@router.get("/deliveries/new")
async def new_delivery(
    page: PageDep, session_id: str = "", run_id: str = "", group_id: str = ""
) -> HTMLResponse:
    source = "run" if run_id else "group" if group_id else "hires"
    return await _new_page(
        page,
        {
            "session_id": session_id,
            "run_id": run_id,
            "group_id": group_id,
            "source": source,
            "title": "",
        },
    )


@router.post("/deliveries", response_model=None)
async def create_delivery(page: PageDep, request: Request) -> Response:
    """Ask for a delivery; the answer shows the recipient's link URL this once (no redirect)."""
    form = await request.form()
    typed = {
        name: form_value(form, name)
        for name in (
            "session_id",
            "title",
            "source",
            "run_id",
            "group_id",
            "include_invoices",
            *LINK_FIELDS,
        )
    }
    body: dict[str, Any] = {"session_id": typed["session_id"]}
    if typed["include_invoices"]:
        body["include_invoices"] = True
    if typed["title"]:
        body["title"] = typed["title"]
    try:
        if typed["source"] == "group":
            body["group_id"] = typed["group_id"]
        elif typed["source"] == "selected":
            body["selection"] = "selected"
        elif typed["source"] == "run":
            run = await page.gateway.get(f"{RENDER}/runs/{typed['run_id']}")
            keys = [o["key"] for o in run.get("outputs", []) if o.get("key")]
            if not keys:
                return await _new_page(
                    page,
                    typed,
                    status_code=422,
                    error="That render run has no outputs to deliver.",
                    problems={"run_id": "That render run has no outputs to deliver."},
                )
            body["keys"] = keys
        else:
            body["folder"] = typed["source"] or "hires"
        recipient = link_request(form)
        if recipient:
            body["recipients"] = [recipient]
        made = await page.gateway.send("POST", DELIVERY, body)
    except GatewayError as error:
        if error.status >= 500:
            raise
        return await _new_page(
            page,
            typed,
            status_code=error.status,
            error=error.message,
            problems=link_problems(error),
        )
    return await _delivery_page(
        page, made["id"], status_code=201, issued_links=made.get("issued_links") or []
    )


async def _delivery_page(
    page: Page,
    delivery_id: str,
    *,
    status_code: int = 200,
    issued: dict[str, Any] | None = None,
    issued_links: list[dict[str, Any]] | None = None,
    link_error: str | None = None,
    link_problems: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    link_errors: dict[str, str] | None = None,
) -> HTMLResponse:
    delivery, downloads = await asyncio.gather(
        page.gateway.get(f"{DELIVERY}/{delivery_id}"),
        page.gateway.get(f"{DELIVERY}/{delivery_id}/downloads"),
    )
    block = "state" if is_htmx(page.request) else None
    return page.render(
        "deliveries/delivery.html",
        status_code,
        block=block,
        delivery=delivery,
        downloads=downloads,
        working=WORKING,
        issued=[_shown(link) for link in ([issued] if issued else issued_links or [])],
        link_error=link_error,
        link_problems=link_problems or {},
        link_errors=link_errors or {},
        typed=typed or {},
    )


@router.get("/deliveries/{delivery_id}")
async def delivery(page: PageDep, delivery_id: str) -> HTMLResponse:
    return await _delivery_page(page, delivery_id)


@router.post("/deliveries/{delivery_id}/links", response_model=None)
async def issue_link(page: PageDep, delivery_id: str, request: Request) -> Response:
    """A new link: its URL is in this answer only, so the page is rendered here (no redirect)."""
    form = await request.form()
    try:
        issued = await page.gateway.send(
            "POST", f"{DELIVERY}/{delivery_id}/links", link_request(form)
        )
    except GatewayError as error:
        if error.status >= 500 or error.status == 404:
            raise
        return await _delivery_page(
            page,
            delivery_id,
            status_code=error.status,
            link_error=error.message,
            link_problems=link_problems(error),
            typed={name: form_value(form, name) for name in LINK_FIELDS},
        )
    return await _delivery_page(page, delivery_id, status_code=201, issued=issued)


@router.post("/deliveries/{delivery_id}/links/{link_id}/{action}", response_model=None)
async def change_link(
    page: PageDep, delivery_id: str, link_id: str, action: str, request: Request
) -> Response:
    if action not in ("revoke", "renew"):
        return Response("Not found", status_code=404, media_type="text/plain")
    form = await request.form()
    body: dict[str, Any] = {}
    days = form_value(form, "days")
    if action == "renew" and days:
        unit = "hours" if form_value(form, "unit") == "hours" else "days"
        body[unit] = _whole_or_text(days)
    try:
        await page.gateway.send("POST", f"{DELIVERY}/{delivery_id}/links/{link_id}/{action}", body)
    except GatewayError as error:
        if error.status >= 500 or error.status == 404:
            raise
        return await _delivery_page(
            page, delivery_id, status_code=error.status, link_errors={link_id: error.message}
        )
    return _redirect(f"/deliveries/{delivery_id}#links")
