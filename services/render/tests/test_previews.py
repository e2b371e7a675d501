"""Previews: an import makes sRGB previews in the session's previews folder, announced once."""

from __future__ import annotations

from typing import Any

from PIL import Image

from kit.events.contracts.workflow import ImageRef, ImagesImported
from kit.events.envelope import Envelope, source_of
from render.imaging.pipeline import SRGB_ICC, open_source


async def test_imported_images_get_previews_and_one_event_even_when_the_import_comes_twice(
    render_service: Any, make_photo: Any, adobe_rgb: bytes, unique: str
) -> None:
    session = f"s-{unique}"
    async with render_service(preview_long_edge=512) as service:
        images = []
        for i in range(3):
            key = f"sessions/{session}/hires/IMG_{i:04d}.jpg"
            await service.upload(key, make_photo(1800, 1200, seed=i, icc=adobe_rgb))
            images.append(ImageRef(image_id=f"img{i}", key=key, folder="hires"))
        corrupt = f"sessions/{session}/hires/IMG_9999.jpg"
        await service.upload(corrupt, make_photo()[:1500])
        images.append(ImageRef(image_id="img9", key=corrupt, folder="hires"))
        event = Envelope.wrap(
            ImagesImported(session_id=session, images=images),
            subject=session,
            source=source_of("workflow"),
        )
        async with service.consuming(unique) as workflow:
            await workflow.send(event, event)
            [created] = await service.events(session, "render.previews.created.v1")
        data = created["data"]
        assert sorted(p["image_id"] for p in data["previews"]) == ["img0", "img1", "img2"]
        assert [f["image_id"] for f in data["failures"]] == ["img9"]
        assert "IMG_9999" in data["failures"][0]["key"]
        for preview in data["previews"]:
            assert preview["key"].startswith(f"sessions/{session}/previews/")
            image: Image.Image = open_source(await service.download(preview["key"]))
            assert image.size == (512, 341) == (preview["width"], preview["height"])
            assert image.info["icc_profile"] == SRGB_ICC
        # A duplicate would have followed the first at once; give it a few seconds to show.
        again = await service.events(session, "render.previews.created.v1", 2, timeout=4)
        assert len(again) == 1
