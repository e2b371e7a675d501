"""Render jobs on the wire: which status change renders which images with which profiles."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kit.events.contracts.workflow import EntityKind

SourceFolder = Literal["hires", "retouched", "raw"]


class ImageSelection(BaseModel):
    """`all`: every image in the session's folder; `keys`: exactly these image keys."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["all", "keys"] = "all"
    folder: SourceFolder = "hires"
    keys: list[str] = Field(default_factory=list, max_length=5000)

    @model_validator(mode="after")
    def _keys_given(self) -> ImageSelection:
        if self.kind == "keys" and not self.keys:
            raise ValueError("a selection of kind 'keys' needs at least one key")
        if self.kind == "all" and self.keys:
            raise ValueError("a selection of kind 'all' takes no keys")
        return self


class JobIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    entity_kind: EntityKind
    # A status id or name (status_changed events carry both; either matches).
    select_status: str = Field(min_length=1, max_length=120)
    profile_ids: list[str] = Field(min_length=1, max_length=20)
    images: ImageSelection = ImageSelection()
    finish_status: str | None = Field(default=None, max_length=120)
    error_status: str | None = Field(default=None, max_length=120)
    enabled: bool = True


class JobOut(JobIn):
    id: str
    created_at: datetime
    updated_at: datetime
