"""One image of a session: its crop and adjustment recipe with a live preview, the recipe's
versions, and its retouched version.

The preview is drawn in the browser (static/js/sessions.js) on a canvas from the image's
preview JPEG, with the tone formulas render applies (levels, exposure, contrast, brightness,
saturation, colorization) and the crops outlined: no server renders a recipe preview, and a
canvas needs no inline style, which the CSP forbids. Saving stores the next version in
workflow (version-checked); render applies it to the original when it renders.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from web.gateway import GatewayError
from web.pages import STUDIO_ROLES, PageDep, form_value, screen_router
from web.screens.sessions.common import WORKFLOW

router = screen_router(STUDIO_ROLES)
MOST_CROPS = 20
RATIOS = ("free", "original", "1:1", "4:5", "5:4", "2:3", "3:2", "5:7", "8:10", "16:9")


def default_recipe() -> dict[str, Any]:
    return {
        "crops": [],
        "adjustments": {
            "exposure": 0,
            "brightness": 0,
            "contrast": 0,
            "saturation": 0,
            "levels": {"black": 0, "white": 255, "gamma": 1.0},
        },
        "colorization": {"mode": "none", "tint_color": None, "strength": 1.0},
        "note": None,
    }


async def _optional(page: PageDep, path: str) -> Any:
    try:
        return await page.gateway.get(path)
    except GatewayError as error:
        if error.status == 404:
            return None
        raise


async def _values(page: PageDep, session_id: str, image_id: str) -> dict[str, Any]:
    record, image, current, versions = await asyncio.gather(
        page.gateway.get(f"{WORKFLOW}/sessions/{session_id}"),
        page.gateway.get(f"{WORKFLOW}/images/{image_id}"),
        _optional(page, f"{WORKFLOW}/images/{image_id}/recipe"),
        page.gateway.get(f"{WORKFLOW}/images/{image_id}/recipe/versions"),
    )
    if image.get("session_id") != session_id:
        raise GatewayError(404, "not_found", f"Image {image_id} is not this session's.")
    return {
        "record": record,
        "image": image,
        "current": current,
        "versions": list(reversed(versions)),
        "ratios": RATIOS,
        "problems": {},
        "saved": None,
    }


@router.get("/sessions/{session_id}/images/{image_id}")
async def image_page(
    page: PageDep,
    session_id: str,
    image_id: str,
    version: int | None = None,
    saved: int | None = None,
) -> HTMLResponse:
    """The image with its recipe in the form (or a past version's, to start from it)."""
    values = await _values(page, session_id, image_id)
    values["saved"] = saved
    recipe = values["current"] or default_recipe()
    if version is not None:
        recipe = await page.gateway.get(f"{WORKFLOW}/images/{image_id}/recipe/versions/{version}")
    return page.render("sessions/image.html", **values, recipe=recipe, loaded=version)


def _number(form: Any, name: str, default: float, problems: dict[str, str]) -> float:
    raw = form_value(form, name)
    if raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        problems[name] = f"{raw!r} is not a number."
        return default


def recipe_from_form(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The recipe the form describes, and what in it is not even a number."""
    problems: dict[str, str] = {}
    crops = []
    count = min(int(form_value(form, "crop_rows") or 0), MOST_CROPS + 1)
    for i in range(count):
        name = form_value(form, f"crop-{i}-name")
        if not name or form_value(form, f"crop-{i}-remove"):
            continue
        rect = {
            key: round(_number(form, f"crop-{i}-{key}", default, problems) / 100, 6)
            for key, default in (("x", 0), ("y", 0), ("width", 100), ("height", 100))
        }
        crops.append(
            {
                "name": name,
                "aspect_ratio": form_value(form, f"crop-{i}-ratio") or "free",
                "rect": rect,
            }
        )
    mode = form_value(form, "mode") or "none"
    recipe = {
        "crops": crops,
        "adjustments": {
            "exposure": _number(form, "exposure", 0, problems),
            "brightness": int(_number(form, "brightness", 0, problems)),
            "contrast": int(_number(form, "contrast", 0, problems)),
            "saturation": int(_number(form, "saturation", 0, problems)),
            "levels": {
                "black": int(_number(form, "black", 0, problems)),
                "white": int(_number(form, "white", 255, problems)),
                "gamma": _number(form, "gamma", 1.0, problems),
            },
        },
        "colorization": {
            "mode": mode,
            "tint_color": (form_value(form, "tint_color") or None) if mode == "tint" else None,
            "strength": _number(form, "strength", 1.0, problems),
        },
        "note": form_value(form, "note") or None,
    }
    return recipe, problems


def _field_of(location: list[Any]) -> str:
    """A validation problem's form field: `crop-<i>` for anything of crop i."""
    parts = [str(p) for p in location if p != "body"]
    if "crops" in parts and len(parts) > parts.index("crops") + 1:
        return f"crop-{parts[parts.index('crops') + 1]}"
    names = {"tint_color": "tint_color", "levels": "black"}
    return names.get(parts[-1], parts[-1]) if parts else "recipe"


def recipe_problems(error: GatewayError) -> dict[str, str]:
    problems: dict[str, str] = {}
    if error.code == "validation_error" and isinstance(error.detail, list):
        for problem in error.detail:
            if isinstance(problem, dict) and problem.get("location"):
                field = _field_of(list(problem["location"]))
                problems.setdefault(field, str(problem.get("message", "invalid")))
    problems["recipe"] = error.message
    return problems


def _crop_problem(error: GatewayError, recipe: dict[str, Any], problems: dict[str, str]) -> None:
    """Workflow names a crop whose ratio does not fit: the message goes beside that crop."""
    named = error.detail.get("crop") if isinstance(error.detail, dict) else None
    for i, crop in enumerate(recipe["crops"]):
        if named is not None and crop["name"] == named:
            problems[f"crop-{i}"] = error.message


@router.post("/sessions/{session_id}/images/{image_id}/recipe", response_model=None)
async def save_recipe(
    page: PageDep, request: Request, session_id: str, image_id: str
) -> HTMLResponse | RedirectResponse:
    """The form's recipe as the next version, made from the version the form showed."""
    form = await request.form()
    recipe, problems = recipe_from_form(form)
    body = dict(recipe)
    if form_value(form, "expected_version").isdigit():
        body["expected_version"] = int(form_value(form, "expected_version"))
    if not problems:
        try:
            saved = await page.gateway.send("PUT", f"{WORKFLOW}/images/{image_id}/recipe", body)
        except GatewayError as error:
            if error.status >= 500:
                raise
            problems = recipe_problems(error)
            _crop_problem(error, recipe, problems)
            status = error.status
        else:
            return RedirectResponse(
                f"/sessions/{session_id}/images/{image_id}?saved={saved['version']}#recipe",
                status_code=303,
            )
    else:
        problems["recipe"] = "Some values are not numbers; nothing was saved."
        status = 422
    values = await _values(page, session_id, image_id)
    values["problems"] = problems
    return page.render("sessions/image.html", status, **values, recipe=recipe, loaded=None)


@router.post("/sessions/{session_id}/images/{image_id}/retouched", response_model=None)
async def upload_retouched(
    page: PageDep, request: Request, session_id: str, image_id: str
) -> HTMLResponse | RedirectResponse:
    """A retouched file for the image, stored by workflow in the session's retouched folder
    (replacing an earlier one); renders use it instead of the original."""
    form = await request.form()
    upload = form.get("file")
    problem = ""
    if not isinstance(upload, UploadFile) or not upload.filename:
        problem = "Choose the retouched file (JPEG, PNG or TIFF)."
    else:
        files = [
            (
                "file",
                (upload.filename, upload.file, upload.content_type or "application/octet-stream"),
            )
        ]
        try:
            await page.gateway.send(
                "PUT", f"{WORKFLOW}/images/{image_id}/retouched", None, files=files
            )
        except GatewayError as error:
            if error.status >= 500:
                raise
            problem = error.message
        else:
            return RedirectResponse(
                f"/sessions/{session_id}/images/{image_id}#retouched", status_code=303
            )
    values = await _values(page, session_id, image_id)
    values["problems"] = {"retouched": problem}
    recipe = values["current"] or default_recipe()
    return page.render("sessions/image.html", 422, **values, recipe=recipe, loaded=None)


@router.get("/media/images/{image_id}/retouched.jpg")
async def retouched_preview(page: PageDep, image_id: str) -> Response:
    """A small JPEG of the image's retouched version (workflow makes it from the file), streamed
    from the gateway; the file itself may be a TIFF no browser shows."""
    path = f"{WORKFLOW}/images/{image_id}/retouched/preview"
    async with page.gateway.stream("GET", path) as answer:
        body = await answer.aread()
    return Response(
        body, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"}
    )
