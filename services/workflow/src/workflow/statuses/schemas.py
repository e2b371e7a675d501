"""Status definitions: the steps of each entity kind's pipeline."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kit.events.contracts.workflow import EntityKind

Stage = Literal["capture", "present", "produce", "deliver", "archive", "delete"]
STAGES: tuple[Stage, ...] = ("capture", "present", "produce", "deliver", "archive", "delete")
# A status with a role is where an entity goes on its own: when a session is cancelled, when an
# invoice is fully paid.
StatusRole = Literal["cancelled", "paid"]
Name = Field(min_length=1, max_length=80)


class StatusDefinition(BaseModel):
    id: str
    kind: EntityKind
    session_type_id: str | None = None
    name: str
    sort_order: int
    stage: Stage
    duration_days: int
    initial: bool = False
    final: bool = False
    active: bool = True
    role: StatusRole | None = None


class StatusCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: EntityKind
    session_type_id: str | None = Field(default=None, min_length=1, max_length=100)
    name: str = Name
    sort_order: int = Field(ge=0, le=1_000_000)
    stage: Stage
    duration_days: int = Field(default=0, ge=0, le=365)
    initial: bool = False
    final: bool = False
    role: StatusRole | None = None


class StatusUpdate(BaseModel):
    """Rename, reorder, re-stage, retire (`active: false`) or revive a status."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=80)
    sort_order: int | None = Field(default=None, ge=0, le=1_000_000)
    stage: Stage | None = None
    duration_days: int | None = Field(default=None, ge=0, le=365)
    initial: bool | None = None
    final: bool | None = None
    active: bool | None = None
    role: StatusRole | None = None
