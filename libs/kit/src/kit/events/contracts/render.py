"""Events produced by the render service on topic `render.events` (key: run id or session id)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel

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


class PreviewsCreated(_RenderEvent):
    event_type: ClassVar[str] = "render.previews.created.v1"
    session_id: str
    previews: list[PreviewRef]


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


class RunCompleted(RunFinished):
    event_type: ClassVar[str] = "render.run.completed.v1"
    finish_status: str | None = None
    outputs: list[RenderOutput]
    deliver: bool = False
    link_expiry_days: int | None = None


class RunFailed(RunFinished):
    event_type: ClassVar[str] = "render.run.failed.v1"
    error_status: str | None = None
    error: str
