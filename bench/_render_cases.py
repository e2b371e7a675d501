"""The render benchmarks' photos and the ways of rendering them (ours, libvips, plain Pillow).

Run as a script, it renders one variant once in this fresh process and prints its CPU time and
peak RSS as JSON (`python bench/_render_cases.py <variant> <photo file>`). That is why every
import of an imaging library sits inside the function that uses it: a variant's process loads
only what that variant needs, so peak RSS compares like with like.
"""

from __future__ import annotations

import functools
import io
import json
import os
import random
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# libvips on one thread with no operation cache: the anchor is one core's worth of work.
os.environ.setdefault("VIPS_CONCURRENCY", "1")

PREVIEW_EDGE = 2048
PROOF_EDGE = 1024
PRINT_DPI = 300
PRINT_BOX = (3000, 2400)  # 10x8 in at 300 DPI, landscape like the photos
PRINT_MARGIN = 0.05  # the recipe crop: 5 % off each side
PRINT_BLEED_PX = 35  # 3 mm at 300 DPI
PREVIEW_QUALITY = 85
PRINT_QUALITY = 95


def adobe_rgb_icc() -> bytes:
    """A minimal ICC v2 matrix/TRC profile with Adobe RGB (1998) primaries (Pillow can author
    only sRGB, LAB and XYZ profiles, and the machine has no ICC files to borrow)."""

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ " + bytes(4) + s15(x) + s15(y) + s15(z)

    name = b"Adobe RGB (1998) compatible\0"
    desc = b"desc" + bytes(4) + struct.pack(">I", len(name)) + name + bytes(78)
    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, 563) + bytes(2)  # gamma 2.2
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.6097, 0.3111, 0.0195)),
        (b"gXYZ", xyz(0.2053, 0.6257, 0.0609)),
        (b"bXYZ", xyz(0.1492, 0.0632, 0.7446)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        body += bytes(-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    header = (
        struct.pack(">I", offset + len(data))
        + bytes(4)
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + bytes(12)
        + b"acsp"
        + bytes(28)
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
        + bytes(48)
    )
    return header + struct.pack(">I", len(tags)) + table + data


def make_photo(width: int, height: int, *, seed: int, icc: bytes | None) -> bytes:
    """A seeded photo-like JPEG: coloured shapes with hard edges at every scale, a texture with
    detail from coarse to fine (1/f-like octaves of noise), thin lines and light sensor grain;
    camera-like q92 4:2:0. Far more like a photo to the codec and the filters than flat noise."""
    from PIL import Image, ImageChops, ImageDraw, ImageFilter

    rng = random.Random(seed)
    canvas = Image.new("RGB", (width, height), (120, 110, 100))
    draw = ImageDraw.Draw(canvas)
    for index in range(600):
        size = max(4, int(min(width, height) * rng.random() ** 3 * 0.6))
        x, y = rng.randrange(-size // 2, width), rng.randrange(-size // 2, height)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        if index % 3 == 0:
            draw.ellipse((x, y, x + size, y + size * rng.uniform(0.3, 1.5)), fill=colour)
        elif index % 3 == 1:
            draw.rectangle((x, y, x + size * rng.uniform(0.2, 2), y + size), fill=colour)
        else:
            end = (x + rng.randrange(-size, size), y + rng.randrange(-size, size))
            draw.line((x, y, *end), fill=colour, width=rng.randrange(1, 6))
    texture = Image.new("L", (width, height), 128)
    for divisor, weight in ((256, 0.55), (48, 0.35), (8, 0.25), (2, 0.15)):
        octave = Image.effect_noise((max(2, width // divisor), max(2, height // divisor)), 48)
        octave = octave.resize((width, height), Image.Resampling.BICUBIC)
        texture = Image.blend(texture, octave, weight)
    texture = texture.point(lambda v: min(255, max(0, 96 + (v - 128) * 3)))
    shaded = ImageChops.multiply(canvas, Image.merge("RGB", (texture,) * 3))
    image = ImageChops.add(shaded, canvas.filter(ImageFilter.BoxBlur(2)), 1.6)
    grain = Image.effect_noise((width, height), 5)
    image = ImageChops.add(image, Image.merge("RGB", (grain,) * 3), 1.0, -128)
    buffer = io.BytesIO()
    extra: dict[str, Any] = {"icc_profile": icc} if icc else {}
    image.save(buffer, "JPEG", quality=92, subsampling=2, **extra)
    return buffer.getvalue()


def srgb_icc() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


# Geometry shared by every variant of the print case --------------------------------------


def print_geometry(width: int, height: int) -> tuple[tuple[int, int, int, int], float]:
    """The print's source box (recipe crop, then cover to the 10x8's aspect) and its scale."""
    left, top = round(PRINT_MARGIN * width), round(PRINT_MARGIN * height)
    right, bottom = width - left, height - top
    aspect = PRINT_BOX[0] / PRINT_BOX[1]
    crop_w, crop_h = right - left, bottom - top
    if crop_w / crop_h > aspect:
        new_w = round(crop_h * aspect)
        left += (crop_w - new_w) // 2
        right = left + new_w
    else:
        new_h = round(crop_w / aspect)
        top += (crop_h - new_h) // 2
        bottom = top + new_h
    return (left, top, right, bottom), PRINT_BOX[0] / (right - left)


# libvips: the anchor (one thread, no cache) -----------------------------------------------


def _vips() -> Any:
    import pyvips

    pyvips.cache_set_max(0)
    pyvips.cache_set_max_mem(0)
    pyvips.cache_set_max_files(0)
    return pyvips


def vips_thumbnail(source: bytes, edge: int) -> bytes:
    """libvips' thumbnail: shrink-on-load with 2x headroom, lanczos3, then sRGB, then save."""
    pyvips = _vips()
    image = pyvips.Image.thumbnail_buffer(source, edge, height=edge, export_profile="srgb")
    data: bytes = image.jpegsave_buffer(Q=PREVIEW_QUALITY, subsample_mode="on")
    return data


def vips_print(source: bytes) -> bytes:
    """The print in libvips: crop, lanczos3 to the box (no shrink-on-load: the scale is 1.5),
    sRGB from the embedded profile, bleed by copying the edge, save with the DPI."""
    pyvips = _vips()
    image = pyvips.Image.new_from_buffer(source, "", access="sequential")
    (left, top, right, bottom), scale = print_geometry(image.width, image.height)
    image = image.crop(left, top, right - left, bottom - top).resize(scale, kernel="lanczos3")
    image = image.crop(0, 0, *PRINT_BOX)
    image = image.icc_transform("srgb", embedded=True, intent="perceptual")
    pad = PRINT_BLEED_PX
    image = image.embed(pad, pad, PRINT_BOX[0] + 2 * pad, PRINT_BOX[1] + 2 * pad, extend="copy")
    image = image.copy(xres=PRINT_DPI / 25.4, yres=PRINT_DPI / 25.4)
    data: bytes = image.jpegsave_buffer(Q=PRINT_QUALITY, subsample_mode="off")
    return data


# Plain Pillow: the way one writes it without thinking about speed -------------------------


def plain_thumbnail(source: bytes, edge: int) -> bytes:
    from PIL import Image

    image = Image.open(io.BytesIO(source))
    image.load()
    scale = edge / max(image.size)
    size = (round(image.width * scale), round(image.height * scale))
    small = image.resize(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, "JPEG", quality=PREVIEW_QUALITY)
    return out.getvalue()


def plain_print(source: bytes) -> bytes:
    from PIL import Image, ImageCms, ImageOps

    image = Image.open(io.BytesIO(source))
    icc = image.info.get("icc_profile")
    image.load()
    box, _ = print_geometry(*image.size)
    image = image.crop(box)
    if icc:
        srgb = ImageCms.createProfile("sRGB")
        converted = ImageCms.profileToProfile(
            image, ImageCms.ImageCmsProfile(io.BytesIO(icc)), srgb, outputMode="RGB"
        )
        assert converted is not None
        image = converted
    small = image.resize(PRINT_BOX, Image.Resampling.LANCZOS)
    small = ImageOps.expand(small, PRINT_BLEED_PX)
    out = io.BytesIO()
    small.save(out, "JPEG", quality=PRINT_QUALITY, subsampling=0, dpi=(PRINT_DPI,) * 2)
    return out.getvalue()


# Ours: the render service's pipeline ------------------------------------------------------


@functools.cache
def _specs() -> dict[str, Any]:
    from render.imaging.specs import (
        Bleed,
        Crop,
        FileFormat,
        OutputSize,
        PrintSize,
        Recipe,
        RenderSpec,
        Watermark,
    )

    jpeg = FileFormat(quality=PREVIEW_QUALITY, subsampling="4:2:0")
    return {
        "preview": RenderSpec(size=OutputSize(long_edge_px=PREVIEW_EDGE), dpi=72, format=jpeg),
        "proof": RenderSpec(size=OutputSize(long_edge_px=PROOF_EDGE), dpi=72, format=jpeg),
        "proof_wm": RenderSpec(
            size=OutputSize(long_edge_px=PROOF_EDGE),
            dpi=72,
            format=jpeg,
            watermark=Watermark(text="PROOF", opacity=0.35, position="tiled", scale=0.2),
        ),
        "print": RenderSpec(
            size=OutputSize(print_size=PrintSize(width_in=10, height_in=8), fit="cover"),
            dpi=PRINT_DPI,
            bleed=Bleed(amount=3, unit="mm"),
            format=FileFormat(quality=PRINT_QUALITY, subsampling="4:4:4"),
        ),
        "print_recipe": Recipe(
            version=1,
            crop=Crop(x=PRINT_MARGIN, y=PRINT_MARGIN, width=0.9, height=0.9),
        ),
    }


def ours(source: bytes, spec_name: str) -> bytes:
    from render.imaging import pipeline

    _tuning(pipeline)
    specs = _specs()
    recipe = specs["print_recipe"] if spec_name == "print" else None
    return pipeline.render(source, specs[spec_name], recipe).body


def _tuning(pipeline: Any) -> None:
    """BENCH_DRAFT_HEADROOM and BENCH_RESIZE_FILTER (e.g. LANCZOS) try other settings."""
    if "BENCH_DRAFT_HEADROOM" in os.environ:
        pipeline.DRAFT_HEADROOM = float(os.environ["BENCH_DRAFT_HEADROOM"])
    if "BENCH_RESIZE_FILTER" in os.environ:
        from PIL import Image

        pipeline.RESIZE_FILTER = Image.Resampling[os.environ["BENCH_RESIZE_FILTER"]]


VARIANTS: dict[str, Callable[[bytes], bytes]] = {
    "vips_preview": lambda s: vips_thumbnail(s, PREVIEW_EDGE),
    "plain_preview": lambda s: plain_thumbnail(s, PREVIEW_EDGE),
    "ours_preview": lambda s: ours(s, "preview"),
    "vips_proof": lambda s: vips_thumbnail(s, PROOF_EDGE),
    "plain_proof": lambda s: plain_thumbnail(s, PROOF_EDGE),
    "ours_proof": lambda s: ours(s, "proof"),
    "ours_proof_wm": lambda s: ours(s, "proof_wm"),
    "vips_print": vips_print,
    "plain_print": plain_print,
    "ours_print": lambda s: ours(s, "print"),
}


def _vm_hwm_mib() -> float:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork+exec.
    status = Path("/proc/self/status").read_text()
    kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
    return kib / 1024


def _warm_imports(variant: str) -> None:
    """Load the variant's libraries (and nothing else) before the work is measured."""
    if variant.startswith("vips"):
        _vips()
    elif variant.startswith("plain"):
        from PIL import Image, ImageCms  # noqa: F401
    else:
        import render.imaging.pipeline  # noqa: F401

        _specs()


def child(variant: str, photo: Path) -> None:
    """One render of `variant` in this fresh process: CPU seconds and peak RSS as JSON."""
    source = photo.read_bytes()
    _warm_imports(variant)
    before = _vm_hwm_mib()
    start = time.process_time()
    body = VARIANTS[variant](source)
    cpu_s = time.process_time() - start
    print(
        json.dumps(
            {"cpu_s": cpu_s, "imports_mib": before, "peak_mib": _vm_hwm_mib(), "bytes": len(body)}
        )
    )


if __name__ == "__main__":
    child(sys.argv[1], Path(sys.argv[2]))
