"""Edit recipes: non-destructive crops, adjustments and colorization; the render service
applies them, originals never change."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, Field, field_validator, model_validator

_RATIO = re.compile(r"^(free|original|[1-9][0-9]{0,2}:[1-9][0-9]{0,2})$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


class Rect(BaseModel):
    """A rectangle in fractions of the image's width and height (0..1, inside the image)."""

    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)
    width: float = Field(gt=0, le=1)
    height: float = Field(gt=0, le=1)

    @model_validator(mode="after")
    def _inside(self) -> Self:
        if self.x + self.width > 1 + 1e-9 or self.y + self.height > 1 + 1e-9:
            raise ValueError("the crop rectangle reaches outside the image")
        return self


class Crop(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    aspect_ratio: str = Field(description="free, original or W:H such as 4:5")
    rect: Rect

    @field_validator("aspect_ratio")
    @classmethod
    def _ratio(cls, value: str) -> str:
        if not _RATIO.match(value):
            raise ValueError("an aspect ratio is free, original or W:H (e.g. 4:5)")
        return value


class Levels(BaseModel):
    black: int = Field(default=0, ge=0, le=254)
    white: int = Field(default=255, ge=1, le=255)
    gamma: float = Field(default=1.0, ge=0.1, le=10)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.black >= self.white:
            raise ValueError("levels need black below white")
        return self


class Adjustments(BaseModel):
    exposure: float = Field(default=0, ge=-5, le=5, description="stops")
    brightness: int = Field(default=0, ge=-100, le=100)
    contrast: int = Field(default=0, ge=-100, le=100)
    saturation: int = Field(default=0, ge=-100, le=100)
    levels: Levels = Field(default_factory=Levels)


class Colorization(BaseModel):
    mode: Literal["none", "black_and_white", "sepia", "tint"] = "none"
    tint_color: str | None = Field(default=None, description="#rrggbb, for mode tint")
    strength: float = Field(default=1.0, ge=0, le=1)

    @model_validator(mode="after")
    def _tint(self) -> Self:
        if self.mode == "tint" and (self.tint_color is None or not _COLOR.match(self.tint_color)):
            raise ValueError("a tint needs tint_color as #rrggbb")
        if self.mode != "tint" and self.tint_color is not None:
            raise ValueError("tint_color belongs to mode tint only")
        return self


class RecipeBody(BaseModel):
    crops: list[Crop] = Field(default_factory=list, max_length=20)
    adjustments: Adjustments = Field(default_factory=Adjustments)
    colorization: Colorization = Field(default_factory=Colorization)

    @field_validator("crops")
    @classmethod
    def _unique_names(cls, crops: list[Crop]) -> list[Crop]:
        names = [c.name for c in crops]
        if len(set(names)) != len(names):
            raise ValueError("each crop of an image needs its own name")
        return crops


class RecipeDraft(RecipeBody):
    # The version the edit was made from; a stale one answers 409 (None: no check).
    expected_version: int | None = Field(default=None, ge=0)
    note: str | None = Field(default=None, max_length=500)


class BulkRecipe(BaseModel):
    """One recipe for several images of a session (each gets its own next version)."""

    image_ids: list[str] = Field(min_length=1, max_length=1000)
    recipe: RecipeBody
    note: str | None = Field(default=None, max_length=500)


class Recipe(RecipeBody):
    image_id: str
    session_id: str
    version: int
    created_at: datetime
    created_by: str
    note: str | None = None
