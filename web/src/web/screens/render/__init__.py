"""Render: profiles (an edit makes a new version), jobs (which status change renders what),
runs with their live progress, outputs and failures, and the plan of what a run would render.

Render owns all of it; this screen turns the studio's forms into render's bodies and shows
render's answers (its refusals next to the form that caused them).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web.gateway import GatewayError
from web.pages import STUDIO_ROLES, NavItem, Page, PageDep, form_value, is_htmx, screen_router

router = screen_router(STUDIO_ROLES)
nav = [NavItem("Render", "/render", 60, STUDIO_ROLES, key="r")]

RENDER = "/api/render"
WORKFLOW = "/api/workflow/workflow"
ENTITY_KINDS = ("session", "invoice", "production_order")
SELECTIONS = ("all", "rating", "group", "ordered")
RUNS_STEP = 25
RUNNING = ("planning", "rendering")


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _number(text: str) -> int | float | str:
    """A number typed in a form, sent as a number (render checks its range); else as typed,
    so that render's own message says what is wrong with it."""
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def profile_body(form: Any) -> dict[str, Any]:
    """Render's profile body from the profile form (every edit sends it whole)."""
    size: dict[str, Any] = {"fit": form_value(form, "fit") or "contain"}
    if form_value(form, "size_kind") == "print":
        size["print_size"] = {
            "width_in": _number(form_value(form, "width_in")),
            "height_in": _number(form_value(form, "height_in")),
        }
    else:
        size["long_edge_px"] = _number(form_value(form, "long_edge_px"))
    body: dict[str, Any] = {
        "name": form_value(form, "name"),
        "purpose": form_value(form, "purpose") or "proof",
        "size": size,
        "dpi": _number(form_value(form, "dpi") or "300"),
        "format": {
            "kind": form_value(form, "format") or "jpeg",
            "quality": _number(form_value(form, "quality") or "90"),
        },
        "deliver": form_value(form, "deliver") == "on",
    }
    if form_value(form, "product"):
        body["product"] = form_value(form, "product")
    if form_value(form, "naming"):
        body["naming"] = form_value(form, "naming")
    if form_value(form, "watermark"):
        body["watermark"] = {"text": form_value(form, "watermark")}
    if form_value(form, "link_expiry_days"):
        body["link_expiry_days"] = _number(form_value(form, "link_expiry_days"))
    return body


STORED_ONLY = ("id", "version", "created_at", "updated_at")


def edited_profile(current: dict[str, Any], form: Any) -> dict[str, Any]:
    """The profile's whole new content: what the form shows, over what it does not show
    (bleed, sharpening, an image watermark, colour settings, JPEG subsampling stay as stored)."""
    body = {k: v for k, v in current.items() if k not in STORED_ONLY}
    edited = profile_body(form)
    body.update(edited)
    body["format"] = {**(current.get("format") or {}), **edited["format"]}
    mark = current.get("watermark") or {}
    text = form_value(form, "watermark")
    if text:
        body["watermark"] = {**mark, "text": text, "image_key": None}
    elif not mark.get("image_key"):
        body["watermark"] = None
    if not form_value(form, "link_expiry_days"):
        body["link_expiry_days"] = None
    if not form_value(form, "product"):
        body["product"] = ""
    return body


def profile_form(profile: dict[str, Any]) -> dict[str, str]:
    """The profile form's values from a stored profile (to edit it)."""
    size = profile.get("size") or {}
    printed = size.get("print_size") or {}
    return {
        "name": profile.get("name", ""),
        "purpose": profile.get("purpose", "proof"),
        "size_kind": "print" if printed else "pixels",
        "long_edge_px": str(size.get("long_edge_px") or ""),
        "width_in": str(printed.get("width_in", "")),
        "height_in": str(printed.get("height_in", "")),
        "fit": size.get("fit", "contain"),
        "dpi": str(profile.get("dpi", 300)),
        "format": (profile.get("format") or {}).get("kind", "jpeg"),
        "quality": str((profile.get("format") or {}).get("quality", 90)),
        "product": profile.get("product", ""),
        "naming": profile.get("naming", ""),
        "watermark": (profile.get("watermark") or {}).get("text") or "",
        "deliver": "on" if profile.get("deliver") else "",
        "link_expiry_days": str(profile.get("link_expiry_days") or ""),
    }


