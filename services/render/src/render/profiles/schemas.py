"""Render profiles on the wire: what a studio sends, and a profile version as answered."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from render.imaging.specs import Purpose, RenderSpec


class ProfileIn(RenderSpec):
    """A profile's whole content; every edit sends it whole and makes a new version."""

    name: str = Field(min_length=1, max_length=120)
    purpose: Purpose
    product: str = Field(default="", max_length=80)
    # The recipe crop this profile renders when an image has several (e.g. "8x10").
    crop_name: str | None = Field(default=None, min_length=1, max_length=100)
    deliver: bool = False
    link_expiry_days: int | None = Field(default=None, ge=1, le=3650)


class ProfileOut(ProfileIn):
    id: str
    version: int
    created_at: datetime
    updated_at: datetime


class ProfileVersionRef(BaseModel):
    id: str
    version: int
