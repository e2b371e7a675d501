"""An invoice form's lines: as many as the studio adds, each with its own crop.

A line's crop is what the lab prints (workflow keeps it as fractions of the image and render
applies it): none (the images' own edit recipes apply), a ratio centred on the image (an 8x10
of a 3:2 frame), or a rectangle typed in percent. A ratio is worked out here from the images'
pixel sizes, so a line whose images differ in shape is refused rather than cropped wrongly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from web.pages import AMOUNT_HINT, form_value, minor_units

FIRST_ROWS = 3
MAX_ROWS = 100
# W:H as a lab names it; the portrait and landscape forms are both offered.
CROP_RATIOS = ("1:1", "4:5", "5:4", "2:3", "3:2", "5:7", "7:5", "8:10", "10:8", "16:9")
CROP_KEYS = ("x", "y", "width", "height")
# Shapes closer than this count as the same (a 6000x4000 frame and a 5998x4000 one).
SAME_SHAPE = 0.01


class LineProblem(Exception):
    """A line the studio must correct before anything is sent; `row` is its form index."""

    def __init__(self, row: int, message: str) -> None:
        super().__init__(message)
        self.row = row
        self.message = message


@dataclass
class TypedLine:
    """One line as typed, kept verbatim so a refused form comes back as it was sent."""

    product_id: str = ""
    quantity: str = "1"
    image_ids: list[str] = field(default_factory=list)
    price: str = ""
    crop: str = ""
    rect: dict[str, str] = field(default_factory=dict)
    notes: str = ""


def row_count(form: Any) -> int:
    """How many rows the form had (`line_rows`), one more when the studio asked for a line."""
    try:
        rows = int(form_value(form, "line_rows") or FIRST_ROWS)
    except ValueError:
        rows = FIRST_ROWS
    if form_value(form, "add_line"):
        rows += 1
    return max(1, min(rows, MAX_ROWS))


def typed_lines(form: Any, rows: int) -> list[TypedLine]:
    return [
        TypedLine(
            product_id=form_value(form, f"line-{n}-product"),
            quantity=form_value(form, f"line-{n}-quantity") or "1",
            image_ids=[str(v) for v in form.getlist(f"line-{n}-images")],
            price=form_value(form, f"line-{n}-price"),
            crop=form_value(form, f"line-{n}-crop"),
            rect={key: form_value(form, f"line-{n}-{key}") for key in CROP_KEYS},
            notes=form_value(form, f"line-{n}-notes"),
        )
        for n in range(rows)
    ]


def line_bodies(
    lines: Sequence[TypedLine], images: Mapping[str, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The workflow request's lines (rows without a product are left out); `images` by id."""
    bodies: list[dict[str, Any]] = []
    for row, line in enumerate(lines):
        if not line.product_id:
            continue
        body: dict[str, Any] = {
            "product_id": line.product_id,
            "quantity": _whole(row, line.quantity),
            "image_ids": line.image_ids,
        }
        if line.price:
            body["unit_price_minor"] = _minor(row, line.price)
        crop = _crop(row, line, images)
        if crop is not None:
            body["crop"] = crop
        if line.notes:
            body["retouch_notes"] = line.notes
        bodies.append(body)
    return bodies


def centred_crop(width: int, height: int, ratio: str) -> dict[str, float]:
    """The largest crop of `ratio` (W:H) centred on a `width` x `height` image, as fractions."""
    w, h = (int(part) for part in ratio.split(":"))
    target, shape = w / h, width / height
    if shape > target:
        fraction = target / shape
        return {
            "x": round((1 - fraction) / 2, 6),
            "y": 0.0,
            "width": round(fraction, 6),
            "height": 1.0,
        }
    fraction = shape / target
    return {"x": 0.0, "y": round((1 - fraction) / 2, 6), "width": 1.0, "height": round(fraction, 6)}


def row_of_problem(location: Sequence[Any]) -> int | None:
    """The body line a workflow validation problem names (`["body", "lines", 2, ...]`)."""
    parts = list(location)
    if "lines" in parts:
        at = parts.index("lines") + 1
        index = parts[at] if at < len(parts) else None
        if isinstance(index, int):
            return index
    return None


def _crop(
    row: int, line: TypedLine, images: Mapping[str, Mapping[str, Any]]
) -> dict[str, float] | None:
    if not line.crop:
        return None
    if line.crop == "custom":
        rect: dict[str, float] = {}
        for key in CROP_KEYS:
            text = line.rect.get(key, "")
            try:
                value = Decimal(text)
            except InvalidOperation:
                raise LineProblem(
                    row, f"Crop {key}: write a percentage from 0 to 100, like 12.5."
                ) from None
            if not value.is_finite() or not 0 <= value <= 100:
                raise LineProblem(row, f"Crop {key}: write a percentage from 0 to 100.")
            rect[key] = float(value / 100)
        return rect
    if line.crop not in CROP_RATIOS:
        raise LineProblem(row, "Choose a crop from the list.")
    if not line.image_ids:
        raise LineProblem(row, f"A {line.crop} crop is fitted to the line's images: choose them.")
    shapes = []
    for image_id in line.image_ids:
        image = images.get(image_id) or {}
        if not image.get("width") or not image.get("height"):
            raise LineProblem(row, f"Image {image_id} has no known size; type the crop instead.")
        shapes.append((int(image["width"]), int(image["height"])))
    first = shapes[0][0] / shapes[0][1]
    if any(abs(w / h - first) / first > SAME_SHAPE for w, h in shapes[1:]):
        raise LineProblem(
            row,
            f"The line's images differ in shape, so one {line.crop} crop cannot fit them all: "
            "put them on separate lines.",
        )
    return centred_crop(*shapes[0], line.crop)


def _whole(row: int, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise LineProblem(row, "Quantity: write a whole number.") from None


def _minor(row: int, text: str) -> int:
    minor = minor_units(text)
    if minor is None:
        raise LineProblem(row, f"Unit price: {AMOUNT_HINT}")
    return minor
