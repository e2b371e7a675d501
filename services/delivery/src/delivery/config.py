"""Settings of the delivery service (env prefix `DELIVERY_`; shared servers from `STUDIO_*`)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings


class DeliverySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DELIVERY_", env_file=".env", extra="ignore")

    service: str = "delivery"
    port: int = 8004
    database: str = "delivery"
