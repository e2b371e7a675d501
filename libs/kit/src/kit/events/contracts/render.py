"""Events produced by the render service on topic `render.events` (key: run id or session id)."""

from __future__ import annotations

from typing import Any, ClassVar

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


# Render's internal work queue (issue 6): not an event other services consume, but the task
# messages the render workers share through one consumer group. Its own topic, so that
# partitions (the workers' parallelism) and retention are sized for work, not for events.
TASKS_TOPIC = "render.tasks"


class RenderTaskPlanned(EventPayload):
    """One image to render with one profile of a run; key: the task id, so a run's tasks
    spread over every partition. The worker reads the profile version from the run."""

    topic: ClassVar[str] = TASKS_TOPIC
    event_type: ClassVar[str] = "render.task.planned.v1"
    run_id: str
    task_id: str
    session_id: str
    key: str
    image_id: str
    image_label: str
    sha256: str | None = None
    line_id: str | None = None
    product: str = ""
    profile_id: str
    profile_version: int
    recipe: dict[str, Any] | None = None
