"""Today without a browser: the studio's day is its own time zone's, not UTC's; the sessions
of the day are listed by resource at their time on the studio's clock."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import httpx
from seeded_session import owner_token
from web_harness import WebClient, WebPlatform, html, text_of

from web.screens.today import studio_day


def test_the_studios_day_starts_at_its_own_midnight() -> None:
    evening_in_utc = dt.datetime(2026, 12, 2, 20, 0, tzinfo=dt.UTC)  # 09:00 on the 3rd there

    day, start, end = studio_day(ZoneInfo("Pacific/Auckland"), evening_in_utc)
    west, west_start, _ = studio_day(ZoneInfo("America/Chicago"), evening_in_utc)

    assert day == dt.date(2026, 12, 3)
    assert start == dt.datetime(2026, 12, 2, 11, 0, tzinfo=dt.UTC)
    assert end - start == dt.timedelta(hours=24)
    assert west == dt.date(2026, 12, 2)
    assert west_start == dt.datetime(2026, 12, 2, 6, 0, tzinfo=dt.UTC)


async def test_todays_sessions_are_listed_by_resource_at_their_studio_time(
    studio: WebPlatform, staff: WebClient
) -> None:
    token = await owner_token(studio.gateway)
    async with httpx.AsyncClient(
        base_url=studio.gateway, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as api:
        zone = ZoneInfo((await api.get("/api/booking/scheduling-settings")).json()["timezone"])
        day, start, end = studio_day(zone, dt.datetime.now(dt.UTC))
        sessions = (
            await api.get(
                "/api/booking/sessions", params={"start": start.isoformat(), "end": end.isoformat()}
            )
        ).json()
    page = await staff.get("/")
    listed = [t.text() for t in html(page).css("section[aria-labelledby=t-sessions] li time")]
    expected = sorted(
        dt.datetime.fromisoformat(s["starts_at"]).astimezone(zone).strftime("%H:%M")
        for s in sessions
        if s["state"] != "cancelled"
        for _ in (s["resource_ids"] or ["-"])
    )

    assert page.status_code == 200
    assert f"{day.isoformat()}, {zone.key}" in text_of(page, "h1")
    assert sorted(listed) == expected
