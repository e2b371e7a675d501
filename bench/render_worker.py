"""Render benchmark: the render service's Pillow path next to plain Pillow, same photos, same run.

    set -a && . .local/test/env && set +a && .venv/bin/python bench/render_worker.py

Seeded test photos (24 MP and 45 MP JPEGs tagged with an Adobe RGB profile) are generated
first. Each scenario alternates the anchor (plain Pillow: full decode, LANCZOS, save) and the
target (render.imaging.pipeline.render) over ROUNDS rounds and prints median CPU-time ratios
with their spread. Peak RSS is measured in a fresh process per variant; quality as PSNR
against a full-decode LANCZOS reference. pyvips is not installed (see the README): the anchor
here is plain Pillow, not libvips.
"""

from __future__ import annotations

import io
import math
import multiprocessing
import os
import random
import struct
import time
from collections.abc import Callable
from pathlib import Path

from _harness import report, summary
from PIL import Image, ImageChops, ImageCms, ImageFilter, ImageStat

from render.imaging.pipeline import render
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

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
SRGB = ImageCms.createProfile("sRGB")


def adobe_rgb_icc() -> bytes:
    """A minimal ICC v2 matrix/TRC profile with Adobe RGB (1998) primaries."""

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ " + bytes(4) + s15(x) + s15(y) + s15(z)

    name = b"Adobe RGB (1998) compatible\0"
    desc = b"desc" + bytes(4) + struct.pack(">I", len(name)) + name + bytes(78)
    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, 563) + bytes(2)
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


