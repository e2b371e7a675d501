"""Settings of the maps service (env prefix `MAPS_`; shared servers from `STUDIO_*`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings

ProviderName = Literal["zipcodes", "nominatim"]
_OFFLINE: list[ProviderName] = ["zipcodes"]


class MapsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MAPS_", env_file=".env", extra="ignore")

    service: str = "maps"
    port: int = 8005
    database: str = "maps"

    # The topic the client projection is built from, and the consumer group's name stem (a
    # projection epoch is appended, see clients/rebuild).
    booking_topic: str = "booking.events"
    consumer_group: str = "maps-client-projection"

    # Geocoding providers asked in this order after the cache misses. `zipcodes` is embedded
    # and offline; `nominatim` needs network (the public service or a self-hosted one).
    geocoders: list[ProviderName] = Field(default_factory=lambda: list(_OFFLINE))
    default_country: str = "US"
    # The public service asks for at most 1 request/s and an identifying user agent.
    nominatim_url: str = "https://nominatim.openstreetmap.org"
    nominatim_user_agent: str = "studio-platform-maps/0.1 (self-hosted photography studio)"
    nominatim_min_interval_seconds: float = 1.0
    nominatim_timeout_seconds: float = 10.0
    # An address no provider found is remembered this long before it is asked again.
    not_found_retry_days: int = 30

    # The map pages' tiles (an XYZ URL template; `{s}` subdomains allowed) and their credit.
    # The one outside address a map page names: every script and style comes from the platform
    # (maps.assets). Empty: no tiles, nothing fetched from outside (a studio offline, or one
    # that wants no third party to see its map views); a self-hosted tile server goes here.
    tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    tile_attribution: str = (
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
    )

    heat_map_limit: int = 10_000
    postal_code_pin_limit: int = 1_000
    address_pin_limit: int = 1_000
