"""Settings (owner only): the studio's setup, each part kept by its owner.

Resources, opening hours and closures, and session types are booking's; users and roles are
the gateway's; the status pipelines are workflow's. This screen only collects the owner's input
and shows what those answer; a refusal is shown beside the form that caused it, with the input
kept.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web.gateway import GatewayError
from web.pages import AMOUNT_HINT, NavItem, Page, PageDep, form_value, minor_units, screen_router

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
    minor = minor_units(text)
    if minor is None:
        raise FormProblem(field, AMOUNT_HINT)
    return minor


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


STAGES = ("capture", "present", "produce", "deliver", "archive", "delete")


async def _pipeline(page: Page, kind: str) -> list[dict[str, Any]]:
    """The studio-wide pipeline of `kind` in sort order, retired statuses included."""
    found = await page.gateway.get(f"{WORKFLOW}/statuses", kind=kind, include_retired="true")
    return [s for s in found if not s.get("session_type_id")]


async def _statuses_page(
    page: Page, status_code: int = 200, **forms: dict[str, Any]
) -> HTMLResponse:
    pipelines = await asyncio.gather(*(_pipeline(page, kind) for kind, _ in PIPELINES))
    return page.render(
        "settings/statuses.html",
        status_code,
        pipelines=[
            (kind, label, found) for (kind, label), found in zip(PIPELINES, pipelines, strict=True)
        ],
        stages=STAGES,
        forms=forms,
    )


def _status_change(form: Any) -> dict[str, Any]:
    """What a status row's form changes: its name, and its stage and duration when sent."""
    change: dict[str, Any] = {"name": form_value(form, "name")}
    if form_value(form, "stage"):
        change["stage"] = form_value(form, "stage")
    if form_value(form, "duration_days"):
        change["duration_days"] = _days(form_value(form, "duration_days"))
    return change