def make_photo(width: int, height: int, seed: int) -> bytes:
    """A seeded photo-like JPEG (smooth gradients, detail, grain) with a non-sRGB profile."""
    rng = random.Random(seed)
    small = Image.effect_noise((width // 16, height // 16), 60).filter(ImageFilter.GaussianBlur(3))
    base = small.resize((width, height), Image.Resampling.BICUBIC)
    grain = Image.effect_noise((width, height), 18)
    mandel = Image.effect_mandelbrot(
        (width, height), (-2.2 + rng.random() * 0.1, -1.2, 1.0, 1.2), 40
    )
    image = Image.merge("RGB", (base, ImageChops.add(base, grain, 1.0, -64), mandel))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92, icc_profile=adobe_rgb_icc())
    return buffer.getvalue()


# The anchors: plain Pillow, the way one writes it without thinking about speed.


def naive_preview(source: bytes, long_edge: int) -> bytes:
    image = Image.open(io.BytesIO(source))
    image.load()
    scale = long_edge / max(image.size)
    small = image.resize(
        (round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS
    )
    out = io.BytesIO()
    small.save(out, "JPEG", quality=85)
    return out.getvalue()


def naive_print(source: bytes) -> bytes:
    image = Image.open(io.BytesIO(source))
    icc = image.info["icc_profile"]
    image.load()
    w, h = image.size
    image = image.crop((int(w * 0.05), int(h * 0.05), int(w * 0.95), int(h * 0.95)))
    converted = ImageCms.profileToProfile(
        image, ImageCms.ImageCmsProfile(io.BytesIO(icc)), SRGB, outputMode="RGB"
    )
    assert converted is not None
    small = converted.resize((3000, 2400), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, "JPEG", quality=95, dpi=(300, 300))
    return out.getvalue()


PREVIEW = RenderSpec(size=OutputSize(long_edge_px=2048), dpi=72, format=FileFormat(quality=85))
PROOF = RenderSpec(size=OutputSize(long_edge_px=1024), dpi=72, format=FileFormat(quality=85))
PROOF_WM = RenderSpec(
    size=OutputSize(long_edge_px=1024),
    dpi=72,
    format=FileFormat(quality=85),
    watermark=Watermark(text="PROOF", position="tiled", scale=0.2),
)
PRINT = RenderSpec(
    size=OutputSize(print_size=PrintSize(width_in=10, height_in=8), fit="cover"),
    dpi=300,
    bleed=Bleed(amount=3, unit="mm"),
    format=FileFormat(quality=95, subsampling="4:4:4"),
)
PRINT_RECIPE = Recipe(version=1, crop=Crop(x=0.05, y=0.05, width=0.9, height=0.9))


def cpu(work: Callable[[], object]) -> float:
    start = time.process_time()
    work()
    return time.process_time() - start


def alternate(anchor: Callable[[], object], target: Callable[[], object]) -> dict[str, float]:
    """Median anchor and target CPU seconds, and the median of the per-round ratios."""
    anchors, targets, ratios = [], [], []
    for _ in range(ROUNDS):
        a, t = cpu(anchor), cpu(target)
        anchors.append(a)
        targets.append(t)
        ratios.append(t / a)
    r = summary(ratios)
    return {
        "anchor_s": summary(anchors)["median"],
        "target_s": summary(targets)["median"],
        "ratio": r["median"],
        "ratio_spread_pct": r["spread_pct"],
    }


def psnr(a: Image.Image, b: Image.Image) -> float:
    diff = ImageChops.difference(a.convert("RGB"), b.convert("RGB"))
    stat = ImageStat.Stat(diff)
    mse = sum(stat.sum2) / (3 * a.width * a.height)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def reference_preview(source: bytes, size: tuple[int, int]) -> Image.Image:
    image = Image.open(io.BytesIO(source))
    icc = image.info["icc_profile"]
    image.load()
    small = image.resize(size, Image.Resampling.LANCZOS)
    converted = ImageCms.profileToProfile(
        small, ImageCms.ImageCmsProfile(io.BytesIO(icc)), SRGB, outputMode="RGB"
    )
    assert converted is not None
    return converted


def _rss_child(kind: str, source: bytes, queue: multiprocessing.Queue[float]) -> None:
    if kind == "naive":
        naive_print(source)
    else:
        render(source, PRINT, PRINT_RECIPE)
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork+exec.
    status = Path("/proc/self/status").read_text()
    hwm_kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
    queue.put(hwm_kib / 1024)


def fresh_rss(kind: str, source: bytes) -> float:
    ctx = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[float] = ctx.Queue()
    process = ctx.Process(target=_rss_child, args=(kind, source, queue))
    process.start()
    value = queue.get()
    process.join()
    return value


def _throughput_child(sources: list[bytes]) -> int:
    for source in sources:
        render(source, PREVIEW)
    return len(sources)


def throughput(workers: int, sources: list[bytes]) -> float:
    """Previews per second with `workers` processes sharing the same images."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers) as pool:
        pool.map(_throughput_child, [[sources[0]]] * workers)  # warm the processes
        start = time.perf_counter()
        chunks = [sources[i::workers] for i in range(workers)]
        done = sum(pool.map(_throughput_child, chunks))
        return done / (time.perf_counter() - start)


def main() -> None:
    print(f"generating seeded photos (24 MP, 45 MP); {ROUNDS} rounds; {os.cpu_count()} cores")
    p24 = make_photo(6000, 4000, seed=24)
    p45 = make_photo(8256, 5504, seed=45)
    rows = [("scenario", "target / anchor CPU (median, spread)", "detail")]
    figures: dict[str, object] = {"rounds": ROUNDS}

    for label, source in (("preview_24mp", p24), ("preview_45mp", p45)):
        result = alternate(
            lambda s=source: naive_preview(s, 2048), lambda s=source: render(s, PREVIEW)
        )
        ours = Image.open(io.BytesIO(render(source, PREVIEW).body))
        naive = Image.open(io.BytesIO(naive_preview(source, 2048)))
        reference = reference_preview(source, ours.size)
        quality = {"psnr_ours_db": psnr(ours, reference), "psnr_naive_db": psnr(naive, reference)}
        figures[label] = {**result, **quality}
        rows.append(
            (
                f"{label} -> 2048 px",
                f"{result['ratio']:.2f}x (±{result['ratio_spread_pct']:.0f}%)",
                f"ours {result['target_s'] * 1000:.0f} ms, plain {result['anchor_s'] * 1000:.0f} ms"
                f" CPU; PSNR ours {quality['psnr_ours_db']:.1f} dB"
                f" (plain, no colour conversion: {quality['psnr_naive_db']:.1f} dB)",
            )
        )

    proof = alternate(lambda: naive_preview(p24, 1024), lambda: render(p24, PROOF_WM))
    watermark = alternate(lambda: render(p24, PROOF), lambda: render(p24, PROOF_WM))
    figures["proof_24mp_watermark"] = proof
    figures["watermark_cost"] = watermark
    rows.append(
        (
            "proof 24 MP -> 1024 px + watermark",
            f"{proof['ratio']:.2f}x (±{proof['ratio_spread_pct']:.0f}%)",
            f"watermark adds {100 * (watermark['ratio'] - 1):.1f}%",
        )
    )

    printed = alternate(lambda: naive_print(p24), lambda: render(p24, PRINT, PRINT_RECIPE))
    rss_naive, rss_ours = fresh_rss("naive", p24), fresh_rss("ours", p24)
    figures["print_24mp"] = {**printed, "rss_ours_mib": rss_ours, "rss_naive_mib": rss_naive}
    rows.append(
        (
            "print 10x8 @300 DPI (crop, bleed, ICC, q95)",
            f"{printed['ratio']:.2f}x (±{printed['ratio_spread_pct']:.0f}%)",
            f"peak RSS ours {rss_ours:.0f} MiB, plain {rss_naive:.0f} MiB (fresh process)",
        )
    )

    sources = [p24] * 8
    one, two = throughput(1, sources), throughput(2, sources)
    figures["workers"] = {"one_per_s": one, "two_per_s": two, "ratio": two / one}
    rows.append(
        (
            "two worker processes vs one",
            f"{two / one:.2f}x throughput",
            f"{one:.2f} -> {two:.2f} previews/s (24 MP)",
        )
    )
    report("render_worker", rows, figures)


if __name__ == "__main__":
    main()
