"""The worker's limits: the memory cap refuses an image with a reason; hours of operation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from render.config import RenderSettings
from render.imaging.pipeline import SourceImageError
from render.runs.service import refuse_over_cap
from render.worker import within_hours


def test_an_image_whose_pixels_pass_the_memory_cap_is_refused_with_the_reason(
    make_photo: Any,
) -> None:
    photo = make_photo(1500, 1000)  # 4.3 MB of RGB pixels
    refuse_over_cap(photo, 5)
    with pytest.raises(SourceImageError, match=r"1500x1000.*memory cap of 4 MB"):
        refuse_over_cap(photo, 4)


def test_hours_of_operation_may_wrap_midnight() -> None:
    def at(hour: int, start: int | None, end: int | None) -> bool:
        settings = RenderSettings(worker_hours_start=start, worker_hours_end=end)
        return within_hours(settings, datetime(2026, 1, 1, hour))

    assert at(3, None, None)
    assert at(9, 8, 18)
    assert not at(18, 8, 18)
    assert at(23, 22, 6)
    assert at(5, 22, 6)
    assert not at(12, 22, 6)
