"""Render runs on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kit.events.contracts.workflow import EntityKind
from render.imaging.specs import Recipe

RunStatus = Literal["planning", "rendering", "completed", "failed"]


class RunRequest(BaseModel):
    """Start a run by hand, one of two ways:

    - a job's run: `job_id`, `entity_kind`, `entity_id`, `session_id`; `image_ids` keeps only
      those of the job's selection (with their recipes and line crops); `keys` (with optional
      per-key recipes) replaces the job's selection;
    - an ad-hoc run through named profiles (e.g. delivery): `session_id`, `profile_ids`, and
      optionally `keys` or `image_ids` to render only those of the session's images (default:
      all its hi-res images, each with its recipe); `reference` is echoed in the run's events.
    """

    model_config = ConfigDict(extra="forbid")

    job_id: str | None = None
    profile_ids: list[str] | None = Field(default=None, min_length=1, max_length=20)
    entity_kind: EntityKind = "session"
    entity_id: str | None = Field(default=None, min_length=1)
    session_id: str = Field(min_length=1)
    keys: list[str] | None = Field(default=None, min_length=1, max_length=5000)
    image_ids: list[str] | None = Field(default=None, min_length=1, max_length=5000)
    recipes: dict[str, Recipe] = Field(default_factory=dict)
    reference: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _one_way(self) -> RunRequest:
        if (self.job_id is None) == (self.profile_ids is None):
            raise ValueError("give either job_id or profile_ids")
        if self.job_id is not None and self.entity_id is None:
            raise ValueError("a job's run needs entity_id")
        if self.keys is not None and self.image_ids is not None:
            raise ValueError("give keys or image_ids, not both")
        return self


class PlannedRender(BaseModel):
    """One render a run would make: an image (or order line) through one profile."""

    image_id: str | None
    key: str
    name: str
    profile_id: str
    profile_version: int
    line_id: str | None
    product: str
    recipe: dict[str, Any] | None


class RunPlanOut(BaseModel):
    """What a run started now would render (nothing stored); `problem` when nothing."""

    session_id: str | None
    problem: str | None
    renders: list[PlannedRender]


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
    reference: str | None = None
    created_at: datetime
    finished_at: datetime | None = None