def _typed(form: Any, names: tuple[str, ...]) -> dict[str, str]:
    return {name: form_value(form, name) for name in names}


PROFILE_FIELDS = (
    "name",
    "purpose",
    "size_kind",
    "long_edge_px",
    "width_in",
    "height_in",
    "fit",
    "dpi",
    "format",
    "quality",
    "product",
    "naming",
    "watermark",
    "deliver",
    "link_expiry_days",
)
JOB_FIELDS = (
    "name",
    "entity_kind",
    "select_status",
    "selection",
    "folder",
    "finish_status",
    "error_status",
)


async def _screen(
    page: Page,
    runs_limit: int,
    *,
    status_code: int = 200,
    profile_typed: dict[str, str] | None = None,
    profile_error: str | None = None,
    profile_problems: dict[str, str] | None = None,
    job_typed: dict[str, Any] | None = None,
    job_error: str | None = None,
    job_problems: dict[str, str] | None = None,
) -> HTMLResponse:
    profiles, jobs, runs, statuses = await asyncio.gather(
        page.gateway.get(f"{RENDER}/profiles"),
        page.gateway.get(f"{RENDER}/jobs"),
        page.gateway.get(f"{RENDER}/runs", limit=runs_limit + 1),
        page.gateway.get(f"{WORKFLOW}/statuses"),
    )
    names = {p["id"]: p["name"] for p in profiles}
    return page.render(
        "render/render.html",
        status_code,
        profiles=profiles,
        jobs=jobs,
        names=names,
        job_names={j["id"]: j["name"] for j in jobs},
        runs=runs[:runs_limit],
        more_runs=len(runs) > runs_limit,
        runs_limit=runs_limit,
        runs_step=RUNS_STEP,
        statuses=statuses,
        kinds=ENTITY_KINDS,
        selections=SELECTIONS,
        profile=profile_typed or {"purpose": "proof", "size_kind": "pixels", "dpi": "300"},
        profile_error=profile_error,
        profile_problems=profile_problems or {},
        job=job_typed or {"profile_ids": []},
        job_error=job_error,
        job_problems=job_problems or {},
    )


@router.get("/render")
async def render_screen(page: PageDep, runs: int = RUNS_STEP) -> HTMLResponse:
    return await _screen(page, min(max(1, runs), 500))


@router.post("/render/profiles", response_model=None)
async def create_profile(page: PageDep, request: Request) -> Response:
    form = await request.form()
    try:
        made = await page.gateway.send("POST", f"{RENDER}/profiles", profile_body(form))
    except GatewayError as error:
        if error.status >= 500:
            raise
        return await _screen(
            page,
            RUNS_STEP,
            status_code=error.status,
            profile_typed=_typed(form, PROFILE_FIELDS),
            profile_error=error.message,
            profile_problems=error.field_problems(),
        )
    return _redirect(f"/render/profiles/{made['id']}")


async def _profile_page(
    page: Page,
    profile_id: str,
    *,
    status_code: int = 200,
    typed: dict[str, str] | None = None,
    error: str | None = None,
    problems: dict[str, str] | None = None,
) -> HTMLResponse:
    profile = await page.gateway.get(f"{RENDER}/profiles/{profile_id}")
    return page.render(
        "render/profile.html",
        status_code,
        current=profile,
        profile=typed or profile_form(profile),
        profile_error=error,
        profile_problems=problems or {},
    )


@router.get("/render/profiles/{profile_id}")
async def profile(page: PageDep, profile_id: str) -> HTMLResponse:
    return await _profile_page(page, profile_id)


@router.post("/render/profiles/{profile_id}", response_model=None)
async def edit_profile(page: PageDep, profile_id: str, request: Request) -> Response:
    form = await request.form()
    base = form_value(form, "base_version")
    query = f"?base_version={base}" if base.isdigit() else ""
    current = await page.gateway.get(f"{RENDER}/profiles/{profile_id}")
    try:
        await page.gateway.send(
            "PUT", f"{RENDER}/profiles/{profile_id}{query}", edited_profile(current, form)
        )
    except GatewayError as error:
        if error.status >= 500 or error.status == 404:
            raise
        return await _profile_page(
            page,
            profile_id,
            status_code=error.status,
            typed=_typed(form, PROFILE_FIELDS),
            error=error.message,
            problems=error.field_problems(),
        )
    return _redirect(f"/render/profiles/{profile_id}")


