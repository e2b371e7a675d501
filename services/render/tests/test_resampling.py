"""The pipeline's resize in bands of rows equals one whole resize (only memory differs)."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops

from render.imaging import pipeline


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
