"""A memory card of several sessions sorted by QR session cards: stage its frames, read the dry
run (where every frame would go, each warning with its files, each frame without a session with
its reason), correct it, then commit. All of it is workflow's `/memory-cards`; the page only
shows it readably and carries the corrections.

The sessions a frame can be corrected to are the card's planned sessions, the session the import
was started from and the sessions starting within a day of it.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import UploadFile

from web.gateway import GatewayError
from web.pages import STUDIO_ROLES, PageDep, form_value, screen_router
from web.screens.sessions.common import WORKFLOW

router = screen_router(STUDIO_ROLES)
CARDS = f"{WORKFLOW}/memory-cards"
LEAVE_OUT = "-"
REASONS = {
    "before_first_card": "before the first card",
    "follows_unknown_card": "after an unknown card",
    "follows_cancelled_card": "after a cancelled session's card",
    "unreadable_card": "an unreadable card",
    "follows_unreadable_card": "after an unreadable card",
}


def _files(form: Any) -> list[tuple[str, tuple[str, Any, str]]]:
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    return [
        ("files", (u.filename or "frame", u.file, u.content_type or "application/octet-stream"))
        for u in uploads
    ]


@router.get("/memory-cards/new")
async def new_card(page: PageDep, session: str = "") -> HTMLResponse:
    return page.render("sessions/card_new.html", origin=session, problems={}, label="")


@router.post("/memory-cards", response_model=None)
async def create_card(page: PageDep, request: Request) -> HTMLResponse | RedirectResponse:
    """A new card import, its first frames staged, then its dry run."""
    form = await request.form()
    origin, label = form_value(form, "session"), form_value(form, "label")
    files = _files(form)
    if not files:
        return page.render(
            "sessions/card_new.html",
            422,
            origin=origin,
            label=label,
            problems={"files": "Choose the card's frames (and its QR card frames)."},
        )
    try:
        card = await page.gateway.send("POST", CARDS, {"label": label or None})
        report = await page.gateway.send(
            "POST", f"{CARDS}/{card['card_id']}/frames", None, files=files
        )
    except GatewayError as error:
        if error.status >= 500:
            raise
        return page.render(
            "sessions/card_new.html",
            error.status,
            origin=origin,
            label=label,
            problems={"files": error.message},
        )
    values = await _card_values(page, card["card_id"], origin, "")
    return page.render("sessions/card.html", **values, staged=report)


@router.post("/memory-cards/{card_id}/frames")
async def add_frames(page: PageDep, request: Request, card_id: str) -> HTMLResponse:
    """More frames of the same card (an interrupted upload resumes: staged ones are skipped)."""
    form = await request.form()
    origin = form_value(form, "session")
    files = _files(form)
    report: Any = None
    problem = "Choose the frames to add." if not files else ""
    if files:
        try:
            report = await page.gateway.send("POST", f"{CARDS}/{card_id}/frames", None, files=files)
        except GatewayError as error:
            if error.status >= 500:
                raise
            problem = error.message
    values = await _card_values(page, card_id, origin, form_value(form, "expect"))
    values["problems"] = {"frames": problem} if problem else {}
    return page.render("sessions/card.html", 422 if problem else 200, **values, staged=report)


@router.get("/memory-cards/{card_id}")
async def card_page(
    page: PageDep, card_id: str, session: str = "", expect: str = ""
) -> HTMLResponse:
    """The dry run: nothing is imported until the commit."""
    values = await _card_values(page, card_id, session, expect)
    return page.render("sessions/card.html", **values, staged=None)


def _numbers(expect: str) -> list[str]:
    return [n for n in (part.strip() for part in expect.replace(",", " ").split()) if n]


async def _choices(page: PageDep, plan: dict[str, Any], origin: str) -> list[dict[str, str]]:
    """The sessions a frame may be corrected to: the plan's, the one the import started from
    and those starting within a day of it."""
    choices = {s["session_id"]: s["session_number"] for s in plan["sessions"]}
    if origin:
        try:
            record = await page.gateway.get(f"{WORKFLOW}/sessions/{origin}")
        except GatewayError as error:
            if error.status >= 500:
                raise
            record = None
        if record is not None:
            choices.setdefault(record["session_id"], record["session_number"])
            day = _day_of(record.get("starts_at"))
            if day is not None:
                nearby = await page.gateway.get(
                    f"{WORKFLOW}/sessions",
                    date_from=(day - timedelta(days=1)).isoformat(),
                    date_to=(day + timedelta(days=1)).isoformat(),
                    limit=200,
                )
                for s in nearby:
                    if not s.get("cancelled"):
                        choices.setdefault(s["session_id"], s["session_number"])
    return [
        {"session_id": k, "session_number": v}
        for k, v in sorted(choices.items(), key=lambda kv: str(kv[1]))
    ]


def _day_of(value: Any) -> date | None:
    try:
        return datetime.fromisoformat(str(value)).date() if value else None
    except ValueError:
        return None


async def _card_values(page: PageDep, card_id: str, origin: str, expect: str) -> dict[str, Any]:
    numbers = _numbers(expect)
    card, plan = await asyncio.gather(
        page.gateway.get(f"{CARDS}/{card_id}"),
        page.gateway.get(f"{CARDS}/{card_id}/plan", expect=numbers or None),
    )
    numbers_by_id = {s["session_id"]: s["session_number"] for s in plan["sessions"]}
    unplanned = {u["name"]: u for u in plan.get("unplanned", [])}
    rows = []
    for name, session_id in plan["assignments"].items():
        reason = unplanned.get(name)
        rows.append(
            {
                "name": name,
                "session_id": session_id,
                "session_number": numbers_by_id.get(session_id or ""),
                "reason": reason["message"] if reason else "",
                "short": REASONS.get(reason["reason"], "") if reason else "",
            }
        )
    return {
        "card": card,
        "plan": plan,
        "rows": rows,
        "choices": await _choices(page, plan, origin),
        "origin": origin,
        "expect": expect,
        "problems": {},
        "result": None,
        "leave_out": LEAVE_OUT,
    }


def chosen_corrections(form: Any) -> dict[str, str | None]:
    """Frame -> session id (None: leave it out): first each warning's choice for all the frames
    it names, then the choices made frame by frame, which win."""
    corrections: dict[str, str | None] = {}
    for key in form:
        if key.startswith("warning:"):
            chosen = form_value(form, key)
            names = _names(form_value(form, f"warning-files:{key.removeprefix('warning:')}"))
            for name in (n for n in names if chosen):
                corrections[name] = None if chosen == LEAVE_OUT else chosen
    for key in form:
        if key.startswith("to:"):
            chosen = form_value(form, key)
            if chosen:
                corrections[key.removeprefix("to:")] = None if chosen == LEAVE_OUT else chosen
    return corrections


def _names(listed: str) -> list[str]:
    try:
        names = json.loads(listed) if listed else []
    except ValueError:
        return []
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


@router.post("/memory-cards/{card_id}/commit")
async def commit_card(page: PageDep, request: Request, card_id: str) -> HTMLResponse:
    """Imports the card as the dry run the page showed (`plan_hash`), with the corrections
    chosen per frame; a card that plans differently now is shown again, nothing imported."""
    form = await request.form()
    origin, expect = form_value(form, "session"), form_value(form, "expect")
    corrections = chosen_corrections(form)
    body: dict[str, Any] = {"corrections": corrections}
    if form_value(form, "plan_hash"):
        body["plan_hash"] = form_value(form, "plan_hash")
    try:
        result = await page.gateway.send("POST", f"{CARDS}/{card_id}/commit", body)
    except GatewayError as error:
        if error.status >= 500:
            raise
        values = await _card_values(page, card_id, origin, expect)
        values["problems"] = {"commit": error.message}
        return page.render("sessions/card.html", error.status, **values, staged=None)
    values = await _card_values(page, card_id, origin, expect)
    numbers = {c["session_id"]: c["session_number"] for c in values["choices"]}
    for entry in result["imports"]:
        entry["session_number"] = numbers.get(entry["session_id"], entry["session_id"])
    values["result"] = result
    return page.render("sessions/card.html", **values, staged=None)
