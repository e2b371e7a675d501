"""The pure render function: source bytes + recipe + profile spec -> output bytes (Pillow).

Blocking CPU work: call it from a worker thread or process, never on the event loop.
Order: decode (JPEG draft-decoded to the size actually needed) -> crop -> resize (LANCZOS) ->
colour to sRGB -> recipe adjustments and colorization (imaging/adjustments.py) -> sharpen ->
watermark -> bleed -> encode with DPI and the sRGB ICC profile.
Colour conversion runs after the resize, on the few pixels that remain.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageDraw, ImageFilter, ImageFont, ImageOps

from render.imaging.adjustments import apply_recipe
from render.imaging.specs import Bleed, Recipe, RenderSpec, Watermark

# Medium-format backs reach 100-150 MP; anything past this is refused as a decompression bomb.
MAX_PIXELS = 200_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
SOURCE_FORMATS = ("JPEG", "PNG", "TIFF")
# How much larger than the output the draft-decoded JPEG must stay before the LANCZOS resize.
# 1.0 (DCT-scale to no smaller than the output): measured 0.03 dB PSNR below 2.0 on a 24 MP
# preview, at less than half the CPU time (bench/render_worker.py).
DRAFT_HEADROOM = 1.0

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
SRGB_ICC = _SRGB.tobytes()


class SourceImageError(Exception):
    """The source cannot be rendered (corrupt, unsupported, too large); says why."""


@dataclass(frozen=True)
class Rendered:
    body: bytes
    width: int
    height: int
    dpi: int
    content_type: str
    extension: str


def open_source(source: bytes) -> Image.Image:
    """Open (lazily) a JPEG, PNG or TIFF; a bomb or garbage raises SourceImageError."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(source), formats=SOURCE_FORMATS)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise SourceImageError(f"the image is too large to render safely: {exc}") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise SourceImageError(f"not a readable JPEG, PNG or TIFF image: {exc}") from exc
    return image


# EXIF orientation -> the transpose that shows the photo upright (applied after the resize,
# so a JPEG can still be draft-decoded); 5-8 swap width and height.
_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_SWAPS = {
    Image.Transpose.ROTATE_90,
    Image.Transpose.ROTATE_270,
    Image.Transpose.TRANSPOSE,
    Image.Transpose.TRANSVERSE,
}


def _orientation(image: Image.Image) -> Image.Transpose | None:
    value = image.getexif().get(0x0112, 1)
    return _ORIENTATION.get(value) if isinstance(value, int) else None


def target_size(source: tuple[int, int], spec: RenderSpec) -> tuple[tuple[int, int], bool]:
    """The trim size in pixels (before bleed) and whether the image covers (crops to) it."""
    width, height = source
    size = spec.size
    if size.long_edge_px is not None:
        scale = size.long_edge_px / max(width, height)
        return (max(1, round(width * scale)), max(1, round(height * scale))), False
    assert size.print_size is not None
    box_w = round(size.print_size.width_in * spec.dpi)
    box_h = round(size.print_size.height_in * spec.dpi)
    if width != height and box_w != box_h and (box_w > box_h) != (width > height):
        box_w, box_h = box_h, box_w  # an 8x10 of a landscape photo is 10x8
    if size.fit == "cover":
        return (box_w, box_h), True
    scale = min(box_w / width, box_h / height)
    return (max(1, round(width * scale)), max(1, round(height * scale))), False


