"""Settings (owner only): the studio's setup, each part kept by its owner.

Resources, opening hours and closures, and session types are booking's; users and roles are
the gateway's; the status pipelines are workflow's. This screen only collects the owner's input
and shows what those answer; a refusal is shown beside the form that caused it, with the input
kept.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web.gateway import GatewayError
from web.pages import NavItem, Page, PageDep, form_value, screen_router

OWNER = frozenset({"owner"})
router = screen_router(OWNER)
nav = [NavItem("Settings", "/settings", 100, OWNER)]

BOOKING = "/api/booking"
WORKFLOW = "/api/workflow/workflow"
KINDS = (("photographer", "Photographer"), ("room", "Room"), ("camera", "Camera"))
ROLES = ("owner", "staff", "marketing")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
PIPELINES = (("session", "Sessions"), ("invoice", "Invoices"), ("production_order", "Production"))


class FormProblem(Exception):
    """Input that cannot be sent as typed (e.g. "12,5x" as an amount), named by its field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def problems_of(error: GatewayError) -> dict[str, str]:
    """Each body field's message; a problem of the whole body under "form"."""
    problems: dict[str, str] = {}
    if error.code == "validation_error" and isinstance(error.detail, list):
        for problem in error.detail:
            if not isinstance(problem, dict):
                continue
            names = [p for p in problem.get("location") or [] if isinstance(p, str)]
            name = names[-1] if names and names[-1] not in ("body", "query") else "form"
            message = str(problem.get("message", "invalid")).removeprefix("Value error, ")
            problems.setdefault(name, message)
    return problems


def refusal(error: GatewayError) -> dict[str, Any]:
    """What a form shows after a refusal: the platform's message and each field's problem."""
    if error.status >= 500:
        raise error
    fields = problems_of(error)
    message = fields.pop("form", None) or error.message
    if fields and error.code == "validation_error":
        message = "Some fields need a change: see below."
    return {"message": message, "fields": fields}


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _typed(form: Any, *names: str) -> dict[str, str]:
    return {name: form_value(form, name) for name in names}


def _many(form: Any, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str) and v]


def to_minor(text: str, field: str) -> int:
    """ "45" or "45.50" -> 4500 / 4550 minor units; empty -> 0."""
    if not text:
        return 0
    try:
        amount = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise FormProblem(field, "Write an amount like 45 or 45.50.") from None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise FormProblem(field, "Write an amount like 45 or 45.50.")
    return int(amount * 100)


def _whole(text: str, field: str, default: int | None = None) -> int:
    if not text and default is not None:
        return default
    try:
        return int(text)
    except ValueError:
        raise FormProblem(field, "Write a whole number of minutes.") from None


# --- resources, opening hours, closures -------------------------------------------------


async def _scheduling_page(
    page: Page, status_code: int = 200, **forms: dict[str, Any]
) -> HTMLResponse:
    resources, hours, closures = await asyncio.gather(
        page.gateway.get(f"{BOOKING}/resources"),
        page.gateway.get(f"{BOOKING}/opening-hours"),
        page.gateway.get(f"{BOOKING}/closures"),
    )
    names = {r["id"]: r["name"] for r in resources}
    hours = sorted(hours, key=lambda h: (names.get(h["resource_id"], ""), h["opens"]))
    closures = sorted(closures, key=lambda c: c["first_day"])
    return page.render(
        "settings/scheduling.html",
        status_code,
        resources=resources,
        names=names,
        hours=hours,
        closures=closures,
        kinds=KINDS,
        weekdays=WEEKDAYS,
        today=dt.date.today().isoformat(),
        forms=forms,
    )


@router.get("/settings")
async def scheduling(page: PageDep) -> HTMLResponse:
    return await _scheduling_page(page)


@router.post("/settings/resources", response_model=None)
async def create_resource(page: PageDep, request: Request) -> Response:
    typed = _typed(await request.form(), "name", "kind")
    try:
        await page.gateway.send("POST", f"{BOOKING}/resources", typed)
    except GatewayError as error:
        return await _scheduling_page(
            page, error.status, new_resource={"typed": typed, **refusal(error)}
        )
    return _redirect("/settings#resources")


@router.post("/settings/resources/{resource_id}", response_model=None)
async def change_resource(page: PageDep, request: Request, resource_id: str) -> Response:
    form = await request.form()
    typed = _typed(form, "name", "kind")
    body = {**typed, "active": form_value(form, "active") == "on"}
    try:
        await page.gateway.send("PUT", f"{BOOKING}/resources/{resource_id}", body)
    except GatewayError as error:
        return await _scheduling_page(
            page, error.status, **{f"resource_{resource_id}": {"typed": typed, **refusal(error)}}
        )
    return _redirect("/settings#resources")


