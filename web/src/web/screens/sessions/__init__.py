"""The session record: its workflow status (change it, see the history), its images by folder
with previews, importing files, ratings by keys 0-5, groups, the slideshow order (drag, or move
buttons), side-by-side comparisons and the QR session card. Each image's page (recipe with a
live preview, retouched version) is in `image.py`; the memory-card import in `cards.py`."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from web.gateway import GatewayError
from web.pages import STUDIO_ROLES, PageDep, form_value, is_htmx, screen_router
from web.screens.sessions import cards
from web.screens.sessions import image as image_page
from web.screens.sessions.common import WORKFLOW, back

router = screen_router(STUDIO_ROLES)
router.include_router(image_page.router)
router.include_router(cards.router)
nav: list[Any] = []  # reached from Today, the hub and the calendar

FOLDERS = ("raw", "hires", "previews", "retouched", "rendered")
COMPARE_MOST = 6


def _folders(images: list[dict[str, Any]]) -> dict[str, int]:
    """Files per folder: an image's stored keys, its preview and its retouched version (each
    counted once, whether or not it is also among the keys)."""
    counts = dict.fromkeys(FOLDERS, 0)
    for image in images:
        present = {folder for folder in image.get("keys", {}) if folder in counts}
        if image.get("preview"):
            present.add("previews")
        if image.get("retouched"):
            present.add("retouched")
        for folder in present:
            counts[folder] += 1
    return counts


async def _record_values(page: PageDep, session_id: str) -> dict[str, Any]:
    record, history, images, groups, slideshow, comparisons = await asyncio.gather(
        page.gateway.get(f"{WORKFLOW}/sessions/{session_id}"),
        page.gateway.get(f"{WORKFLOW}/sessions/{session_id}/history"),
        page.gateway.get(f"{WORKFLOW}/sessions/{session_id}/images"),
        page.gateway.get(f"{WORKFLOW}/sessions/{session_id}/groups"),
        page.gateway.get(f"{WORKFLOW}/sessions/{session_id}/slideshow"),
        page.gateway.get(f"{WORKFLOW}/sessions/{session_id}/comparisons"),
    )
    steps = history.get("history", []) if isinstance(history, dict) else history
    return {
        "record": record,
        "history": steps,
        "images": images,
        "groups": groups,
        "folders": _folders(images),
        "slides": _slides(slideshow, images),
        "custom_order": bool(slideshow.get("custom")),
        "comparisons": comparisons,
        "moved": None,
    }


def _slides(slideshow: dict[str, Any], images: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {i["image_id"]: i for i in images}
    return [by_id[i] for i in slideshow.get("image_ids", []) if i in by_id]


_back = back


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


@router.post("/sessions/{session_id}/slideshow", response_model=None)
async def order_slideshow(
    page: PageDep, request: Request, session_id: str
) -> HTMLResponse | RedirectResponse:
    """The order the form lists (as dragged), or that order with one image moved a place up or
    down (`move` = `<image id>:up|down`, the keyboard's way); saved whole."""
    form = await request.form()
    order = [i for i in form.getlist("order") if isinstance(i, str) and i]
    moved: str | None = None
    image_id, _, direction = form_value(form, "move").rpartition(":")
    if image_id in order and direction in ("up", "down"):
        at = order.index(image_id)
        to = at - 1 if direction == "up" else at + 1
        if 0 <= to < len(order):
            order[at], order[to] = order[to], order[at]
        moved = image_id
    try:
        await page.gateway.send(
            "PUT", f"{WORKFLOW}/sessions/{session_id}/slideshow", {"image_ids": order}
        )
    except GatewayError as error:
        if error.status >= 500:
            raise
        if not is_htmx(request):
            return await _with_problem(page, session_id, "slideshow", error.message, error.status)
        values = await _record_values(page, session_id)  # the order as stored, and why not
        return page.render(
            "sessions/session.html",
            error.status,
            block="slideshow",
            **values,
            problems={"slideshow": error.message},
            report=None,
        )
    if not is_htmx(request):
        return _back(session_id, "#slideshow")
    values = await _record_values(page, session_id)
    if moved is not None:
        position = [s["image_id"] for s in values["slides"]].index(moved) + 1
        name = next(s["name"] for s in values["slides"] if s["image_id"] == moved)
        values["moved"] = {
            "image_id": moved,
            "direction": direction,
            "text": f"{name} is now number {position} of {len(values['slides'])}.",
        }
    else:
        values["moved"] = {"image_id": "", "direction": "", "text": "The new order is saved."}
    return page.render(
        "sessions/session.html", block="slideshow", **values, problems={}, report=None
    )


@router.post("/sessions/{session_id}/comparisons", response_model=None)
async def compare(
    page: PageDep, request: Request, session_id: str
) -> HTMLResponse | RedirectResponse:
    """A comparison set of the selected images (2 to 6), then its side-by-side view."""
    form = await request.form()
    image_ids = [i for i in form.getlist("image") if isinstance(i, str) and i]
    if not 2 <= len(image_ids) <= COMPARE_MOST:
        return await _with_problem(
            page,
            session_id,
            "compare",
            f"Select 2 to {COMPARE_MOST} images to compare ({len(image_ids)} selected).",
        )
    name = form_value(form, "name") or "Side by side"
    try:
        made = await page.gateway.send(
            "POST",
            f"{WORKFLOW}/sessions/{session_id}/comparisons",
            {"name": name, "image_ids": image_ids},
        )
    except GatewayError as error:
        if error.status >= 500:
            raise
        return await _with_problem(page, session_id, "compare", error.message, error.status)
    return RedirectResponse(
        f"/sessions/{session_id}/compare/{made['comparison_id']}", status_code=303
    )


@router.get("/sessions/{session_id}/compare/{comparison_id}")
async def comparison(page: PageDep, session_id: str, comparison_id: str) -> HTMLResponse:
    record, images, sets = await asyncio.gather(
        page.gateway.get(f"{WORKFLOW}/sessions/{session_id}"),
        page.gateway.get(f"{WORKFLOW}/sessions/{session_id}/images"),
        page.gateway.get(f"{WORKFLOW}/sessions/{session_id}/comparisons"),
    )
    chosen = next((c for c in sets if c["comparison_id"] == comparison_id), None)
    if chosen is None:
        raise GatewayError(
            404, "not_found", f"Session {record['session_number']} has no such comparison."
        )
    by_id = {i["image_id"]: i for i in images}
    shown = [by_id[i] for i in chosen["image_ids"] if i in by_id]
    return page.render("sessions/compare.html", record=record, comparison=chosen, shown=shown)


@router.post("/sessions/{session_id}/compare/{comparison_id}/delete")
async def delete_comparison(page: PageDep, session_id: str, comparison_id: str) -> RedirectResponse:
    await page.gateway.send("DELETE", f"{WORKFLOW}/comparisons/{comparison_id}")
    return _back(session_id, "#comparisons")


@router.get("/sessions/{session_id}/card.pdf")
async def session_card(page: PageDep, session_id: str) -> Response:
    """The session's QR card to print (workflow's PDF, one A4 page), as a download."""
    answer = await page.gateway.request(
        "POST", f"{WORKFLOW}/session-cards.pdf", json={"session_ids": [session_id]}
    )
    record = await page.gateway.get(f"{WORKFLOW}/sessions/{session_id}")
    number = "".join(c for c in str(record.get("session_number") or session_id) if c.isalnum())
    return Response(
        answer.content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="session-card-{number}.pdf"'},
    )


@router.get("/sessions/{session_id}/cards-of-the-day.pdf")
async def day_cards(page: PageDep, session_id: str) -> Response:
    """The QR cards of every session (not cancelled) starting on this session's day, to shoot
    a day's sessions on one memory card."""
    record = await page.gateway.get(f"{WORKFLOW}/sessions/{session_id}")
    day = str(record.get("starts_at") or "")[:10]
    ids = [session_id]
    if day:
        sessions = await page.gateway.get(
            f"{WORKFLOW}/sessions", date_from=day, date_to=day, limit=500
        )
        ordered = sorted(sessions, key=lambda s: (str(s.get("starts_at")), s["session_number"]))
        ids = [s["session_id"] for s in ordered if not s.get("cancelled")] or ids
    answer = await page.gateway.request(
        "POST", f"{WORKFLOW}/session-cards.pdf", json={"session_ids": ids}
    )
    return Response(
        answer.content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="session-cards-{day}.pdf"'},
    )


@router.get("/media/images/{image_id}/preview")
async def preview(page: PageDep, image_id: str) -> Response:
    """An image's preview, streamed from the gateway (the CSP allows images from here only)."""
    async with page.gateway.stream("GET", f"{WORKFLOW}/images/{image_id}/preview") as answer:
        body = await answer.aread()
    return Response(
        body, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"}
    )