def render(source: bytes, spec: RenderSpec, recipe: Recipe | None = None) -> Rendered:
    """Render one image with one profile spec; raises SourceImageError for a bad source."""
    image = open_source(source)
    try:
        full_w, full_h = image.size
        turn = _orientation(image)
        swap = turn in _SWAPS
        crop_box = _crop_box(image.size, recipe)
        crop_w, crop_h = crop_box[2] - crop_box[0], crop_box[3] - crop_box[1]
        (out_w, out_h), cover = target_size((crop_h, crop_w) if swap else (crop_w, crop_h), spec)
        if swap:  # pixels are resized as stored, then turned upright
            out_w, out_h = out_h, out_w
        if cover:  # cover: the crop shrinks further to the box's aspect ratio, centred
            crop_box = _cover_box(crop_box, out_w / out_h)
            crop_w, crop_h = crop_box[2] - crop_box[0], crop_box[3] - crop_box[1]
        icc = image.info.get("icc_profile")
        image = _decode(image, (full_w, full_h), (crop_w, crop_h), (out_w, out_h))
        scale_x, scale_y = image.size[0] / full_w, image.size[1] / full_h
        box = (
            crop_box[0] * scale_x,
            crop_box[1] * scale_y,
            crop_box[2] * scale_x,
            crop_box[3] * scale_y,
        )
        mode_image = image if image.mode in ("RGB", "L", "CMYK") else image.convert("RGB")
        resized = mode_image.resize((out_w, out_h), Image.Resampling.LANCZOS, box=box)
        if turn is not None:
            resized = resized.transpose(turn)
        rgb = _to_srgb(resized, icc if spec.convert_to_srgb else None)
        if recipe is not None:
            rgb = apply_recipe(rgb, recipe)
        if spec.sharpening is not None:
            s = spec.sharpening
            rgb = rgb.filter(ImageFilter.UnsharpMask(s.radius, s.amount, s.threshold))
        if spec.watermark is not None:
            rgb = apply_watermark(rgb, spec.watermark)
        if spec.bleed is not None:
            rgb = add_bleed(rgb, spec.bleed, spec.dpi)
        return _encode(rgb, spec)
    except SourceImageError:
        raise
    except (OSError, ValueError, SyntaxError, ImageCms.PyCMSError) as exc:
        raise SourceImageError(f"the image could not be decoded: {exc}") from exc
    finally:
        image.close()


def _crop_box(size: tuple[int, int], recipe: Recipe | None) -> tuple[int, int, int, int]:
    width, height = size
    if recipe is None or recipe.crop is None:
        return (0, 0, width, height)
    c = recipe.crop
    left, top = round(c.x * width), round(c.y * height)
    right = min(width, max(left + 1, round((c.x + c.width) * width)))
    bottom = min(height, max(top + 1, round((c.y + c.height) * height)))
    return (left, top, right, bottom)


def _cover_box(box: tuple[int, int, int, int], aspect: float) -> tuple[int, int, int, int]:
    left, top, right, bottom = box
    width, height = right - left, bottom - top
    if width / height > aspect:
        new_w = max(1, round(height * aspect))
        left += (width - new_w) // 2
        return (left, top, left + new_w, bottom)
    new_h = max(1, round(width / aspect))
    top += (height - new_h) // 2
    return (left, top, right, top + new_h)


