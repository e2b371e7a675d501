"""Events produced by the render service on topic `render.events` (key: run id or session id)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from kit.events.contracts.workflow import EntityKind
from kit.events.envelope import EventPayload

TOPIC = "render.events"


class _RenderEvent(EventPayload):
    topic: ClassVar[str] = TOPIC


class PreviewRef(BaseModel):
    image_id: str
    key: str
    width: int
    height: int


class ImageFailure(BaseModel):
    """An image that could not be rendered (corrupt, unreadable, missing), and why."""

    image_id: str
    key: str
    reason: str
    profile_id: str | None = None


class PreviewsCreated(_RenderEvent):
    event_type: ClassVar[str] = "render.previews.created.v1"
    session_id: str
    previews: list[PreviewRef]
    # Additive (issue 6): images of the import that got no preview, with the reason.
    failures: list[ImageFailure] = Field(default_factory=list)


class RenderOutput(BaseModel):
    image_id: str
    profile_id: str
    profile_version: int
    key: str
    bytes: int
    width: int
    height: int
    dpi: int | None = None


class RunFinished(_RenderEvent):
    run_id: str
    job_id: str | None
    entity_kind: EntityKind
    entity_id: str
    session_id: str | None = None
    # Additive (contract B): the free text an ad-hoc run was started with, e.g.
    # "delivery:<delivery id>"; None for status-fired and job runs.
    reference: str | None = None


class RunCompleted(RunFinished):
    event_type: ClassVar[str] = "render.run.completed.v1"
    finish_status: str | None = None
    outputs: list[RenderOutput]
    deliver: bool = False
    link_expiry_days: int | None = None
    # Additive (issue 6): where the run's manifest is stored (images bucket).
    manifest_key: str | None = None


class RunFailed(RunFinished):
    event_type: ClassVar[str] = "render.run.failed.v1"
    error_status: str | None = None
    error: str
    # Additive (issue 6): a run fails when any image fails; the others still rendered.
    outputs: list[RenderOutput] = Field(default_factory=list)
    failures: list[ImageFailure] = Field(default_factory=list)
    manifest_key: str | None = None
