"""Render runs on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kit.events.contracts.workflow import EntityKind
from render.imaging.specs import Recipe

RunStatus = Literal["planning", "rendering", "completed", "failed"]


class RunRequest(BaseModel):
    """Start a job's run by hand; `keys` (with optional per-key recipes) replaces the job's
    image selection."""

    model_config = ConfigDict(extra="forbid")

    job_id: str
    entity_kind: EntityKind = "session"
    entity_id: str = Field(min_length=1)
    session_id: str = Field(min_length=1)
    keys: list[str] | None = Field(default=None, min_length=1, max_length=5000)
    recipes: dict[str, Recipe] = Field(default_factory=dict)


class RunOut(BaseModel):
    id: str
    job_id: str | None
    trigger: Literal["status", "manual"]
    entity_kind: EntityKind
    entity_id: str
    session_id: str | None
    status: RunStatus
    total: int
    done: int
    # Of `done`: outputs found rendered before (same source, recipe, profile version, name).
    reused: int = 0
    finish_status: str | None
    error_status: str | None
    profiles: list[dict[str, Any]]
    outputs: list[dict[str, Any]]
    failures: list[dict[str, Any]]
    error: str | None = None
    manifest_key: str | None = None
    created_at: datetime
    finished_at: datetime | None = None
