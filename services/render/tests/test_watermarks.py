"""Watermarks: an image mark from S3 (fetched once per key and ETag) and how marks composite."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image, ImageStat
from pydantic import ValidationError

from kit.settings import InfraSettings
from kit.storage import S3Storage
from render.imaging.pipeline import SourceImageError, open_source, render
from render.imaging.specs import FileFormat, OutputSize, RenderSpec, Watermark
from render.imaging.watermarks import (
    MarkImage,
    WatermarkImageError,
    decode_mark_image,
    fetch_mark_image,
)


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def half_red_mark() -> bytes:
    """100x50: opaque red on the left half, fully transparent on the right."""
    mark = Image.new("RGBA", (100, 50), (255, 0, 0, 0))
    mark.paste((255, 0, 0, 255), (0, 0, 50, 50))
    return png(mark)


def grey(width: int = 800, height: int = 600) -> bytes:
    return png(Image.new("RGB", (width, height), (60, 60, 60)))


def mean(image: Image.Image, box: tuple[int, int, int, int]) -> list[float]:
    return list(ImageStat.Stat(image.crop(box)).mean)


@pytest.fixture
async def images(storage: S3Storage, infra: InfraSettings) -> tuple[S3Storage, str]:
    await storage.ensure_bucket(infra.images_bucket)
    return storage, infra.images_bucket


def test_an_image_watermark_sits_in_its_corner_at_its_opacity_and_keeps_its_transparency() -> None:
    spec = RenderSpec(
        size=OutputSize(long_edge_px=800),
        watermark=Watermark(image_key="marks/logo.png", opacity=0.5, scale=0.25),
        format=FileFormat(kind="png"),
    )
    mark = decode_mark_image("marks/logo.png", '"e1"', half_red_mark())
    image = open_source(render(grey(), spec, mark=mark).body)
    # 200x100 at the bottom right, 3 % of 600 = 18 px from the edges: x 582..782, y 482..582.
    assert mean(image, (590, 490, 670, 575)) == pytest.approx([158, 30, 30], abs=2)
    assert mean(image, (690, 490, 775, 575)) == pytest.approx([60, 60, 60], abs=1)
    assert mean(image, (0, 0, 500, 400)) == pytest.approx([60, 60, 60], abs=1)


def test_a_tiled_image_watermark_repeats_over_the_picture() -> None:
    spec = RenderSpec(
        size=OutputSize(long_edge_px=800),
        watermark=Watermark(image_key="marks/logo.png", opacity=1, position="tiled", scale=0.1),
        format=FileFormat(kind="png"),
    )
    mark = decode_mark_image("marks/logo.png", '"e1"', half_red_mark())
    image = open_source(render(grey(), spec, mark=mark).body)
    for quarter in ((0, 0, 400, 300), (400, 300, 800, 600)):
        assert ImageStat.Stat(image.crop(quarter)).extrema[0][1] == 255


def test_an_image_watermark_that_was_not_fetched_fails_that_render_with_its_key() -> None:
    spec = RenderSpec(
        size=OutputSize(long_edge_px=400), watermark=Watermark(image_key="marks/logo.png")
    )
    with pytest.raises(SourceImageError, match=r"marks/logo\.png"):
        render(grey(), spec)


def test_a_watermark_is_a_text_or_an_image_not_both_nor_neither() -> None:
    with pytest.raises(ValidationError, match="either a text or an image_key"):
        Watermark()
    with pytest.raises(ValidationError, match="either a text or an image_key"):
        Watermark(text="PROOF", image_key="marks/logo.png")
    assert Watermark(text="PROOF").image_key is None


async def test_a_watermark_image_is_fetched_once_per_key_and_etag(
    images: tuple[S3Storage, str], unique: str
) -> None:
    s3, bucket = images
    key = f"marks/{unique}/logo.png"
    await s3.put(bucket, key, half_red_mark(), content_type="image/png")
    first = await fetch_mark_image(s3, bucket, key)
    again = await fetch_mark_image(s3, bucket, key)
    assert again is first  # the same decoded pixels: not downloaded again
    assert first.image.mode == "RGBA"
    assert first.image.size == (100, 50)

    # A new file under the same key has a new ETag: it is fetched, not served stale.
    await s3.put(bucket, key, png(Image.new("RGBA", (40, 40), (0, 0, 255, 255))))
    changed = await fetch_mark_image(s3, bucket, key)
    assert changed is not first
    assert changed.etag != first.etag
    assert changed.image.size == (40, 40)


async def test_a_missing_or_unreadable_watermark_image_says_which(
    images: tuple[S3Storage, str], unique: str
) -> None:
    s3, bucket = images
    with pytest.raises(WatermarkImageError, match=f"marks/{unique}/none.png"):
        await fetch_mark_image(s3, bucket, f"marks/{unique}/none.png")
    await s3.put(bucket, f"marks/{unique}/junk.png", b"not an image at all")
    with pytest.raises(WatermarkImageError, match="not a readable"):
        await fetch_mark_image(s3, bucket, f"marks/{unique}/junk.png")


def test_a_mark_image_is_matched_to_the_profiles_key() -> None:
    spec = RenderSpec(
        size=OutputSize(long_edge_px=400), watermark=Watermark(image_key="marks/logo.png")
    )
    other = MarkImage(key="marks/other.png", etag='"e"', image=Image.new("RGBA", (10, 10)))
    with pytest.raises(SourceImageError, match="was not provided"):
        render(grey(), spec, mark=other)


async def test_a_run_stamps_the_profiles_image_watermark_and_follows_a_changed_file(
    render_service: Any, unique: str
) -> None:
    session = f"s-{unique}"
    key, mark_key = f"sessions/{session}/hires/IMG_0001.png", f"marks/{unique}/logo.png"
    async with render_service() as service:
        await service.upload(key, grey())
        await service.upload(mark_key, half_red_mark())
        proof = await service.profile(
            size={"long_edge_px": 800},
            watermark={"image_key": mark_key, "opacity": 1, "scale": 0.25},
            format={"kind": "png"},
        )
        job = await service.job(
            name="Proofs", entity_kind="session", select_status="x", profile_ids=[proof["id"]]
        )
        request = {"job_id": job["id"], "entity_id": session, "session_id": session, "keys": [key]}

        async def run() -> dict[str, Any]:
            answer = await service.http.post("/runs", json=request)
            settled: dict[str, Any] = await service.settled(answer.json()["id"])
            return settled

        async def corner(run: dict[str, Any]) -> list[float]:
            body = await service.download(run["outputs"][0]["key"])
            return mean(open_source(body).convert("RGB"), (590, 490, 670, 575))

        async with service.workers("w1"):
            first = await run()
            assert await corner(first) == pytest.approx([255, 0, 0], abs=1)
            unchanged = await run()
            assert unchanged["outputs"][0].get("reused_from") == first["id"]

            blue = png(Image.new("RGBA", (100, 50), (0, 0, 255, 255)))
            await service.upload(mark_key, blue)  # the same key, a new file (a new ETag)
            second = await run()
            assert "reused_from" not in second["outputs"][0]
            assert await corner(second) == pytest.approx([0, 0, 255], abs=1)

            await service.ctx.storage.delete(service.infra.images_bucket, mark_key)
            third = await run()
        assert third["status"] == "failed"
        assert mark_key in third["failures"][0]["reason"]