def _decode(
    image: Image.Image, full: tuple[int, int], crop: tuple[int, int], out: tuple[int, int]
) -> Image.Image:
    """Decode; a JPEG is DCT-scaled to the smallest size no smaller than DRAFT_HEADROOM x out.

    `draft` needs the requested size in full-image pixels and with the image's own aspect
    ratio: a square box on a 3:2 photo would not shrink at all.
    """
    if image.format == "JPEG":
        factor = min(crop[0] / out[0], crop[1] / out[1]) / DRAFT_HEADROOM
        if factor > 1:
            wanted = (math.ceil(full[0] / factor), math.ceil(full[1] / factor))
            image.draft(image.mode if image.mode in ("RGB", "L", "CMYK") else "RGB", wanted)
    image.load()
    return image


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert with the embedded ICC profile when it is not already sRGB; always ends RGB."""
    if icc and not _is_srgb(icc):
        source_profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(
            image,
            source_profile,
            _SRGB,
            renderingIntent=ImageCms.Intent.PERCEPTUAL,
            outputMode="RGB",
        )
        assert converted is not None
        return converted
    return image if image.mode == "RGB" else image.convert("RGB")


def _is_srgb(icc: bytes) -> bool:
    try:
        description = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
    except ImageCms.PyCMSError:
        return False
    return "srgb" in description.lower()


def apply_watermark(image: Image.Image, watermark: Watermark) -> Image.Image:
    """Draw the text at `opacity`, `scale` of the width wide, in a corner, centred or tiled."""
    width, height = image.size
    probe = ImageFont.load_default(size=100)
    left, top, right, bottom = (int(v) for v in probe.getbbox(watermark.text))
    text_w = max(1, right - left)
    font_size = max(6, round(100 * watermark.scale * width / text_w))
    font = ImageFont.load_default(size=font_size)
    left, top, right, bottom = (int(v) for v in font.getbbox(watermark.text))
    text_w, text_h = right - left, bottom - top
    margin = round(0.03 * min(width, height))
    overlay = Image.new("RGBA", image.size, (255, 255, 255, 0))
    draw = ImageDraw.Draw(overlay)
    fill = (255, 255, 255, round(255 * watermark.opacity))
    if watermark.position == "tiled":
        step_x, step_y = text_w + 2 * margin + 1, text_h * 3 + margin + 1
        for y in range(0, height, step_y):
            for x in range(-(y // step_y % 2) * step_x // 2, width, step_x):
                draw.text((x - left, y - top), watermark.text, font=font, fill=fill)
    else:
        x = {
            "top_left": margin,
            "bottom_left": margin,
            "centre": (width - text_w) // 2,
        }.get(watermark.position, width - text_w - margin)
        y = {
            "top_left": margin,
            "top_right": margin,
            "centre": (height - text_h) // 2,
        }.get(watermark.position, height - text_h - margin)
        draw.text((x - left, y - top), watermark.text, font=font, fill=fill)
    base = image.convert("RGBA")
    base.alpha_composite(overlay)
    return base.convert("RGB")


def bleed_pixels(bleed: Bleed, dpi: int) -> int:
    return max(1, round(bleed.inches * dpi))


def add_bleed(image: Image.Image, bleed: Bleed, dpi: int) -> Image.Image:
    """Grow each side by the bleed, filled by stretching the edge pixels or mirroring."""
    pad = bleed_pixels(bleed, dpi)
    widened = _extend(image, pad, horizontal=True, mirror=bleed.fill == "mirror")
    return _extend(widened, pad, horizontal=False, mirror=bleed.fill == "mirror")


def _extend(image: Image.Image, pad: int, *, horizontal: bool, mirror: bool) -> Image.Image:
    width, height = image.size
    if horizontal:
        out = Image.new(image.mode, (width + 2 * pad, height))
        depth = min(pad, width)
        if mirror:
            first = ImageOps.mirror(image.crop((0, 0, depth, height)))
            last = ImageOps.mirror(image.crop((width - depth, 0, width, height)))
            first, last = first.resize((pad, height)), last.resize((pad, height))
        else:
            first = image.crop((0, 0, 1, height)).resize((pad, height))
            last = image.crop((width - 1, 0, width, height)).resize((pad, height))
        out.paste(first, (0, 0))
        out.paste(image, (pad, 0))
        out.paste(last, (pad + width, 0))
        return out
    out = Image.new(image.mode, (width, height + 2 * pad))
    depth = min(pad, height)
    if mirror:
        first = ImageOps.flip(image.crop((0, 0, width, depth))).resize((width, pad))
        last = ImageOps.flip(image.crop((0, height - depth, width, height))).resize((width, pad))
    else:
        first = image.crop((0, 0, width, 1)).resize((width, pad))
        last = image.crop((0, height - 1, width, height)).resize((width, pad))
    out.paste(first, (0, 0))
    out.paste(image, (0, pad))
    out.paste(last, (0, pad + height))
    return out


_SUBSAMPLING = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}


def _encode(image: Image.Image, spec: RenderSpec) -> Rendered:
    buffer = io.BytesIO()
    fmt = spec.format
    dpi = (spec.dpi, spec.dpi)
    if fmt.kind == "jpeg":
        image.save(
            buffer,
            "JPEG",
            quality=fmt.quality,
            subsampling=_SUBSAMPLING[fmt.subsampling],
            dpi=dpi,
            icc_profile=SRGB_ICC,
            optimize=False,
        )
        content_type, extension = "image/jpeg", "jpg"
    elif fmt.kind == "png":
        image.save(buffer, "PNG", dpi=dpi, icc_profile=SRGB_ICC, compress_level=6)
        content_type, extension = "image/png", "png"
    else:
        image.save(buffer, "TIFF", dpi=dpi, icc_profile=SRGB_ICC, compression="tiff_lzw")
        content_type, extension = "image/tiff", "tif"
    return Rendered(
        buffer.getvalue(), image.size[0], image.size[1], spec.dpi, content_type, extension
    )


def output_name(
    spec: RenderSpec, *, session: str, image: str, profile: str, product: str = ""
) -> str:
    """The output's file name from the profile's naming template, with its extension."""
    size = spec.size
    if size.print_size is not None:
        label = f"{size.print_size.width_in:g}x{size.print_size.height_in:g}"
    else:
        label = str(size.long_edge_px)
    name = spec.naming.format(
        session=session, image=image, product=product or profile, size=label, profile=profile
    )
    extension = {"jpeg": "jpg", "png": "png", "tiff": "tif"}[spec.format.kind]
    return f"{name}.{extension}"
