"""What a render profile says about pixels: size, bleed, watermark, colour, sharpening, format.

These models are the profile's versioned content and the input of the pure render function.
"""

from __future__ import annotations

import string
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Purpose = Literal["proof", "final"]
Fit = Literal["contain", "cover"]
LengthUnit = Literal["in", "mm"]
BleedFill = Literal["edge", "mirror"]
WatermarkPosition = Literal[
    "top_left", "top_right", "bottom_left", "bottom_right", "centre", "tiled"
]
OutputFormat = Literal["jpeg", "png", "tiff"]
Subsampling = Literal["4:4:4", "4:2:2", "4:2:0"]

NAMING_FIELDS = frozenset({"session", "image", "product", "size", "profile"})
MM_PER_INCH = 25.4


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PrintSize(_Strict):
    """A print size in inches (8x10 is width 8, height 10); turned to match the photo."""

    width_in: float = Field(gt=0, le=120)
    height_in: float = Field(gt=0, le=120)


class OutputSize(_Strict):
    """Either a long edge in pixels or a print size at the profile's DPI."""

    long_edge_px: int | None = Field(default=None, ge=16, le=30_000)
    print_size: PrintSize | None = None
    fit: Fit = "contain"

    @model_validator(mode="after")
    def _one_of(self) -> OutputSize:
        if (self.long_edge_px is None) == (self.print_size is None):
            raise ValueError("give exactly one of long_edge_px and print_size")
        return self


class Bleed(_Strict):
    amount: float = Field(gt=0, le=2 * MM_PER_INCH)
    unit: LengthUnit = "in"
    fill: BleedFill = "edge"

    @property
    def inches(self) -> float:
        return self.amount if self.unit == "in" else self.amount / MM_PER_INCH


class Watermark(_Strict):
    """A text, or an image in the images bucket (`image_key`: a PNG with alpha, or any JPEG,
    TIFF or WebP); `scale` is the mark's width as a fraction of the output's width."""

    text: str | None = Field(default=None, min_length=1, max_length=200)
    image_key: str | None = Field(default=None, min_length=1, max_length=1024)
    opacity: float = Field(default=0.35, gt=0, le=1)
    position: WatermarkPosition = "bottom_right"
    scale: float = Field(default=0.25, gt=0, le=1)

    @model_validator(mode="after")
    def _text_or_image(self) -> Watermark:
        if (self.text is None) == (self.image_key is None):
            raise ValueError("a watermark has either a text or an image_key")
        return self


class Sharpening(_Strict):
    """Unsharp mask: amount in percent, radius in pixels, threshold in levels."""

    amount: int = Field(default=80, ge=1, le=500)
    radius: float = Field(default=1.0, gt=0, le=50)
    threshold: int = Field(default=2, ge=0, le=255)


class FileFormat(_Strict):
    kind: OutputFormat = "jpeg"
    quality: int = Field(default=90, ge=1, le=100)
    subsampling: Subsampling = "4:2:0"


class RenderSpec(_Strict):
    """Everything the pixel pipeline needs from a profile."""

    size: OutputSize
    dpi: int = Field(default=300, ge=36, le=2400)
    bleed: Bleed | None = None
    watermark: Watermark | None = None
    convert_to_srgb: bool = True
    sharpening: Sharpening | None = None
    format: FileFormat = FileFormat()
    naming: str = Field(default="{session}_{image}_{profile}", min_length=1, max_length=200)

    @model_validator(mode="after")
    def _naming_fields(self) -> RenderSpec:
        used = {name for _, name, _, _ in string.Formatter().parse(self.naming) if name is not None}
        unknown = used - NAMING_FIELDS
        if unknown or "" in used:
            raise ValueError(
                f"the file-naming template may use only {sorted(NAMING_FIELDS)}, "
                f"not {sorted(unknown) or ['{}']}"
            )
        if "/" in self.naming or "\\" in self.naming:
            raise ValueError("the file-naming template may not contain path separators")
        return self


class Crop(_Strict):
    """A crop as fractions of the source (0..1), from the image's edit recipe."""

    x: float = Field(ge=0, lt=1)
    y: float = Field(ge=0, lt=1)
    width: float = Field(gt=0, le=1)
    height: float = Field(gt=0, le=1)

    @model_validator(mode="after")
    def _inside(self) -> Crop:
        if self.x + self.width > 1.0000001 or self.y + self.height > 1.0000001:
            raise ValueError("the crop reaches outside the image")
        return self


ColorizationMode = Literal["none", "black_and_white", "sepia", "tint"]


class Levels(_Strict):
    black: int = Field(default=0, ge=0, le=254)
    white: int = Field(default=255, ge=1, le=255)
    gamma: float = Field(default=1.0, ge=0.1, le=10)

    @model_validator(mode="after")
    def _ordered(self) -> Levels:
        if self.black >= self.white:
            raise ValueError("levels need black below white")
        return self


class Adjustments(_Strict):
    """Tone edits of a recipe: exposure in stops, the others -100..100 (0: unchanged)."""

    exposure: float = Field(default=0, ge=-5, le=5)
    brightness: int = Field(default=0, ge=-100, le=100)
    contrast: int = Field(default=0, ge=-100, le=100)
    saturation: int = Field(default=0, ge=-100, le=100)
    levels: Levels = Levels()


class Colorization(_Strict):
    """Black and white, sepia or a tint (`#rrggbb`), blended in at `strength`."""

    mode: ColorizationMode = "none"
    tint_color: str | None = Field(default=None, pattern=r"^#[0-9a-fA-F]{6}$")
    strength: float = Field(default=1.0, ge=0, le=1)

    @model_validator(mode="after")
    def _tint(self) -> Colorization:
        if self.mode == "tint" and self.tint_color is None:
            raise ValueError("a tint needs tint_color as #rrggbb")
        return self


class Recipe(_Strict):
    """The part of an edit recipe the renderer applies; `version` is recorded in the manifest.

    `crop` is the one crop chosen for this render (an invoice line's, or a named recipe crop).
    """

    version: int = 0
    crop: Crop | None = None
    adjustments: Adjustments | None = None
    colorization: Colorization | None = None
