"""Maps: a projection of client locations, a geocoding cache, heat maps and pin maps, and a usage
ledger.
"""

from __future__ import annotations

from fastapi import FastAPI

from kit.app import ServiceSpec, create_service_app, serve
from maps.config import MapsSettings


def create_app(settings: MapsSettings | None = None) -> FastAPI:
    settings = settings or MapsSettings()
    spec = ServiceSpec(
        title="Maps",
        description=__doc__ or "",
        topics=[],
        buckets=[],
    )
    return create_service_app(settings, spec)


def run() -> None:
    settings = MapsSettings()
    serve(create_app(settings), settings)
