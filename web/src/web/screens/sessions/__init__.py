"""The session record: its workflow status (change it, see the history), its images by folder
with previews, importing files, ratings by keys 0-5, and groups."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from web.gateway import GatewayError
from web.pages import STUDIO_ROLES, PageDep, form_value, is_htmx, screen_router

router = screen_router(STUDIO_ROLES)
nav: list[Any] = []  # reached from Today, the hub and the calendar

WORKFLOW = "/api/workflow/workflow"
FOLDERS = ("raw", "hires", "previews", "retouched", "rendered")


def _folders(images: list[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(FOLDERS, 0)
    for image in images:
        for folder in image.get("keys", {}):
            if folder in counts:
                counts[folder] += 1
        if image.get("preview"):
            counts["previews"] += 1
        if image.get("retouched"):
            counts["retouched"] += 1
    return counts


async def _record_values(page: PageDep, session_id: str) -> dict[str, Any]:
    record, history, images, groups = await asyncio.gather(
        page.gateway.get(f"{WORKFLOW}/sessions/{session_id}"),
        page.gateway.get(f"{WORKFLOW}/sessions/{session_id}/history"),
        page.gateway.get(f"{WORKFLOW}/sessions/{session_id}/images"),
        page.gateway.get(f"{WORKFLOW}/sessions/{session_id}/groups"),
    )
    steps = history.get("history", []) if isinstance(history, dict) else history
    return {
        "record": record,
        "history": steps,
        "images": images,
        "groups": groups,
        "folders": _folders(images),
    }


def _back(session_id: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/sessions/{session_id}{anchor}", status_code=303)


@router.get("/sessions/{session_id}")
async def session_record(page: PageDep, session_id: str) -> HTMLResponse:
    values = await _record_values(page, session_id)
    return page.render("sessions/session.html", **values, problems={}, report=None)


async def _with_problem(
    page: PageDep, session_id: str, where: str, message: str, status: int = 422
) -> HTMLResponse:
    """The record again, with the refusal next to the part it is about."""
    values = await _record_values(page, session_id)
    return page.render(
        "sessions/session.html", status, **values, problems={where: message}, report=None
    )


@router.post("/sessions/{session_id}/status", response_model=None)
async def change_status(
    page: PageDep, request: Request, session_id: str
) -> HTMLResponse | RedirectResponse:
    """The next status (or the one chosen), checked against the version the page showed."""
    form = await request.form()
    body: dict[str, Any] = {"note": form_value(form, "note") or None}
    if form_value(form, "expected_version").isdigit():
        body["expected_version"] = int(form_value(form, "expected_version"))
    try:
        await page.gateway.send("POST", f"{WORKFLOW}/sessions/{session_id}/status", body)
    except GatewayError as error:
        if error.status >= 500:
            raise
        return await _with_problem(page, session_id, "status", error.message, error.status)
    return _back(session_id, "#status")


@router.post("/sessions/{session_id}/import")
async def import_images(page: PageDep, request: Request, session_id: str) -> HTMLResponse:
    """Files of the form go on to workflow's import as they are (spooled to disk by the form
    parser, streamed from there: never whole in memory); the report is shown per file."""
    form = await request.form()
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    if not uploads:
        return await _with_problem(page, session_id, "import", "Choose one or more files.")
    files = [
        ("files", (u.filename or "file", u.file, u.content_type or "application/octet-stream"))
        for u in uploads
    ]
    try:
        report = await page.gateway.send(
            "POST", f"{WORKFLOW}/sessions/{session_id}/imports", None, files=files
        )
    except GatewayError as error:
        if error.status >= 500:
            raise
        return await _with_problem(page, session_id, "import", error.message, error.status)
    values = await _record_values(page, session_id)
    block = "report" if is_htmx(request) else None
    return page.render("sessions/session.html", block=block, **values, problems={}, report=report)


@router.post("/sessions/{session_id}/images/{image_id}/rating", response_model=None)
async def rate(
    page: PageDep, request: Request, session_id: str, image_id: str
) -> HTMLResponse | RedirectResponse:
    form = await request.form()
    stars = form_value(form, "stars")
    if not stars.isdigit() or not 0 <= int(stars) <= 5:
        return await _with_problem(page, session_id, "grid", "Stars go from 0 to 5.")
    await page.gateway.send("PUT", f"{WORKFLOW}/images/{image_id}/rating", {"stars": int(stars)})
    if is_htmx(request):
        image = await page.gateway.get(f"{WORKFLOW}/images/{image_id}")
        return page.render(
            "sessions/session.html", block="tile", image=image, record={"session_id": session_id}
        )
    return _back(session_id, f"#img-{image_id}")


@router.post("/sessions/{session_id}/groups", response_model=None)
async def make_group(
    page: PageDep, request: Request, session_id: str
) -> HTMLResponse | RedirectResponse:
    form = await request.form()
    name = form_value(form, "name")
    image_ids = [i for i in form.getlist("image") if isinstance(i, str)]
    if not name or not image_ids:
        return await _with_problem(
            page, session_id, "groups", "Name the group and select at least one image."
        )
    try:
        await page.gateway.send(
            "POST",
            f"{WORKFLOW}/sessions/{session_id}/groups",
            {"name": name, "image_ids": image_ids},
        )
    except GatewayError as error:
        if error.status >= 500:
            raise
        return await _with_problem(page, session_id, "groups", error.message, error.status)
    return _back(session_id, "#groups")


@router.get("/media/images/{image_id}/preview")
async def preview(page: PageDep, image_id: str) -> Response:
    """An image's preview, streamed from the gateway (the CSP allows images from here only)."""
    async with page.gateway.stream("GET", f"{WORKFLOW}/images/{image_id}/preview") as answer:
        body = await answer.aread()
    return Response(
        body, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"}
    )
