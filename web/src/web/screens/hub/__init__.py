"""The workflow hub: sessions by stage and status with counts, overdue marked, and the
studio's bulk "Advance status" over the sessions it selects."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from web.gateway import GatewayError
from web.pages import STUDIO_ROLES, NavItem, PageDep, form_value, is_htmx, screen_router

router = screen_router(STUDIO_ROLES)
nav = [NavItem("Workflow", "/hub", 40, STUDIO_ROLES, key="w")]

HUB = "/api/workflow/workflow/hub"
BULK = "/api/workflow/workflow/sessions/bulk-advance"
PER_STATUS = 50


async def _hub_values(page: PageDep, session_type_id: str | None) -> dict[str, Any]:
    hub = await page.gateway.get(HUB, per_status=PER_STATUS, session_type_id=session_type_id)
    try:
        types = await page.gateway.get("/api/booking/session-types")
    except GatewayError:
        types = []
    return {
        "hub": hub,
        "types": types,
        "type_names": {t["id"]: t["name"] for t in types},
        "session_type_id": session_type_id or "",
        "per_status": PER_STATUS,
        "back": f"/hub?session_type_id={session_type_id}" if session_type_id else "/hub",
    }


@router.get("/hub")
async def hub(page: PageDep, session_type_id: str | None = None) -> HTMLResponse:
    return page.render("hub/hub.html", **await _hub_values(page, session_type_id), outcome=None)


@router.post("/hub/advance")
async def advance(page: PageDep, request: Request) -> HTMLResponse:
    """Advance every selected session to its next status (or the one chosen), one call to
    workflow per session type; what could not move is named per session."""
    form = await request.form()
    note = form_value(form, "note") or None
    chosen: dict[str, list[str]] = {}
    for value in form.getlist("session"):
        if isinstance(value, str) and "|" in value:
            type_id, session_id = value.split("|", 1)
            chosen.setdefault(type_id, []).append(session_id)
    advanced: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    problem = None if chosen else "Select at least one session to advance."
    for type_id, session_ids in chosen.items():
        try:
            result = await page.gateway.send(
                "POST",
                BULK,
                {"session_type_id": type_id, "session_ids": session_ids, "note": note},
            )
        except GatewayError as error:
            failed += [{"session_id": s, "message": error.message} for s in session_ids]
            continue
        advanced += result["advanced"]
        failed += result["failed"]
    values = await _hub_values(page, form_value(form, "session_type_id") or None)
    outcome = {"advanced": advanced, "failed": failed, "problem": problem}
    block = "board" if is_htmx(request) else None
    status = 422 if problem else 200
    return page.render("hub/hub.html", status, block=block, **values, outcome=outcome)
