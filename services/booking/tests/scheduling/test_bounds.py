"""Numbers past what MongoDB stores (64-bit integers) are the caller's mistake, a clear 422: `make
fuzz` found a session type's deposit of 131342017626519732224 answered 500."""

from __future__ import annotations

from typing import Any

import httpx


async def test_a_deposit_or_version_past_any_real_value_is_a_clear_422(
    booking: httpx.AsyncClient, new_resource: Any, new_session_type: Any
) -> None:
    room = await new_resource("Studio A")
    stype = await new_session_type(room["id"])
    body = {"name": "Senior portraits", "duration_minutes": 60, "resource_ids": [room["id"]]}

    for deposit in (100_000_000, 131342017626519732224):
        edited = await booking.put(
            f"/session-types/{stype['id']}", json={**body, "deposit_minor": deposit}
        )
        assert edited.status_code == 422, deposit
        assert edited.json()["detail"][0]["location"] == ["body", "deposit_minor"]
        added = await booking.post("/session-types", json={**body, "deposit_minor": deposit})
        assert added.status_code == 422, deposit

    largest = await booking.put(
        f"/session-types/{stype['id']}", json={**body, "deposit_minor": 99_999_999}
    )
    assert (largest.status_code, largest.json()["deposit_minor"]) == (200, 99_999_999)

    moved = await booking.post(
        "/sessions/any/reschedule",
        json={"starts_at": "2027-03-01T16:00:00Z", "version": 2**70},
    )
    assert moved.status_code == 422
    assert moved.json()["detail"][0]["location"] == ["body", "version"]
