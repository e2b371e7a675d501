"""Heat maps and pin maps: draw one, then fetch its page or its GeoJSON."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import HTMLResponse, Response

from kit.errors import NotFound
from kit.pages import page_headers
from maps.bootstrap import ServicesDep
from maps.renders.schemas import MapKind, MapRender, MapRequest

router = APIRouter(prefix="/maps", tags=["maps"])
_LIMIT_422: dict[int | str, dict[str, Any]] = {
    422: {"description": "Malformed, or more clients than the map's limit"}
}


async def load_render(
    render_id: Annotated[str, Path(max_length=64)], services: ServicesDep
) -> MapRender:
    summary = await services.renders.summary(render_id)
    if summary is None:
        raise NotFound("No such map.", detail={"id": render_id})
    return summary


RenderDep = Annotated[MapRender, Depends(load_render)]


@router.post("/heat", status_code=201, responses=_LIMIT_422)
async def draw_heat_map(request: MapRequest, services: ServicesDep) -> MapRender:
    """A heat map of up to 10,000 clients, one point per placed client."""
    return await services.maps.draw(MapKind.heat, request)


@router.post("/postal-code-pins", status_code=201, responses=_LIMIT_422)
async def draw_postal_code_pin_map(request: MapRequest, services: ServicesDep) -> MapRender:
    """Up to 1,000 clients, one pin per postal code carrying its count of clients."""
    return await services.maps.draw(MapKind.postal_code_pins, request)


@router.post("/address-pins", status_code=201, responses=_LIMIT_422)
async def draw_address_pin_map(request: MapRequest, services: ServicesDep) -> MapRender:
    """Up to 1,000 clients, one pin per client at its address, clustered when zoomed out."""
    return await services.maps.draw(MapKind.address_pins, request)


@router.get("/{render_id}")
async def get_map(render: RenderDep) -> MapRender:
    """The summary of a drawn map: counts, omitted clients and why, usage."""
    return render


@router.get("/{render_id}/html", response_class=HTMLResponse)
async def get_map_page(render: RenderDep, services: ServicesDep) -> HTMLResponse:
    """The folium page (Leaflet), to embed in an iframe of the platform's own pages.

    Its policy lets it run only its own inline scripts (by hash) and the libraries the service
    serves (`/maps/assets/...`), and fetch images only from the platform and the tile server."""
    body = await services.renders.body(render.id, "html")
    if body is None:
        raise NotFound("No such map.", detail={"id": render.id})
    origin = services.maps.basemap.origin
    headers = page_headers(
        body, scripts=True, images=[origin] if origin else [], frame_ancestors="'self'"
    )
    return HTMLResponse(body, headers={**headers, "Referrer-Policy": "no-referrer"})


@router.get(
    "/{render_id}/geojson",
    responses={200: {"content": {"application/geo+json": {}}}},
)
async def get_map_geojson(render: RenderDep, services: ServicesDep) -> Response:
    """The map's points as an RFC 7946 FeatureCollection (longitude first)."""
    body = await services.renders.body(render.id, "geojson")
    if body is None:
        raise NotFound("No such map.", detail={"id": render.id})
    return Response(body, media_type="application/geo+json")
