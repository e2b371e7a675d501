"""What a calendar needs to draw opening hours: the studio's time zone and the granule."""

from __future__ import annotations

import httpx


async def test_the_scheduling_settings_name_the_studios_time_zone(
    booking: httpx.AsyncClient,
) -> None:
    answer = await booking.get("/scheduling-settings")

    assert answer.status_code == 200
    assert answer.json() == {"timezone": "America/Chicago", "granule_minutes": 5}
