"""Maps: where the clients are. A projection of clients from booking's events, a geocoding
cache in front of the configured geocoders, heat maps and pin maps as folium pages and GeoJSON,
and a usage ledger of location and map look-ups.
"""

from __future__ import annotations

from fastapi import FastAPI

from kit.app import ServiceSpec, create_service_app, serve
from maps import bootstrap
from maps.assets.router import router as assets_router
from maps.clients import repository as clients
from maps.clients.router import router as clients_router
from maps.config import MapsSettings
from maps.geocoding import repository as geocoding
from maps.renders import repository as renders
from maps.renders.router import router as renders_router
from maps.usage.router import router as usage_router

INDEXES = (*clients.INDEXES, *geocoding.INDEXES, *renders.INDEXES)


def service_spec(*, api: bool = True) -> ServiceSpec:
    """The API process wires the map pieces; the consumer process needs only the database."""
    return ServiceSpec(
        title="Maps",
        description=__doc__ or "",
        routers=[assets_router, renders_router, usage_router, clients_router] if api else [],
        indexes=INDEXES,
        on_start=[bootstrap.wire] if api else [],
    )


def create_app(settings: MapsSettings | None = None) -> FastAPI:
    return create_service_app(settings or MapsSettings(), service_spec())


def run() -> None:
    settings = MapsSettings()
    serve(create_app(settings), settings)
