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

    # A run still rendering with no task recorded for this long is stalled (its task messages
    # lost, its workers gone, its close lost): the consumers process asks its unfinished renders
    # again once, and fails it with the reason at the next stall. Checked this often.
    run_stall_seconds: int = Field(default=1800, ge=10, le=7 * 86_400)
    run_sweep_seconds: float = Field(default=60.0, gt=0, le=86_400)

    # Previews made on import: long edge and JPEG quality (always sRGB).
    preview_long_edge: int = Field(default=2048, ge=64, le=8192)
    preview_quality: int = Field(default=85, ge=1, le=100)

    # The render worker (`python -m render.worker`): render tasks come from the `render.tasks`
    # topic (`task_partitions` partitions bound how many workers share one run) through the
    # consumer group `worker_group`. Each worker runs `worker_concurrency` processes (default
    # one per core), each its own group member, taking `worker_max_poll_records` tasks at a
    # time so that members share fairly.
    task_partitions: int = Field(default=12, ge=1, le=1000)
    worker_group: str = Field(default="render-workers", min_length=1, max_length=200)
    worker_concurrency: int = Field(default=os.cpu_count() or 1, ge=1, le=256)
    worker_max_poll_records: int = Field(default=1, ge=1, le=100)
    # How long a member may go silent before the group hands its partitions to another
    # (a killed worker's task is redelivered after this), and the longest one render may take.
    worker_session_timeout_ms: int = Field(default=10_000, ge=1000, le=300_000)
    worker_max_render_seconds: int = Field(default=900, ge=10)
    # Memory cap per worker process (MB): an image whose decoded pixels alone would exceed it
    # fails with that reason, and a process whose resident memory exceeds it after a task is
    # replaced by a fresh one. Unset: no cap.
    worker_memory_mb: int | None = Field(default=None, ge=64)
    # Optional hours of operation (local hour of day, 0-23): outside them the worker pauses
    # consumption (it stays in the group). Both unset: always on. start > end wraps midnight.
    worker_hours_start: int | None = Field(default=None, ge=0, le=23)
    worker_hours_end: int | None = Field(default=None, ge=0, le=24)
