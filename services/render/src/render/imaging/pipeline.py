"""The pure render function: source bytes + recipe + profile spec -> output bytes (Pillow).

Blocking CPU work: call it from a worker thread or process, never on the event loop.
Order: decode (a JPEG DCT-scaled while decoding, to the size actually needed) -> crop and
resize in one pass (bicubic, in bands of rows) -> colour to sRGB (a cached LittleCMS transform,
in place) -> recipe adjustments and colorization (imaging/adjustments.py) -> sharpen ->
watermark (imaging/watermarks.py) -> bleed -> encode with DPI and the sRGB ICC profile.
Everything after the resize touches only the output's pixels; the full-size decode is freed as
soon as the resize has read it. Figures: bench/render_pipeline.py.
"""

from __future__ import annotations

import functools
import io
import math
import warnings
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageFilter, ImageOps

from render.imaging.adjustments import apply_recipe
from render.imaging.specs import Bleed, Recipe, RenderSpec
from render.imaging.watermarks import MarkImage, WatermarkImageError, apply_watermark

# Medium-format backs reach 100-150 MP; anything past this is refused as a decompression bomb.
MAX_PIXELS = 200_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
SOURCE_FORMATS = ("JPEG", "PNG", "TIFF")
# A JPEG is DCT-scaled (1/2, 1/4, 1/8) while decoding to the smallest size that stays at least
# DRAFT_HEADROOM x the output before the final resize. 1.0 measured (bench/render_pipeline.py):
# PSNR against a full-decode LANCZOS reference at or above libvips' (which keeps 2.0), at
# 0.6-0.7x the CPU time of 2.0 on a 24 MP -> 2048 px preview.
DRAFT_HEADROOM = 1.0
# Sources that cannot be DCT-scaled (PNG, TIFF; a JPEG past 1/8) are first box-reduced by a
# whole factor that leaves at least REDUCE_GAP for the filter (Pillow's `reducing_gap`, done
# once on the whole image so that banded resizes stay exact): 2.3x faster on a 24 MP PNG to
# 1024 px, 1 dB PSNR below a straight bicubic before the JPEG encode (46.6 vs 47.6 dB).
REDUCE_GAP = 2.0
# The final resize, after the DCT scaling has done most of a large reduction. Bicubic is 0.3x
# cheaper than LANCZOS here and within 0.1 dB of it once the JPEG is encoded.
RESIZE_FILTER = Image.Resampling.BICUBIC
# Large outputs are resized BAND_ROWS output rows at a time: the intermediate image of
# Pillow's two-pass resize then covers one band, not the whole crop (a 10x8 at 300 DPI from
# 24 MP: 4 MB instead of 43 MB). Below BAND_FROM source pixels, one pass (no band overhead).
BAND_ROWS = 256
BAND_FROM = 8_000_000

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


def render(
    source: bytes,
    spec: RenderSpec,
    recipe: Recipe | None = None,
    mark: MarkImage | None = None,
) -> Rendered:
    """Render one image with one profile spec; raises SourceImageError for a bad source.

    `mark` is the watermark image a profile with `watermark.image_key` needs (see
    `watermarks.fetch_mark_image`); a text watermark needs nothing.
    """
    image = open_source(source)
    try:
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
        scale = _decode(image, (crop_w, crop_h), (out_w, out_h))
        if image.mode not in ("RGB", "L", "CMYK"):
            converted = image.convert("RGB")
            image.close()
            image = converted
        factor = int(min(crop_w / out_w, crop_h / out_h) / scale / REDUCE_GAP)
        if factor > 1:  # a PNG or TIFF, or past JPEG's 1/8: box-average by a whole factor first
            reduced = image.reduce(factor)
            image.close()
            image = reduced
            scale *= factor
        box = (
            crop_box[0] / scale,
            crop_box[1] / scale,
            crop_box[2] / scale,
            crop_box[3] / scale,
        )
        resized = resample(image, (out_w, out_h), box)
        image.close()  # the full-size decode is the largest thing held: free it now
        if turn is not None:
            resized = resized.transpose(turn)
        rgb = _to_srgb(resized, icc if spec.convert_to_srgb else None)
        if recipe is not None:
            rgb = apply_recipe(rgb, recipe)
        if spec.sharpening is not None:
            s = spec.sharpening
            rgb = rgb.filter(ImageFilter.UnsharpMask(s.radius, s.amount, s.threshold))
        if spec.watermark is not None:
            rgb = apply_watermark(rgb, spec.watermark, mark)
        if spec.bleed is not None:
            rgb = add_bleed(rgb, spec.bleed, spec.dpi)
        return _encode(rgb, spec)
    except SourceImageError:
        raise
    except WatermarkImageError as exc:
        raise SourceImageError(str(exc)) from exc
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


