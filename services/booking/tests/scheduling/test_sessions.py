"""Booking, rescheduling and cancelling sessions: never a double booking, events for each."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import httpx

from booking.scheduling.service import client_name
from kit.settings import InfraSettings
from kit.testing import read_topic

# Monday 2 March 2026, 10:00 in Chicago (CST, UTC-6) is 16:00 UTC.
MONDAY_10 = "2026-03-02T10:00:00-06:00"
MONDAY_11 = "2026-03-02T11:00:00-06:00"
MONDAY_12 = "2026-03-02T12:00:00-06:00"


async def studio(
    new_resource: Any, open_weekdays: Any, new_session_type: Any, new_client: Any
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    room = await new_resource("Studio A")
    await open_weekdays(room["id"])
    stype = await new_session_type(room["id"])
    client = await new_client()
    return room, stype, client


def booking_of(
    client: dict[str, Any], stype: dict[str, Any], starts_at: str = MONDAY_10, **more: Any
) -> dict[str, Any]:
    return {
        "client_id": client["id"],
        "session_type_id": stype["id"],
        "starts_at": starts_at,
        **more,
    }


async def events_for(infra: InfraSettings, subject: str, count: int) -> list[dict[str, Any]]:
    records = await read_topic(infra.kafka_bootstrap, "booking.events", 100_000, timeout=5)
    found = [json.loads(r.value) for r in records if r.key == subject.encode()]
    return found[:count] if len(found) >= count else found


async def test_two_hundred_concurrent_attempts_at_one_slot_give_one_booking_and_199_conflicts(
    booking: httpx.AsyncClient,
    booking_db: Any,
    new_resource: Any,
    open_weekdays: Any,
    new_session_type: Any,
    new_client: Any,
) -> None:
    _room, stype, _ = await studio(new_resource, open_weekdays, new_session_type, new_client)
    clients = [await new_client(email=f"c{i}@example.com") for i in range(200)]

    responses = await asyncio.gather(
        *(booking.post("/sessions", json=booking_of(c, stype)) for c in clients)
    )

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: 199}
    conflicts = [r.json() for r in responses if r.status_code == 409]
    assert all(
        c["error"] == "conflict" and c["message"] == "That time is not free." for c in conflicts
    )
    assert await booking_db["sessions"].count_documents({"state": "booked"}) == 1
    assert await booking_db["sessions"].count_documents({}) == 1  # the losers left nothing behind
    # One hour plus a 15-minute buffer, in 5-minute granules, claimed once.
    assert await booking_db["resource_claims"].count_documents({}) == 15


async def test_a_booked_session_gets_the_next_number_and_announces_itself_once(
    booking: httpx.AsyncClient,
    infra: InfraSettings,
    new_resource: Any,
    open_weekdays: Any,
    new_session_type: Any,
    new_client: Any,
) -> None:
    room, stype, client = await studio(new_resource, open_weekdays, new_session_type, new_client)
    first = (
        await booking.post("/sessions", json=booking_of(client, stype, location="Riverside Park"))
    ).json()
    assert first["number"] == "S10001"
    assert first["state"] == "booked"
    assert first["starts_at"] == "2026-03-02T16:00:00Z"
    assert first["ends_at"] == "2026-03-02T17:00:00Z"
    assert first["resource_ids"] == [room["id"]]

    cancelled = await booking.post(f"/sessions/{first['id']}/cancel", json={"reason": "illness"})
    assert cancelled.status_code == 200
    second = (await booking.post("/sessions", json=booking_of(client, stype))).json()
    assert second["number"] == "S10002"  # numbers are never reused

    events = await events_for(infra, first["id"], 2)
    assert [e["type"] for e in events] == [
        "booking.session.booked.v1",
        "booking.session.cancelled.v1",
    ]
    booked = events[0]["data"]
    assert booked["session_number"] == "S10001"
    assert booked["location"] == "Riverside Park"
    assert booked["client_id"] == client["id"]
    assert booked["client_name"] == "Ann Lee"  # for workflow's session cards
    assert events[1]["data"]["reason"] == "illness"


async def test_rescheduling_moves_the_claim_and_frees_the_old_time(
    booking: httpx.AsyncClient,
    booking_db: Any,
    infra: InfraSettings,
    new_resource: Any,
    open_weekdays: Any,
    new_session_type: Any,
    new_client: Any,
) -> None:
    _room, stype, client = await studio(new_resource, open_weekdays, new_session_type, new_client)
    other = await new_client(email="b@example.com")
    session = (await booking.post("/sessions", json=booking_of(client, stype))).json()

    moved = await booking.post(
        f"/sessions/{session['id']}/reschedule",
        json={"starts_at": MONDAY_12, "version": session["version"]},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["starts_at"] == "2026-03-02T18:00:00Z"
    assert await booking_db["resource_claims"].count_documents({"session_id": session["id"]}) == 15

    # The old time is free for someone else; the new one is not.
    assert (await booking.post("/sessions", json=booking_of(other, stype))).status_code == 201
    assert (
        await booking.post("/sessions", json=booking_of(other, stype, MONDAY_12))
    ).status_code == 409

    stale = await booking.post(
        f"/sessions/{session['id']}/reschedule",
        json={"starts_at": MONDAY_10, "version": session["version"]},
    )
    assert stale.status_code == 409  # the caller's version is old
    assert stale.json()["detail"] == {"version": moved.json()["version"]}

    events = await events_for(infra, session["id"], 2)
    assert events[1]["type"] == "booking.session.rescheduled.v1"
    assert events[1]["data"]["starts_at"] == "2026-03-02T18:00:00Z"
    assert events[1]["data"]["client_name"] == "Ann Lee"


def test_a_client_is_named_by_first_and_last_name_else_by_the_organization() -> None:
    assert client_name({"first_name": "Ann", "last_name": None}) == "Ann"
    assert client_name({"last_name": "Lee", "organization": "Lee & Co"}) == "Lee"
    assert client_name({"organization": "Lee & Co"}) == "Lee & Co"
    assert client_name({"first_name": "", "organization": None}) is None
    assert client_name(None) is None


async def test_rescheduling_into_a_taken_time_changes_nothing(
    booking: httpx.AsyncClient,
    booking_db: Any,
    new_resource: Any,
    open_weekdays: Any,
    new_session_type: Any,
    new_client: Any,
) -> None:
    _room, stype, client = await studio(new_resource, open_weekdays, new_session_type, new_client)
    mine = (await booking.post("/sessions", json=booking_of(client, stype))).json()
    theirs = (
        await booking.post(
            "/sessions", json=booking_of(await new_client(), stype, "2026-03-02T11:30:00-06:00")
        )
    ).json()
    claims_before = await booking_db["resource_claims"].count_documents({"session_id": mine["id"]})

    # 10:45 would overlap theirs at 11:30 through the 15-minute buffer.
    refused = await booking.post(
        f"/sessions/{mine['id']}/reschedule",
        json={"starts_at": "2026-03-02T10:30:00-06:00", "version": mine["version"]},
    )
    assert refused.status_code == 409
    assert (await booking.get(f"/sessions/{mine['id']}")).json() == mine
    assert (
        await booking_db["resource_claims"].count_documents({"session_id": mine["id"]})
        == claims_before
    )
    assert (await booking.get(f"/sessions/{theirs['id']}")).json()["state"] == "booked"


async def test_bad_bookings_get_clear_errors_and_store_nothing(
    booking: httpx.AsyncClient,
    booking_db: Any,
    new_resource: Any,
    open_weekdays: Any,
    new_session_type: Any,
    new_client: Any,
) -> None:
    _room, stype, client = await studio(new_resource, open_weekdays, new_session_type, new_client)

    off_grid = await booking.post(
        "/sessions", json=booking_of(client, stype, "2026-03-02T10:03:00-06:00")
    )
    assert off_grid.status_code == 422
    assert off_grid.json()["message"] == "Sessions start on whole 5-minute marks."

    naive = await booking.post("/sessions", json=booking_of(client, stype, "2026-03-02T10:00:00"))
    assert naive.status_code == 422
    assert naive.json()["error"] == "validation_error"

    closed = await booking.post(
        "/sessions", json=booking_of(client, stype, "2026-03-07T10:00:00-06:00")
    )  # Saturday
    assert closed.status_code == 409
    assert "closed then" in closed.json()["detail"]["unavailable"][0]

    nobody = await booking.post(
        "/sessions", json={**booking_of(client, stype), "client_id": "no-such-client"}
    )
    assert nobody.status_code == 422

    no_type = await booking.post(
        "/sessions", json={**booking_of(client, stype), "session_type_id": "nope"}
    )
    assert no_type.status_code == 422

    unknown_field = await booking.post(
        "/sessions", json={**booking_of(client, stype), "colour": "red"}
    )
    assert unknown_field.status_code == 422

    missing = await booking.post("/sessions/nope/cancel", json={"reason": "x"})
    assert missing.status_code == 404

    assert await booking_db["sessions"].count_documents({}) == 0
    assert await booking_db["resource_claims"].count_documents({}) == 0

    # Staff may book outside the hours when they say so.
    saturday = await booking.post(
        "/sessions", json=booking_of(client, stype, "2026-03-07T10:00:00-06:00", outside_hours=True)
    )
    assert saturday.status_code == 201


async def test_a_cancelled_session_cannot_be_cancelled_or_moved_again(
    booking: httpx.AsyncClient,
    new_resource: Any,
    open_weekdays: Any,
    new_session_type: Any,
    new_client: Any,
) -> None:
    _room, stype, client = await studio(new_resource, open_weekdays, new_session_type, new_client)
    session = (await booking.post("/sessions", json=booking_of(client, stype))).json()
    cancelled = (
        await booking.post(f"/sessions/{session['id']}/cancel", json={"reason": "moved away"})
    ).json()
    assert cancelled["state"] == "cancelled"

    again = await booking.post(f"/sessions/{session['id']}/cancel", json={"reason": "again"})
    assert again.status_code == 409
    assert again.json()["error"] == "invalid_transition"
    move = await booking.post(
        f"/sessions/{session['id']}/reschedule",
        json={"starts_at": MONDAY_11, "version": cancelled["version"]},
    )
    assert move.status_code == 409
    # The time is free again.
    assert (
        await booking.post("/sessions", json=booking_of(await new_client(), stype))
    ).status_code == 201
