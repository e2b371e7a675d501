"""`GET /maps/assets/{name}`: the map pages' libraries, from the service itself."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from kit.errors import NotFound
from kit.query_params import FreeQuery
from maps.assets.catalogue import FILES

# Static files: a cache-busting query suffix is taken and ignored.
router = APIRouter(prefix="/maps/assets", tags=["maps"], dependencies=[FreeQuery])

_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


@router.get(
    "/{name:path}",
    response_class=FileResponse,
    responses={200: {"content": {"text/javascript": {}, "text/css": {}, "image/png": {}}}},
)
async def map_asset(name: str) -> FileResponse:
    """One of the libraries a map page loads (Leaflet, its plugins, their CSS and images)."""
    path = FILES.get(name)
    if path is None or not path.is_file():
        raise NotFound("No such map asset.", detail={"name": name[:200]})
    return FileResponse(
        path,
        media_type=_TYPES[path.suffix],
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )
