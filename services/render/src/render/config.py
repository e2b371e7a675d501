"""Settings of the render service (env prefix `RENDER_`; shared servers from `STUDIO_*`)."""

from __future__ import annotations

import os

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings


class RenderSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RENDER_", env_file=".env", extra="ignore")

    service: str = "render"
    port: int = 8003
    database: str = "render"

    # Workflow's internal reads (render sets: which images, their recipes and order lines).
    workflow_url: str = "http://127.0.0.1:8002"

    # Previews made on import: long edge and JPEG quality (always sRGB).
    preview_long_edge: int = Field(default=2048, ge=64, le=8192)
    preview_quality: int = Field(default=85, ge=1, le=100)

    # The render worker (`python -m render.worker`): renders in flight per worker process
    # (default one per core), how long a claimed image stays its before another worker
    # may take it over (a killed worker), and how often it looks for work.
    worker_concurrency: int = Field(default=os.cpu_count() or 1, ge=1, le=256)
    worker_lease_seconds: float = Field(default=300.0, ge=1.0)
    worker_poll_seconds: float = Field(default=1.0, gt=0)
    # Optional hours of operation (local hour of day, 0-23): outside them the worker claims
    # nothing new. Both unset: always on. start > end wraps midnight (e.g. 22 -> 6).
    worker_hours_start: int | None = Field(default=None, ge=0, le=23)
    worker_hours_end: int | None = Field(default=None, ge=0, le=24)
