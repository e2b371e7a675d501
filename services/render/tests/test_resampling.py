"""The pipeline's resizing: bands of rows equal one whole resize; big PNGs are reduced first."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops, ImageStat

from render.imaging import pipeline
from render.imaging.pipeline import open_source
from render.imaging.specs import FileFormat, OutputSize, RenderSpec


def test_a_banded_resize_is_the_same_picture_as_one_resize(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = Image.effect_noise((1200, 900), 80).convert("RGB")
    box = (60.0, 45.0, 1140.0, 855.0)
    whole = source.resize((720, 540), pipeline.RESIZE_FILTER, box=box)
    monkeypatch.setattr(pipeline, "BAND_FROM", 0)
    monkeypatch.setattr(pipeline, "BAND_ROWS", 50)  # 11 bands, the last one short
    banded = pipeline.resample(source, (720, 540), box)
    assert banded.size == whole.size
    assert ImageChops.difference(banded, whole).getbbox() is None


def test_a_large_png_is_box_reduced_first_and_comes_out_like_a_straight_resize() -> None:
    gradient = Image.linear_gradient("L").resize((2400, 1600))
    source = Image.merge("RGB", (gradient, gradient.rotate(180), gradient.transpose(0)))
    buffer = io.BytesIO()
    source.save(buffer, "PNG")
    spec = RenderSpec(size=OutputSize(long_edge_px=300), format=FileFormat(kind="png"))
    out = open_source(pipeline.render(buffer.getvalue(), spec).body).convert("RGB")
    straight = source.resize((300, 200), Image.Resampling.LANCZOS)
    assert out.size == (300, 200)
    difference = ImageStat.Stat(ImageChops.difference(out, straight))
    assert max(difference.mean) < 1.5
