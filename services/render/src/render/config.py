"""Settings of the render service (env prefix `RENDER_`; shared servers from `STUDIO_*`)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings


class RenderSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RENDER_", env_file=".env", extra="ignore")

    service: str = "render"
    port: int = 8003
    database: str = "render"
