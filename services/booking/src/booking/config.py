"""Settings of the booking service (env prefix `BOOKING_`; shared servers from `STUDIO_*`)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings


class BookingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BOOKING_", env_file=".env", extra="ignore")

    service: str = "booking"
    port: int = 8001
    database: str = "booking"
