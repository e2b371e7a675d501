"""Wiring: the real pieces of the maps service, built once per process from the platform."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends

from kit.app import Platform, PlatformDep
from maps.clients.repository import ClientProjection
from maps.clients.service import ClientSelector
from maps.config import MapsSettings
from maps.geocoding.providers import Geocoder, NominatimGeocoder, ZipCentroids
from maps.geocoding.repository import GeocodeCache
from maps.geocoding.service import GeocodingService
from maps.renders.repository import MapRenderRepository
from maps.renders.service import MapService
from maps.usage.repository import UsageLedger

_EXTRA = "maps"


@dataclass(frozen=True)
class MapsServices:
    projection: ClientProjection
    geocoding: GeocodingService
    maps: MapService
    renders: MapRenderRepository
    ledger: UsageLedger


def geocoders(settings: MapsSettings) -> list[Geocoder]:
    providers: list[Geocoder] = []
    for name in settings.geocoders:
        if name == "zipcodes":
            providers.append(ZipCentroids())
        else:
            providers.append(
                NominatimGeocoder(
                    url=settings.nominatim_url,
                    user_agent=settings.nominatim_user_agent,
                    min_interval_seconds=settings.nominatim_min_interval_seconds,
                    timeout_seconds=settings.nominatim_timeout_seconds,
                )
            )
    return providers


async def wire(platform: Platform) -> None:
    """The `on_start` hook of the API process."""
    settings = platform.settings
    assert isinstance(settings, MapsSettings)
    providers = geocoders(settings)
    for provider in providers:
        if isinstance(provider, ZipCentroids):
            await provider.load()
    projection = ClientProjection(platform.db)
    ledger = UsageLedger(platform.db)
    renders = MapRenderRepository(platform.db)
    geocoding = GeocodingService(
        GeocodeCache(platform.db),
        providers,
        ledger,
        not_found_retry=timedelta(days=settings.not_found_retry_days),
    )
    maps = MapService(settings, ClientSelector(projection), geocoding, renders, ledger)
    platform.extras[_EXTRA] = MapsServices(projection, geocoding, maps, renders, ledger)


def get_services(platform: PlatformDep) -> MapsServices:
    services: MapsServices = platform.extras[_EXTRA]
    return services


ServicesDep = Annotated[MapsServices, Depends(get_services)]