@router.post("/render/jobs", response_model=None)
async def create_job(page: PageDep, request: Request) -> Response:
    form = await request.form()
    typed: dict[str, Any] = _typed(form, JOB_FIELDS)
    typed["profile_ids"] = [str(v) for v in form.getlist("profile_ids")]
    images: dict[str, Any] = {"kind": typed["selection"] or "all"}
    if typed["folder"] and images["kind"] != "ordered":
        images["folder"] = typed["folder"]
    body: dict[str, Any] = {
        "name": typed["name"],
        "entity_kind": typed["entity_kind"] or "session",
        "select_status": typed["select_status"],
        "profile_ids": typed["profile_ids"],
        "images": images,
    }
    for name in ("finish_status", "error_status"):
        if typed[name]:
            body[name] = typed[name]
    try:
        await page.gateway.send("POST", f"{RENDER}/jobs", body)
    except GatewayError as error:
        if error.status >= 500:
            raise
        return await _screen(
            page,
            RUNS_STEP,
            status_code=error.status,
            job_typed=typed,
            job_error=error.message,
            job_problems=error.field_problems(),
        )
    return _redirect("/render#jobs")


# --- Runs: the run page with live progress, the plan, starting a run by hand ---------------


@router.get("/render/runs/{run_id}")
async def run(page: PageDep, run_id: str) -> HTMLResponse:
    found = await page.gateway.get(f"{RENDER}/runs/{run_id}")
    block = "progress" if is_htmx(page.request) else None
    return page.render("render/run.html", run=found, running=RUNNING, block=block)


def _run_request(form: Any) -> tuple[dict[str, str], dict[str, Any]]:
    typed = _typed(form, ("job_id", "entity_kind", "entity_id", "session_id", "image_ids"))
    body: dict[str, Any] = {
        "job_id": typed["job_id"],
        "entity_kind": typed["entity_kind"] or "session",
        "entity_id": typed["entity_id"] or typed["session_id"],
        "session_id": typed["session_id"],
    }
    chosen = [i for i in typed["image_ids"].replace(",", " ").split() if i]
    if chosen:
        body["image_ids"] = chosen
    return typed, body


async def _plan_page(
    page: Page,
    typed: dict[str, str],
    *,
    status_code: int = 200,
    plan: dict[str, Any] | None = None,
    error: str | None = None,
    problems: dict[str, str] | None = None,
) -> HTMLResponse:
    jobs = await page.gateway.get(f"{RENDER}/jobs")
    return page.render(
        "render/plan.html",
        status_code,
        jobs=jobs,
        kinds=ENTITY_KINDS,
        typed=typed,
        plan=plan,
        error=error,
        problems=problems or {},
    )


@router.get("/render/plan")
async def plan_form(
    page: PageDep,
    job_id: str = "",
    entity_kind: str = "",
    entity_id: str = "",
    session_id: str = "",
) -> HTMLResponse:
    typed = {
        "job_id": job_id,
        "entity_kind": entity_kind,
        "entity_id": entity_id,
        "session_id": session_id,
        "image_ids": "",
    }
    return await _plan_page(page, typed)


@router.post("/render/plan", response_model=None)
async def plan(page: PageDep, request: Request) -> Response:
    form = await request.form()
    typed, body = _run_request(form)
    start = form_value(form, "action") == "start"
    try:
        if start:
            made = await page.gateway.send("POST", f"{RENDER}/runs", body)
            return _redirect(f"/render/runs/{made['id']}")
        planned = await page.gateway.send("POST", f"{RENDER}/runs/plan", body)
    except GatewayError as error:
        if error.status >= 500:
            raise
        return await _plan_page(
            page,
            typed,
            status_code=error.status,
            error=error.message,
            problems=error.field_problems(),
        )
    return await _plan_page(page, typed, plan=planned)
