"""The status dialog of one session: the next status chosen by default (any active status of
its pipeline may be picked instead), the due date (by default the status's duration), a note
for the history, and the history itself.

Opened from the workflow hub and the session record: as a `<dialog>` filled by htmx, or as a
page of its own without JS. A change is checked against the version the dialog showed, so a
session moved meanwhile answers with workflow's 409 in the dialog instead of overwriting it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web.gateway import GatewayError
from web.pages import STUDIO_ROLES, PageDep, form_value, is_htmx, screen_router

router = screen_router(STUDIO_ROLES)
nav: list[Any] = []  # opened from the hub and the session record

WORKFLOW = "/api/workflow/workflow"
FIELDS = ("to_status_id", "due_date", "note")


def _back_to(candidate: str, session_id: str) -> str:
    """Where the dialog returns: a path of this app only (never another host)."""
    if candidate.startswith("/") and not candidate.startswith("//") and "\\" not in candidate:
        return candidate
    return f"/sessions/{session_id}"


def _next_status(record: dict[str, Any], statuses: list[dict[str, Any]]) -> str:
    """The status after the current one by sort order, as workflow's default would pick."""
    current = record["status"]["id"]
    for index, status in enumerate(statuses):
        if status["id"] == current:
            return str(statuses[index + 1]["id"]) if index + 1 < len(statuses) else ""
    return ""


async def _dialog_values(page: PageDep, session_id: str) -> dict[str, Any]:
    record, history = await asyncio.gather(
        page.gateway.get(f"{WORKFLOW}/sessions/{session_id}"),
        page.gateway.get(f"{WORKFLOW}/sessions/{session_id}/history"),
    )
    statuses = await page.gateway.get(
        f"{WORKFLOW}/statuses", kind="session", session_type_id=record.get("session_type_id")
    )
    return {
        "record": record,
        "history": history.get("history", []),
        "statuses": statuses,
        "suggested": _next_status(record, statuses),
    }


def _problems_of(error: GatewayError) -> dict[str, str]:
    """Workflow's refusal next to the field it names, else above the form."""
    if error.status == 409:
        return {"status": f"{error.message} The dialog now shows where it is."}
    problems = error.field_problems()
    if not problems and isinstance(error.detail, dict):
        problems = {name: error.message for name in FIELDS if name in error.detail}
    return problems or {"status": error.message}


def _render(
    page: PageDep, request: Request, values: dict[str, Any], status: int = 200
) -> HTMLResponse:
    block = "dialog" if is_htmx(request) else None
    return page.render("status/status.html", status, block=block, **values)


@router.get("/status/sessions/{session_id}")
async def status_dialog(
    page: PageDep, request: Request, session_id: str, back: str = ""
) -> HTMLResponse:
    values = await _dialog_values(page, session_id)
    chosen = {"to_status_id": values["suggested"], "due_date": "", "note": ""}
    return _render(
        page,
        request,
        {**values, "back": _back_to(back, session_id), "chosen": chosen, "errors": {}},
    )


@router.post("/status/sessions/{session_id}", response_model=None)
async def change_status(page: PageDep, request: Request, session_id: str) -> Response:
    form = await request.form()
    back = _back_to(form_value(form, "back"), session_id)
    chosen = {name: form_value(form, name) for name in FIELDS}
    body: dict[str, Any] = {
        "to_status_id": chosen["to_status_id"] or None,
        "due_date": chosen["due_date"] or None,
        "note": chosen["note"] or None,
    }
    if form_value(form, "expected_version").isdigit():
        body["expected_version"] = int(form_value(form, "expected_version"))
    try:
        await page.gateway.send("POST", f"{WORKFLOW}/sessions/{session_id}/status", body)
    except GatewayError as error:
        if error.status >= 500:
            raise
        values = await _dialog_values(page, session_id)
        values = {**values, "back": back, "chosen": chosen, "errors": _problems_of(error)}
        return _render(page, request, values, error.status)
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": back})
    return RedirectResponse(back, status_code=303)
