"""Settings of the workflow service (env prefix `WORKFLOW_`; shared servers from `STUDIO_*`)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings


class WorkflowSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WORKFLOW_", env_file=".env", extra="ignore")

    service: str = "workflow"
    port: int = 8002
    database: str = "workflow"
