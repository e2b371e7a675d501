"""Ratings, groups, slideshow order and comparison sets of a session's images."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Selection = Literal["selected", "not_selected", "undecided"]
ImageIds = list[str]


class RatingChange(BaseModel):
    """Either or both: the selection and the stars (0-5)."""

    selection: Selection | None = None
    stars: int | None = Field(default=None, ge=0, le=5)


class Rating(BaseModel):
    image_id: str
    selection: Selection
    stars: int


class GroupDraft(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    image_ids: ImageIds = Field(default_factory=list, max_length=5000)
    position: int | None = Field(default=None, ge=0)


class GroupChange(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    image_ids: ImageIds | None = Field(default=None, max_length=5000)
    position: int | None = Field(default=None, ge=0)


class Group(BaseModel):
    group_id: str
    session_id: str
    name: str
    position: int
    image_ids: ImageIds
    created_at: datetime


class SlideshowOrder(BaseModel):
    image_ids: ImageIds = Field(max_length=5000)


class Slideshow(BaseModel):
    session_id: str
    image_ids: ImageIds
    custom: bool


class ComparisonDraft(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    image_ids: ImageIds = Field(min_length=2, max_length=8)


class ComparisonSet(BaseModel):
    comparison_id: str
    session_id: str
    name: str
    image_ids: ImageIds
    created_at: datetime
