"""Settings of the maps service (env prefix `MAPS_`; shared servers from `STUDIO_*`)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings


class MapsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MAPS_", env_file=".env", extra="ignore")

    service: str = "maps"
    port: int = 8005
    database: str = "maps"
