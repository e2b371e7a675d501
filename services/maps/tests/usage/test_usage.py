"""The studio reads its usage month by month, like the desktop suite's billing statement."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from maps.usage.repository import UsageLedger


async def test_usage_is_reported_by_month(maps: Any) -> None:
    ledger = UsageLedger(maps.db)
    await ledger.record(
        location_lookups=1000, map_lookups=1, at=datetime(2026, 1, 31, 23, tzinfo=UTC)
    )
    await ledger.record(map_lookups=1, at=datetime(2026, 2, 1, 0, 30, tzinfo=UTC))
    await ledger.record(location_lookups=7, map_lookups=1, at=datetime(2026, 2, 14, tzinfo=UTC))
    await ledger.record(location_lookups=3, map_lookups=1, at=datetime(2025, 12, 1, tzinfo=UTC))

    report = (await maps.http.get("/usage", params={"since": "2026-01", "until": "2026-02"})).json()
    assert report["months"] == [
        {"month": "2026-01", "location_lookups": 1000, "map_lookups": 1},
        {"month": "2026-02", "location_lookups": 7, "map_lookups": 2},
    ]
    assert (report["location_lookups"], report["map_lookups"]) == (1007, 3)

    whole = (await maps.http.get("/usage", params={"until": "2026-02"})).json()
    assert (whole["since"], whole["until"]) == ("2025-03", "2026-02")
    assert [m["month"] for m in whole["months"]] == ["2025-12", "2026-01", "2026-02"]


async def test_a_bad_usage_period_gets_a_clear_4xx(maps: Any) -> None:
    backwards = await maps.http.get("/usage", params={"since": "2026-05", "until": "2026-01"})
    assert backwards.status_code == 400
    assert backwards.json()["detail"] == {"since": "2026-05", "until": "2026-01"}
    for bad in ("2026-13", "May 2026", "2026-5"):
        response = await maps.http.get("/usage", params={"since": bad})
        assert response.status_code == 422, bad
        assert response.json()["error"] == "validation_error"