@router.post("/settings/opening-hours", response_model=None)
async def add_opening_hours(page: PageDep, request: Request) -> Response:
    form = await request.form()
    typed = _typed(form, "opens", "closes", "valid_from", "valid_until")
    resource_ids = _many(form, "resource_ids")
    weekdays = _many(form, "weekdays")
    chosen = {"resource_ids": resource_ids, "weekdays": weekdays}
    body: dict[str, Any] = {
        "resource_ids": resource_ids,
        "weekdays": [int(d) for d in weekdays if d.isdigit()],
        "opens": typed["opens"],
        "closes": typed["closes"],
        "valid_from": typed["valid_from"] or dt.date.today().isoformat(),
        "valid_until": typed["valid_until"] or None,
    }
    try:
        await page.gateway.send("POST", f"{BOOKING}/opening-hours", body)
    except GatewayError as error:
        return await _scheduling_page(
            page, error.status, new_hours={"typed": typed, "chosen": chosen, **refusal(error)}
        )
    return _redirect("/settings#hours")


@router.post("/settings/opening-hours/{hours_id}/delete", response_model=None)
async def delete_opening_hours(page: PageDep, hours_id: str) -> Response:
    await page.gateway.request("DELETE", f"{BOOKING}/opening-hours/{hours_id}")
    return _redirect("/settings#hours")


@router.post("/settings/closures", response_model=None)
async def add_closure(page: PageDep, request: Request) -> Response:
    typed = _typed(await request.form(), "resource_id", "first_day", "last_day", "reason")
    body = {**typed, "resource_id": typed["resource_id"] or None}
    body["last_day"] = typed["last_day"] or typed["first_day"]
    try:
        await page.gateway.send("POST", f"{BOOKING}/closures", body)
    except GatewayError as error:
        return await _scheduling_page(
            page, error.status, new_closure={"typed": typed, **refusal(error)}
        )
    return _redirect("/settings#closures")


@router.post("/settings/closures/{closure_id}/delete", response_model=None)
async def delete_closure(page: PageDep, closure_id: str) -> Response:
    await page.gateway.request("DELETE", f"{BOOKING}/closures/{closure_id}")
    return _redirect("/settings#closures")


# --- session types ----------------------------------------------------------------------

TYPE_FIELDS = (
    "name",
    "duration_minutes",
    "buffer_after_minutes",
    "start_every_minutes",
    "deposit",
    "currency",
    "colour",
    "online_description",
)


def session_type_body(form: Any) -> dict[str, Any]:
    typed = _typed(form, *TYPE_FIELDS)
    return {
        "name": typed["name"],
        "duration_minutes": _whole(typed["duration_minutes"], "duration_minutes"),
        "buffer_after_minutes": _whole(typed["buffer_after_minutes"], "buffer_after_minutes", 0),
        "start_every_minutes": _whole(typed["start_every_minutes"], "start_every_minutes", 30),
        "deposit_minor": to_minor(typed["deposit"], "deposit"),
        "currency": typed["currency"] or "usd",
        "colour": typed["colour"] or "#4a90d9",
        "bookable_online": form_value(form, "bookable_online") == "on",
        "online_description": typed["online_description"] or None,
        "resource_ids": _many(form, "resource_ids"),
        "active": form_value(form, "active") == "on" if "active_shown" in form else True,
    }


def _type_typed(form: Any) -> dict[str, Any]:
    return {
        **_typed(form, *TYPE_FIELDS),
        "bookable_online": form_value(form, "bookable_online") == "on",
        "active": form_value(form, "active") == "on" if "active_shown" in form else True,
        "resource_ids": _many(form, "resource_ids"),
    }


def _as_typed(stype: dict[str, Any]) -> dict[str, Any]:
    deposit = stype["deposit_minor"]
    return {
        **{k: str(stype.get(k) or "") for k in TYPE_FIELDS},
        "deposit": f"{deposit // 100}.{deposit % 100:02d}" if deposit else "",
        "online_description": stype.get("online_description") or "",
        "bookable_online": stype["bookable_online"],
        "active": stype["active"],
        "resource_ids": stype["resource_ids"],
    }


async def _types_page(page: Page, status_code: int = 200, **forms: dict[str, Any]) -> HTMLResponse:
    types, resources = await asyncio.gather(
        page.gateway.get(f"{BOOKING}/session-types"), page.gateway.get(f"{BOOKING}/resources")
    )
    return page.render(
        "settings/session_types.html",
        status_code,
        types=types,
        resources=resources,
        names={r["id"]: r["name"] for r in resources},
        forms=forms,
    )


@router.get("/settings/session-types")
async def session_types(page: PageDep) -> HTMLResponse:
    return await _types_page(page)


