"""Maps: draw a map of a filtered set of clients through the maps service.

Choose the clients (tags, organization, postal-code prefix) and a kind (heat map, postal-code
pins, address pins); the map page embeds the map's HTML, streamed from the gateway by a route
of this screen, links its GeoJSON, and lists the usage ledger by month.

The map's frame is sandboxed (its own opaque origin: no cookie, no reach into the app), so the
libraries it loads (`../assets/...` from `/maps/{id}/frame`) come from a public route of this
screen, passed on from the gateway's public `/maps/assets/...`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from web.gateway import GatewayError
from web.pages import NavItem, PageDep, client_address, form_value, screen_router, state_of

ROLES = frozenset({"owner", "marketing"})
router = APIRouter(include_in_schema=False)
staff = screen_router(ROLES)
nav = [NavItem("Maps", "/maps", 80, ROLES, key="m")]

MAPS = "/api/maps"
KINDS = {"heat": "Heat map", "postal-code-pins": "Postal-code pins", "address-pins": "Address pins"}
FIELDS = ("kind", "title", "tags", "organization", "postal_code_prefix")


async def _usage(page: PageDep) -> tuple[Any, str | None]:
    try:
        return await page.gateway.get(f"{MAPS}/usage"), None
    except GatewayError as error:
        return None, error.message


async def _maps_page(
    page: PageDep, form: dict[str, str], errors: dict[str, str], message: str | None, status: int
) -> HTMLResponse:
    usage, usage_error = await _usage(page)
    return page.render(
        "maps/maps.html",
        status_code=status,
        kinds=KINDS,
        form=form,
        errors=errors,
        message=message,
        usage=usage,
        usage_error=usage_error,
    )


@staff.get("/maps", response_class=HTMLResponse)
async def maps(page: PageDep) -> HTMLResponse:
    return await _maps_page(page, dict.fromkeys(FIELDS, "") | {"kind": "heat"}, {}, None, 200)


@staff.post("/maps", response_model=None)
async def make_map(page: PageDep) -> HTMLResponse | RedirectResponse:
    submitted = await page.request.form()
    form = {name: form_value(submitted, name) for name in FIELDS}
    if form["kind"] not in KINDS:
        return await _maps_page(page, form, {"kind": "Choose a kind of map."}, None, 422)
    selection: dict[str, Any] = {
        "tags": [t.strip() for t in form["tags"].split(",") if t.strip()],
        "organization": form["organization"] or None,
        "postal_code_prefix": form["postal_code_prefix"] or None,
    }
    body = {"selection": {"filter": selection}, "title": form["title"] or None}
    try:
        made = await page.gateway.send("POST", f"{MAPS}/maps/{form['kind']}", body)
    except GatewayError as error:
        message = error.message
        if isinstance(error.detail, dict) and "limit" in error.detail:
            message += f" ({error.detail.get('count')} clients, at most {error.detail['limit']})"
        return await _maps_page(page, form, error.field_problems(), message, error.status)
    return RedirectResponse(f"/maps/{made['id']}", status_code=303)


@staff.get("/maps/{map_id}", response_class=HTMLResponse)
async def map_page(page: PageDep, map_id: str) -> HTMLResponse:
    drawn = await page.gateway.get(f"{MAPS}/maps/{map_id}")
    usage, usage_error = await _usage(page)
    return page.render(
        "maps/map.html", drawn=drawn, kinds=KINDS, usage=usage, usage_error=usage_error
    )


# What of a map page's or file's answer is passed on (the page's policy is the maps service's).
_PASSED = ("content-security-policy", "x-frame-options", "referrer-policy", "cache-control")


async def _streamed(page: PageDep, path: str, media_type: str, **headers: str) -> StreamingResponse:
    stack = contextlib.AsyncExitStack()
    answer = await stack.enter_async_context(page.gateway.stream("GET", path))
    headers = {name: answer.headers[name] for name in _PASSED if name in answer.headers} | headers

    async def body() -> AsyncIterator[bytes]:
        async with stack:
            async for chunk in answer.aiter_bytes():
                yield chunk

    return StreamingResponse(body(), media_type=media_type, headers=headers)


@staff.get("/maps/{map_id}/frame", response_model=None)
async def map_frame(page: PageDep, map_id: str) -> StreamingResponse:
    """The map's own page for the iframe, with the maps service's own policy: folium's inline
    scripts by hash, the libraries from `/maps/assets/...`, images from the tile server."""
    return await _streamed(page, f"{MAPS}/maps/{map_id}/html", "text/html; charset=utf-8")


@staff.get("/maps/{map_id}/map.geojson", response_model=None)
async def map_geojson(page: PageDep, map_id: str) -> StreamingResponse:
    return await _streamed(
        page,
        f"{MAPS}/maps/{map_id}/geojson",
        "application/geo+json",
        **{"content-disposition": f'attachment; filename="map-{map_id}.geojson"'},
    )


@router.get("/maps/assets/{name:path}", response_model=None)
async def map_asset(request: Request, name: str) -> Response:
    """A library of the map frame (Leaflet, its plugins, their images): the same for everyone,
    so public, and cached as the maps service says."""
    http = state_of(request).http
    answer = await http.anonymous_answer(
        "GET", f"/maps/assets/{name}", address=client_address(request)
    )
    headers = {n: answer.headers[n] for n in _PASSED if n in answer.headers}
    return Response(answer.content, media_type=answer.headers.get("content-type"), headers=headers)


router.include_router(staff)