def _decode(image: Image.Image, crop: tuple[int, int], out: tuple[int, int]) -> int:
    """Load the pixels; a JPEG is DCT-scaled to the smallest size no smaller than
    DRAFT_HEADROOM x the output. Returns the scale (1, 2, 4 or 8) the pixels were divided by.

    `draft` takes the wanted size in full-image pixels with the image's own aspect ratio: a
    square box on a 3:2 photo would not shrink at all.
    """
    scale = 1
    if image.format == "JPEG":
        factor = min(crop[0] / out[0], crop[1] / out[1]) / DRAFT_HEADROOM
        if factor >= 2:
            wanted = (math.ceil(image.width / factor), math.ceil(image.height / factor))
            mode = image.mode if image.mode in ("RGB", "L", "CMYK") else "RGB"
            full_w = image.width
            drafted = image.draft(mode, wanted)
            if drafted is not None:  # its box is the full image in the scaled pixels
                scale = round(full_w / drafted[1][2])
    image.load()
    return scale


def resample(
    image: Image.Image, size: tuple[int, int], box: tuple[float, float, float, float]
) -> Image.Image:
    """`box` of `image` resized to `size`, band by band of output rows.

    Each band's filter reaches past the band into its neighbours' source rows (the box only
    positions the samples), so the result equals one whole resize; only the intermediate
    image of the two-pass resize shrinks to one band.
    """
    out_w, out_h = size
    left, top, right, bottom = box
    if out_w * (bottom - top) <= BAND_FROM or out_h <= BAND_ROWS:
        return image.resize(size, RESIZE_FILTER, box=box)
    out = Image.new(image.mode, size)
    rows_per_out = (bottom - top) / out_h
    for first in range(0, out_h, BAND_ROWS):
        last = min(out_h, first + BAND_ROWS)
        band_box = (left, top + first * rows_per_out, right, top + last * rows_per_out)
        band = image.resize((out_w, last - first), RESIZE_FILTER, box=band_box)
        out.paste(band, (0, first))
        band.close()
    return out


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert with the embedded ICC profile when it is not already sRGB; always ends RGB."""
    transform = _srgb_transform(icc, image.mode) if icc else None
    if transform is None:
        return image if image.mode == "RGB" else image.convert("RGB")
    if image.mode == "RGB":
        ImageCms.applyTransform(image, transform, inPlace=True)
        return image
    converted = ImageCms.applyTransform(image, transform)
    assert converted is not None
    return converted


@functools.lru_cache(maxsize=32)
def _srgb_transform(icc: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    """The transform from `icc` to sRGB, built once per profile and mode (None: it is sRGB).

    NOCACHE: one transform serves the render threads at once, and LittleCMS' one-pixel
    cache is per transform (it costs nothing measurable to switch it off).
    """
    source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    if "srgb" in ImageCms.getProfileDescription(source).lower():
        return None
    return ImageCms.buildTransform(
        source,
        _SRGB,
        mode,
        "RGB",
        renderingIntent=ImageCms.Intent.PERCEPTUAL,
        flags=ImageCms.Flags.NOCACHE,
    )


def bleed_pixels(bleed: Bleed, dpi: int) -> int:
    return max(1, round(bleed.inches * dpi))


def add_bleed(image: Image.Image, bleed: Bleed, dpi: int) -> Image.Image:
    """Grow each side by the bleed, filled by stretching the edge pixels or mirroring.

    One canvas: the picture is pasted into the middle, then each side strip is filled from
    the edge (left and right first, then top and bottom across the full width, corners too).
    """
    pad = bleed_pixels(bleed, dpi)
    mirror = bleed.fill == "mirror"
    width, height = image.size
    out = Image.new(image.mode, (width + 2 * pad, height + 2 * pad))
    out.paste(image, (pad, pad))
    image.close()
    full_w = width + 2 * pad
    depth_x, depth_y = min(pad, width), min(pad, height)
    if mirror:
        left = ImageOps.mirror(out.crop((pad, pad, pad + depth_x, pad + height)))
        right = ImageOps.mirror(out.crop((pad + width - depth_x, pad, pad + width, pad + height)))
    else:
        left = out.crop((pad, pad, pad + 1, pad + height))
        right = out.crop((pad + width - 1, pad, pad + width, pad + height))
    out.paste(left.resize((pad, height)), (0, pad))
    out.paste(right.resize((pad, height)), (pad + width, pad))
    if mirror:
        top = ImageOps.flip(out.crop((0, pad, full_w, pad + depth_y)))
        bottom = ImageOps.flip(out.crop((0, pad + height - depth_y, full_w, pad + height)))
    else:
        top = out.crop((0, pad, full_w, pad + 1))
        bottom = out.crop((0, pad + height - 1, full_w, pad + height))
    out.paste(top.resize((full_w, pad)), (0, 0))
    out.paste(bottom.resize((full_w, pad)), (0, pad + height))
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
