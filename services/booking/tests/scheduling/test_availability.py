"""What a client or the front desk sees as bookable: opening hours in the studio's time zone,
closures, other bookings and their buffers, and holds that lapse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from booking.scheduling.repository import SchedulingRepository
from booking.scheduling.schemas import BookSession
from booking.scheduling.service import SchedulingService

# The fixture's studio is in America/Chicago: 1 March 2027 is a Monday, UTC-6 (before DST).
WEEK = {"start": "2027-03-01T00:00:00-06:00", "end": "2027-03-08T00:00:00-06:00"}


def local_hours(starts: list[dict[str, Any]], day: str) -> list[str]:
    """The starts on one local day, as local HH:MM."""
    chicago = timedelta(hours=-6)
    out = []
    for start in starts:
        moment = datetime.fromisoformat(start["starts_at"]) + chicago
        if moment.date().isoformat() == day:
            out.append(moment.strftime("%H:%M"))
    return out


async def test_availability_follows_the_hours_closures_and_other_bookings_with_their_buffers(
    booking: httpx.AsyncClient,
    new_resource: Any,
    open_weekdays: Any,
    new_session_type: Any,
    new_client: Any,
) -> None:
    ann, bea = await new_resource("Ann", "photographer"), await new_resource("Bea", "photographer")
    await open_weekdays(ann["id"], bea["id"], opens="09:00", closes="12:00")
    stype = await new_session_type(
        ann["id"], bea["id"], duration_minutes=60, buffer_after_minutes=30, start_every_minutes=30
    )
    holiday = await booking.post(
        "/closures",
        json={"first_day": "2027-03-03", "last_day": "2027-03-03", "reason": "Ash Wednesday"},
    )
    assert holiday.status_code == 201
    only_ann_off = await booking.post(
        "/closures",
        json={
            "resource_id": ann["id"],
            "first_day": "2027-03-02",
            "last_day": "2027-03-02",
            "reason": "leave",
        },
    )
    assert only_ann_off.status_code == 201
    # Ann is booked Monday 10:00-11:00, so with the buffer she is busy until 11:30.
    booked = await booking.post(
        "/sessions",
        json={
            "client_id": (await new_client())["id"],
            "session_type_id": stype["id"],
            "starts_at": "2027-03-01T10:00:00-06:00",
            "resource_ids": [ann["id"]],
        },
    )
    assert booked.status_code == 201

    response = await booking.get("/availability", params={"session_type_id": stype["id"], **WEEK})
    assert response.status_code == 200
    starts = response.json()["starts"]
    by_time = {(s["starts_at"]): set(s["resource_ids"]) for s in starts}

    # Monday: starts from 9:00 to 11:00 (a 60-minute session must end by 12:00). Ann cannot
    # start at 9:00 or 9:30 (the session plus its buffer would run into her 10:00 booking),
    # nor before 11:30 after it; Bea can take every one.
    assert local_hours(starts, "2027-03-01") == ["09:00", "09:30", "10:00", "10:30", "11:00"]
    assert by_time["2027-03-01T15:00:00Z"] == {
        bea["id"]
    }  # 09:00 local: Ann's buffer would hit 10:00
    assert by_time["2027-03-01T17:00:00Z"] == {bea["id"]}  # 11:00 local: Ann busy until 11:30
    # Tuesday: Ann is off, Bea is not.
    assert all(
        s["resource_ids"] == [bea["id"]] for s in starts if s["starts_at"].startswith("2027-03-02")
    )
    assert local_hours(starts, "2027-03-02") == ["09:00", "09:30", "10:00", "10:30", "11:00"]
    # Wednesday: the whole studio is closed. Weekend: no hours.
    assert local_hours(starts, "2027-03-03") == []
    assert local_hours(starts, "2027-03-06") == []
    assert local_hours(starts, "2027-03-07") == []


async def test_availability_refuses_ranges_that_make_no_sense(
    booking: httpx.AsyncClient, new_resource: Any, new_session_type: Any
) -> None:
    room = await new_resource()
    stype = await new_session_type(room["id"])
    backwards = await booking.get(
        "/availability",
        params={"session_type_id": stype["id"], "start": WEEK["end"], "end": WEEK["start"]},
    )
    assert backwards.status_code == 422
    too_long = await booking.get(
        "/availability",
        params={
            "session_type_id": stype["id"],
            "start": "2026-01-01T00:00:00Z",
            "end": "2026-06-01T00:00:00Z",
        },
    )
    assert too_long.status_code == 422
    unknown = await booking.get("/availability", params={"session_type_id": "nope", **WEEK})
    assert unknown.status_code == 404
    naive = await booking.get(
        "/availability",
        params={"session_type_id": stype["id"], "start": "2027-03-01T00:00:00", "end": WEEK["end"]},
    )
    assert naive.status_code == 422


async def test_an_unpaid_hold_expires_and_frees_the_slot_for_the_next_client(
    booking: httpx.AsyncClient,
    booking_db: Any,
    new_resource: Any,
    open_weekdays: Any,
    new_session_type: Any,
    new_client: Any,
) -> None:
    room = await new_resource()
    await open_weekdays(room["id"])
    stype = await new_session_type(room["id"])
    first, second = await new_client(), await new_client()
    service = SchedulingService(SchedulingRepository(booking_db), timezone="America/Chicago")
    start = datetime(2027, 3, 1, 16, 0, tzinfo=UTC)

    held = await service.book(
        BookSession(client_id=first["id"], session_type_id=stype["id"], starts_at=start),
        hold_until=datetime.now(UTC) + timedelta(minutes=30),
    )
    assert held.state == "held"
    taken = await booking.post(
        "/sessions",
        json={
            "client_id": second["id"],
            "session_type_id": stype["id"],
            "starts_at": start.isoformat(),
        },
    )
    assert taken.status_code == 409  # a live hold keeps the slot

    await booking_db["sessions"].update_one(
        {"_id": held.id}, {"$set": {"hold_expires_at": datetime.now(UTC) - timedelta(seconds=1)}}
    )
    availability = await booking.get(
        "/availability",
        params={
            "session_type_id": stype["id"],
            "start": "2027-03-01T09:00:00-06:00",
            "end": "2027-03-01T12:00:00-06:00",
        },
    )
    assert "2027-03-01T16:00:00Z" in [s["starts_at"] for s in availability.json()["starts"]]

    rebooked = await booking.post(
        "/sessions",
        json={
            "client_id": second["id"],
            "session_type_id": stype["id"],
            "starts_at": start.isoformat(),
        },
    )
    assert rebooked.status_code == 201, rebooked.text
    assert (await booking.get(f"/sessions/{held.id}")).json()["state"] == "expired"
    assert await service.sweep() == 0  # nothing left for the sweeper


async def test_the_sweeper_clears_what_a_crash_left_half_way(
    booking_db: Any, new_resource: Any, open_weekdays: Any, new_session_type: Any, new_client: Any
) -> None:
    room = await new_resource()
    await new_session_type(room["id"])
    service = SchedulingService(SchedulingRepository(booking_db), timezone="UTC")
    repo = SchedulingRepository(booking_db)
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    # A booking that died after claiming but before it got its number.
    await booking_db["sessions"].insert_one(
        {
            "_id": "crashed",
            "state": "pending",
            "created_at": long_ago,
            "number": None,
            "version": 0,
            "claims_released": False,
        }
    )
    await repo.claim(
        "crashed",
        [room["id"]],
        datetime(2026, 3, 2, 16, tzinfo=UTC),
        datetime(2026, 3, 2, 17, tzinfo=UTC),
    )
    assert await booking_db["resource_claims"].count_documents({"session_id": "crashed"}) == 12

    assert await service.sweep() == 1
    assert await booking_db["resource_claims"].count_documents({"session_id": "crashed"}) == 0
    assert await booking_db["sessions"].count_documents({"_id": "crashed"}) == 0