@router.post("/settings/session-types", response_model=None)
async def create_session_type(page: PageDep, request: Request) -> Response:
    form = await request.form()
    typed = _type_typed(form)
    try:
        await page.gateway.send("POST", f"{BOOKING}/session-types", session_type_body(form))
    except FormProblem as problem:
        return await _types_page(
            page,
            422,
            new_type={
                "typed": typed,
                "message": problem.message,
                "fields": {problem.field: problem.message},
            },
        )
    except GatewayError as error:
        return await _types_page(page, error.status, new_type={"typed": typed, **refusal(error)})
    return _redirect("/settings/session-types")


async def _type_page(
    page: Page,
    type_id: str,
    typed: dict[str, Any] | None = None,
    status_code: int = 200,
    **form: Any,
) -> HTMLResponse:
    stype, resources = await asyncio.gather(
        page.gateway.get(f"{BOOKING}/session-types/{type_id}"),
        page.gateway.get(f"{BOOKING}/resources"),
    )
    return page.render(
        "settings/session_type.html",
        status_code,
        stype=stype,
        resources=resources,
        edit={"typed": typed or _as_typed(stype), "message": None, "fields": {}, **form},
    )


@router.get("/settings/session-types/{type_id}")
async def session_type(page: PageDep, type_id: str) -> HTMLResponse:
    return await _type_page(page, type_id)


@router.post("/settings/session-types/{type_id}", response_model=None)
async def change_session_type(page: PageDep, request: Request, type_id: str) -> Response:
    form = await request.form()
    typed = _type_typed(form)
    try:
        await page.gateway.send(
            "PUT", f"{BOOKING}/session-types/{type_id}", session_type_body(form)
        )
    except FormProblem as problem:
        return await _type_page(
            page,
            type_id,
            typed,
            422,
            message=problem.message,
            fields={problem.field: problem.message},
        )
    except GatewayError as error:
        return await _type_page(page, type_id, typed, error.status, **refusal(error))
    return _redirect("/settings/session-types")


# --- users and roles --------------------------------------------------------------------


async def _users_page(page: Page, status_code: int = 200, **forms: dict[str, Any]) -> HTMLResponse:
    users = await page.gateway.get("/users")
    return page.render(
        "settings/users.html",
        status_code,
        users=sorted(users, key=lambda u: u["email"]),
        roles=ROLES,
        forms=forms,
    )


@router.get("/settings/users")
async def users(page: PageDep) -> HTMLResponse:
    return await _users_page(page)


@router.post("/settings/users", response_model=None)
async def add_user(page: PageDep, request: Request) -> Response:
    form = await request.form()
    typed = _typed(form, "email", "role")
    body = {**typed, "password": form.get("password") or ""}
    try:
        await page.gateway.send("POST", "/users", body)
    except GatewayError as error:
        return await _users_page(page, error.status, new_user={"typed": typed, **refusal(error)})
    return _redirect("/settings/users")


@router.post("/settings/users/{email}", response_model=None)
async def change_user(page: PageDep, request: Request, email: str) -> Response:
    form = await request.form()
    change: dict[str, Any] = {}
    if form_value(form, "role"):
        change["role"] = form_value(form, "role")
    if form_value(form, "disabled") in ("true", "false"):
        change["disabled"] = form_value(form, "disabled") == "true"
    try:
        await page.gateway.send("PATCH", f"/users/{email}", change)
    except GatewayError as error:
        return await _users_page(page, error.status, **{f"user_{email}": refusal(error)})
    return _redirect("/settings/users")


# --- status pipelines -------------------------------------------------------------------


async def _statuses_page(
    page: Page, status_code: int = 200, **forms: dict[str, Any]
) -> HTMLResponse:
    pipelines = await asyncio.gather(
        *(page.gateway.get(f"{WORKFLOW}/statuses", kind=kind) for kind, _ in PIPELINES)
    )
    return page.render(
        "settings/statuses.html",
        status_code,
        pipelines=[
            (kind, label, [s for s in found if not s.get("session_type_id")])
            for (kind, label), found in zip(PIPELINES, pipelines, strict=True)
        ],
        forms=forms,
    )


@router.get("/settings/statuses")
async def statuses(page: PageDep) -> HTMLResponse:
    return await _statuses_page(page)


@router.post("/settings/statuses/{status_id}", response_model=None)
async def rename_status(page: PageDep, request: Request, status_id: str) -> Response:
    typed = _typed(await request.form(), "name")
    try:
        await page.gateway.send("PATCH", f"{WORKFLOW}/statuses/{status_id}", typed)
    except GatewayError as error:
        return await _statuses_page(
            page, error.status, **{f"status_{status_id}": {"typed": typed, **refusal(error)}}
        )
    return _redirect("/settings/statuses")
