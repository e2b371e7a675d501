"""Render jobs on the wire: which status change renders which images with which profiles."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kit.events.contracts.workflow import EntityKind

SourceFolder = Literal["hires", "retouched", "raw"]
SelectionKind = Literal["all", "rating", "group", "ordered", "keys"]
Selection = Literal["selected", "not_selected", "undecided"]


class ImageSelection(BaseModel):
    """Which images a run renders, chosen through workflow's render set:

    - `all`: every image of the session's `folder` (the retouched file when one exists);
    - `rating`: those of `folder` with this `selection` and/or at least `min_stars`;
    - `group`: those of the session's group `group_id`;
    - `ordered`: the images ordered on the invoice or production order, with their line crops;
    - `keys`: exactly these S3 keys (no recipes; for hand-made jobs and tests).
    """

    model_config = ConfigDict(extra="forbid")

    kind: SelectionKind = "all"
    folder: SourceFolder = "hires"
    selection: Selection | None = None
    min_stars: int | None = Field(default=None, ge=0, le=5)
    group_id: str | None = Field(default=None, min_length=1, max_length=200)
    keys: list[str] = Field(default_factory=list, max_length=5000)

    @model_validator(mode="after")
    def _fits_kind(self) -> ImageSelection:
        if self.kind == "keys" and not self.keys:
            raise ValueError("a selection of kind 'keys' needs at least one key")
        if self.kind != "keys" and self.keys:
            raise ValueError(f"a selection of kind {self.kind!r} takes no keys")
        if self.kind == "rating" and self.selection is None and self.min_stars is None:
            raise ValueError("a selection of kind 'rating' needs selection and/or min_stars")
        if self.kind != "rating" and (self.selection is not None or self.min_stars is not None):
            raise ValueError("selection and min_stars belong to kind 'rating'")
        if (self.kind == "group") != (self.group_id is not None):
            raise ValueError("a selection of kind 'group' (and only it) needs group_id")
        return self


class JobIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    entity_kind: EntityKind
    # A status id or name (status_changed events carry both; either matches).
    select_status: str = Field(min_length=1, max_length=120)
    profile_ids: list[str] = Field(min_length=1, max_length=20)
    images: ImageSelection = ImageSelection()
    # The recipe crop to use when an image has several (an invoice line's crop wins; then
    # this, then the profile's `crop_name`, then the image's first crop).
    crop_name: str | None = Field(default=None, min_length=1, max_length=100)
    finish_status: str | None = Field(default=None, max_length=120)
    error_status: str | None = Field(default=None, max_length=120)
    enabled: bool = True

    @model_validator(mode="after")
    def _ordered_needs_an_order(self) -> JobIn:
        if self.images.kind == "ordered" and self.entity_kind == "session":
            raise ValueError("a session job cannot render ordered images: it has no order lines")
        return self


class JobOut(JobIn):
    id: str
    created_at: datetime
    updated_at: datetime