def _days(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise FormProblem("duration_days", "Write a whole number of business days.") from None


@router.get("/settings/statuses")
async def statuses(page: PageDep) -> HTMLResponse:
    return await _statuses_page(page)


@router.post("/settings/statuses", response_model=None)
async def add_status(page: PageDep, request: Request) -> Response:
    """A new status of a pipeline, placed after the chosen one (at the end by default)."""
    form = await request.form()
    typed = _typed(form, "kind", "name", "stage", "duration_days", "after")
    kind = typed["kind"] if typed["kind"] in dict(PIPELINES) else "session"
    try:
        pipeline = [s for s in await _pipeline(page, kind) if s.get("role") != "cancelled"]
        position = next(
            (i + 1 for i, s in enumerate(pipeline) if s["id"] == typed["after"]), len(pipeline)
        )
        sort_order = await _room_at(page, pipeline, position)
        body = {
            "kind": kind,
            "name": typed["name"],
            "stage": typed["stage"],
            "duration_days": _days(typed["duration_days"] or "0"),
            "sort_order": sort_order,
        }
        await page.gateway.send("POST", f"{WORKFLOW}/statuses", body)
    except FormProblem as problem:
        return await _statuses_page(
            page,
            422,
            **{
                f"new_{kind}": {
                    "typed": typed,
                    "message": problem.message,
                    "fields": {problem.field: problem.message},
                }
            },
        )
    except GatewayError as error:
        return await _statuses_page(
            page, error.status, **{f"new_{kind}": {"typed": typed, **refusal(error)}}
        )
    return _redirect(f"/settings/statuses#p-{kind}")


async def _room_at(page: Page, pipeline: list[dict[str, Any]], position: int) -> int:
    """A sort order that puts a new status at `position` of `pipeline`: between its
    neighbours when they leave a gap, else after spacing the pipeline out by tens."""
    before = pipeline[position - 1]["sort_order"] if position > 0 else 0
    after = pipeline[position]["sort_order"] if position < len(pipeline) else before + 20
    if after - before > 1:
        return (before + after) // 2
    await _renumber(page, pipeline)
    return position * 10 + 5


async def _renumber(page: Page, ordered: list[dict[str, Any]]) -> None:
    """Sort orders 10, 20, 30... in the order given (only the ones that change are sent)."""
    for index, status in enumerate(ordered, start=1):
        if status["sort_order"] != index * 10:
            await page.gateway.send(
                "PATCH", f"{WORKFLOW}/statuses/{status['id']}", {"sort_order": index * 10}
            )
            status["sort_order"] = index * 10


@router.post("/settings/statuses/{status_id}", response_model=None)
async def change_status(page: PageDep, request: Request, status_id: str) -> Response:
    """Rename a status, and change its stage and duration."""
    form = await request.form()
    typed = _typed(form, "name", "stage", "duration_days")
    try:
        change = _status_change(form)
        await page.gateway.send("PATCH", f"{WORKFLOW}/statuses/{status_id}", change)
    except FormProblem as problem:
        return await _statuses_page(
            page,
            422,
            **{f"status_{status_id}": {"typed": typed, "message": problem.message}},
        )
    except GatewayError as error:
        return await _statuses_page(
            page, error.status, **{f"status_{status_id}": {"typed": typed, **refusal(error)}}
        )
    return _redirect("/settings/statuses")


@router.post("/settings/statuses/{status_id}/move", response_model=None)
async def move_status(page: PageDep, request: Request, status_id: str) -> Response:
    """One place earlier or later in its pipeline (the two statuses swap places)."""
    form = await request.form()
    kind = form_value(form, "kind")
    step = -1 if form_value(form, "direction") == "up" else 1
    try:
        if kind not in dict(PIPELINES):
            raise FormProblem("kind", "Choose the pipeline of the status.")
        pipeline = await _pipeline(page, kind)
        index = next((i for i, s in enumerate(pipeline) if s["id"] == status_id), None)
        if index is None:
            raise FormProblem("kind", "That status is not in this pipeline any more.")
        other = index + step
        if 0 <= other < len(pipeline):
            moved = pipeline[:]
            moved[index], moved[other] = moved[other], moved[index]
            await _renumber(page, moved)
    except FormProblem as problem:
        return await _statuses_page(
            page, 422, **{f"status_{status_id}": {"message": problem.message}}
        )
    except GatewayError as error:
        return await _statuses_page(page, error.status, **{f"status_{status_id}": refusal(error)})
    return _redirect(f"/settings/statuses#s-{status_id}")


@router.post("/settings/statuses/{status_id}/active", response_model=None)
async def retire_status(page: PageDep, request: Request, status_id: str) -> Response:
    """Retire a status (entities holding it keep it and move on from it) or bring it back."""
    active = form_value(await request.form(), "active") == "true"
    try:
        await page.gateway.send("PATCH", f"{WORKFLOW}/statuses/{status_id}", {"active": active})
    except GatewayError as error:
        return await _statuses_page(page, error.status, **{f"status_{status_id}": refusal(error)})
    return _redirect(f"/settings/statuses#s-{status_id}")


# --- the studio -------------------------------------------------------------------------

DEPOSIT_POLICIES = (
    ("keep", "The studio keeps it"),
    ("refund", "Refund it in full"),
    ("refund_before", "Refund it in full when cancelled at least some days before"),
)


async def _studio_page(page: Page, status_code: int = 200, **form: Any) -> HTMLResponse:
    current = await page.gateway.get(f"{BOOKING}/scheduling-settings")
    return page.render(
        "settings/studio.html",
        status_code,
        current=current,
        policies=DEPOSIT_POLICIES,
        form=form,
    )


@router.get("/settings/studio")
async def studio(page: PageDep) -> HTMLResponse:
    return await _studio_page(page)


@router.post("/settings/studio", response_model=None)
async def change_studio(page: PageDep, request: Request) -> Response:
    """The studio's name, phone, currency, the cut-off of clients' links and the deposit
    policy; `version` is the one the form was drawn from, so a change saved meanwhile is
    shown (409) instead of being overwritten."""
    form = await request.form()
    typed = _typed(
        form,
        "studio_name",
        "studio_phone",
        "currency",
        "change_cutoff_hours",
        "deposit_policy",
        "deposit_days",
        "version",
    )
    try:
        policy: dict[str, Any] = {"kind": typed["deposit_policy"] or "keep"}
        if policy["kind"] == "refund_before":
            policy["days"] = _count(typed["deposit_days"], "deposit_days", "days")
        body = {
            "studio_name": typed["studio_name"],
            "studio_phone": typed["studio_phone"] or None,
            "currency": typed["currency"],
            "change_cutoff_hours": _count(
                typed["change_cutoff_hours"], "change_cutoff_hours", "hours"
            ),
            "deposit_policy": policy,
            "version": _count(typed["version"], "version", "version"),
        }
        await page.gateway.send("PUT", f"{BOOKING}/scheduling-settings", body)
    except FormProblem as problem:
        fields = {problem.field: problem.message}
        return await _studio_page(page, 422, typed=typed, message=problem.message, fields=fields)
    except GatewayError as error:
        shown = refusal(error)
        fields = shown["fields"]
        if "days" in fields:
            fields["deposit_days"] = fields.pop("days")
        if error.status == 409:
            shown["message"] = (
                "Someone saved the studio's settings while you were editing: "
                "the form now shows what they saved and what you typed; save again to keep yours."
            )
        return await _studio_page(page, error.status, typed=typed, **shown)
    return _redirect("/settings/studio?saved=1")


def _count(text: str, field: str, unit: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise FormProblem(field, f"Write a whole number of {unit}.") from None
