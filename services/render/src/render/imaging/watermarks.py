"""Watermarks: a text, or an image from S3 (a PNG with alpha), at an opacity, in a corner,
centred or tiled, `scale` of the output's width wide.

A mark is drawn once per (text or image, size, opacity) and kept: a text as its alpha mask, an
image as its colour pixels and mask. Compositing pastes through that mask onto the RGB output,
on the boxes the mark covers only; a tiled mark is the one cached tile pasted where it repeats.
An image mark's file is fetched once per S3 key and ETag (`fetch_mark_image`), so an edited
file is picked up and an unchanged one is never downloaded again.
"""

from __future__ import annotations

import asyncio
import functools
import io
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw, ImageFont

from render.imaging.specs import Watermark, WatermarkPosition

if TYPE_CHECKING:  # boto3 is 20 MiB of RSS the pure pixel pipeline does not need
    from kit.storage import S3Storage

MARGIN = 0.03  # of the output's shorter side, between a mark and the edge (and between tiles)
WHITE = (255, 255, 255)
MARK_FORMATS = ("PNG", "JPEG", "TIFF", "WEBP")
MAX_MARK_PIXELS = 40_000_000


class WatermarkImageError(Exception):
    """The watermark image cannot be used (missing, unreadable, too large); says why."""


@dataclass(frozen=True, eq=False)
class MarkImage:
    """A watermark image as stored: its S3 key and ETag (the cache identity) and its pixels."""

    key: str
    etag: str
    image: Image.Image  # RGBA, loaded


def apply_watermark(
    image: Image.Image, watermark: Watermark, mark: MarkImage | None = None
) -> Image.Image:
    """`image` (RGB, changed in place and returned) with the text or image mark composited."""
    width, height = image.size
    fill: Image.Image | tuple[int, int, int]
    if watermark.image_key is not None:
        if mark is None or mark.key != watermark.image_key:
            raise WatermarkImageError(
                f"the watermark image {watermark.image_key} was not provided to the renderer"
            )
        fill, mask = _image_mark(mark, max(1, round(watermark.scale * width)), watermark.opacity)
        tiled_rows = 1
    else:
        assert watermark.text is not None
        mask = _text_mask(
            watermark.text, _font_size(watermark.text, watermark.scale, width), watermark.opacity
        )
        fill, tiled_rows = WHITE, 3
    margin = round(MARGIN * min(width, height))
    for x, y in placements(image.size, mask.size, watermark.position, margin, tiled_rows):
        image.paste(fill, (x, y), mask)
    return image


def placements(
    size: tuple[int, int],
    mark: tuple[int, int],
    position: WatermarkPosition,
    margin: int,
    tiled_rows: int = 3,
) -> Iterator[tuple[int, int]]:
    """Top-left corners of the mark: one, or a brick pattern (every other row half a step
    over) with `tiled_rows` mark heights from one row to the next."""
    width, height = size
    mark_w, mark_h = mark
    if position == "tiled":
        step_x, step_y = mark_w + 2 * margin + 1, mark_h * tiled_rows + margin + 1
        for y in range(0, height, step_y):
            for x in range(-(y // step_y % 2) * step_x // 2, width, step_x):
                yield x, y
        return
    x = {"top_left": margin, "bottom_left": margin, "centre": (width - mark_w) // 2}.get(
        position, width - mark_w - margin
    )
    y = {"top_left": margin, "top_right": margin, "centre": (height - mark_h) // 2}.get(
        position, height - mark_h - margin
    )
    yield x, y


@functools.lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


@functools.lru_cache(maxsize=256)
def _font_size(text: str, scale: float, width: int) -> int:
    """The font size whose rendering of `text` is `scale` of `width` wide."""
    left, _, right, _ = (int(v) for v in _font(100).getbbox(text))
    return max(6, round(100 * scale * width / max(1, right - left)))


@functools.lru_cache(maxsize=64)
def _text_mask(text: str, font_size: int, opacity: float) -> Image.Image:
    """The text's coverage times the opacity, cropped to the text's box (mode L)."""
    font = _font(font_size)
    left, top, right, bottom = (int(v) for v in font.getbbox(text))
    mask = Image.new("L", (max(1, right - left), max(1, bottom - top)), 0)
    ImageDraw.Draw(mask).text((-left, -top), text, font=font, fill=round(255 * opacity))
    return mask


_SCALED_LOCK = threading.Lock()
_SCALED: OrderedDict[tuple[str, str, int, float], tuple[Image.Image, Image.Image]] = OrderedDict()
_SCALED_MAX = 32


def _image_mark(mark: MarkImage, width: int, opacity: float) -> tuple[Image.Image, Image.Image]:
    """The image mark `width` wide: its RGB pixels and its alpha times the opacity (cached)."""
    key = (mark.key, mark.etag, width, opacity)
    with _SCALED_LOCK:
        found = _SCALED.get(key)
        if found is not None:
            _SCALED.move_to_end(key)
            return found
    source = mark.image
    height = max(1, round(source.height * width / source.width))
    scaled = source.resize((width, height), Image.Resampling.LANCZOS)
    alpha = scaled.getchannel("A").point(lambda v: round(v * opacity))
    made = (scaled.convert("RGB"), alpha)
    with _SCALED_LOCK:
        _SCALED[key] = made
        while len(_SCALED) > _SCALED_MAX:
            _SCALED.popitem(last=False)
    return made


# Fetching image marks (async: called by whoever renders, before the render) ----------------

_FETCHED: OrderedDict[tuple[str, str], MarkImage] = OrderedDict()
_FETCHED_MAX = 16


def decode_mark_image(key: str, etag: str, body: bytes) -> MarkImage:
    """Decode a watermark file to RGBA (a file without alpha is opaque)."""
    try:
        with Image.open(io.BytesIO(body), formats=MARK_FORMATS) as opened:
            if opened.width * opened.height > MAX_MARK_PIXELS:
                raise WatermarkImageError(
                    f"the watermark image {key} is too large ({opened.width}x{opened.height})"
                )
            rgba = opened.convert("RGBA")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise WatermarkImageError(
            f"the watermark image {key} is not a readable PNG, JPEG, TIFF or WebP: {exc}"
        ) from exc
    return MarkImage(key=key, etag=etag, image=rgba)


async def fetch_mark_image(storage: S3Storage, bucket: str, key: str) -> MarkImage:
    """The watermark image at `key`: one HEAD to learn its ETag, the body only when that
    (key, ETag) has not been fetched before. Raises WatermarkImageError when it cannot be read."""
    from botocore.exceptions import ClientError

    client = storage.client
    try:
        head = await asyncio.to_thread(client.head_object, Bucket=bucket, Key=key)
    except ClientError as exc:
        raise WatermarkImageError(f"the watermark image {key} could not be read: {exc}") from exc
    cache_key = (key, str(head.get("ETag", "")))
    found = _FETCHED.get(cache_key)
    if found is not None:
        _FETCHED.move_to_end(cache_key)
        return found

    def download() -> MarkImage:
        try:
            answer = client.get_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            raise WatermarkImageError(
                f"the watermark image {key} could not be read: {exc}"
            ) from exc
        body = answer["Body"]
        try:
            data = bytes(body.read())
        finally:
            body.close()
        return decode_mark_image(key, str(answer.get("ETag", "")), data)

    mark = await asyncio.to_thread(download)
    _FETCHED[(mark.key, mark.etag)] = mark
    while len(_FETCHED) > _FETCHED_MAX:
        _FETCHED.popitem(last=False)
    return mark
