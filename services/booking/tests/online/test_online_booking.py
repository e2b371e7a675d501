"""A client books online: sees what is free, books as new or returning client, pays the
deposit to turn the hold into a booking; an unpaid hold lapses and frees the slot."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from kit.mongo import Document
from kit.settings import InfraSettings
from kit.testing import read_topic

from .conftest import (
    Booking,
    booking_request,
    created,
    database_of,
    monday_at,
    new_type,
    open_studio,
    pay_checkout,
)


async def test_a_visitor_sees_only_online_types_and_their_free_starts(
    booking: httpx.AsyncClient,
) -> None:
    online = await open_studio(booking, name="Mini")
    await new_type(booking, online["resource_ids"][0], deposit_minor=0, online=False, name="Staff")
    day_start, day_end = monday_at(0), monday_at(23)

    types = (await booking.get("/public/session-types")).json()
    free = await booking.get(
        f"/public/session-types/{online['id']}/availability",
        params={"start": day_start, "end": day_end},
    )

    assert [t["name"] for t in types] == ["Mini"]
    assert types[0]["description"] == "Mini session"
    assert free.status_code == 200, free.text
    starts = free.json()["starts"]
    # 9:00 to 16:00 every 30 minutes, one-hour sessions ending by 17:00.
    assert len(starts) == 15
    assert datetime.fromisoformat(starts[0]) == datetime.fromisoformat(monday_at(9))
    assert datetime.fromisoformat(starts[-1]) == datetime.fromisoformat(monday_at(16))


async def test_a_new_client_books_a_session_without_deposit_and_it_is_booked_at_once(
    booking: httpx.AsyncClient, mongo: AsyncMongoClient[Document]
) -> None:
    stype = await open_studio(booking)

    response = await booking.post(
        "/public/bookings", json=booking_request(stype["id"], monday_at(10), "ann@example.com")
    )

    confirmation = await created(response)
    assert confirmation["state"] == "booked"
    assert confirmation["deposit"] is None
    assert confirmation["session_number"].startswith("S")
    db = database_of(booking, mongo)
    client = await db["clients"].find_one({"_id": confirmation["client_id"]})
    assert client["email"] == "ann@example.com"
    assert client["last_name"] == "Lee"


async def test_a_returning_client_is_recognised_by_email_and_no_duplicate_is_created(
    booking: httpx.AsyncClient, mongo: AsyncMongoClient[Document]
) -> None:
    stype = await open_studio(booking)
    first = await created(
        await booking.post(
            "/public/bookings", json=booking_request(stype["id"], monday_at(10), "ann@example.com")
        )
    )

    second = await created(
        await booking.post(
            "/public/bookings",
            json=booking_request(stype["id"], monday_at(13), "  ANN@Example.com "),
        )
    )

    assert second["client_id"] == first["client_id"]
    assert await database_of(booking, mongo)["clients"].count_documents({}) == 1


async def test_a_deposit_booking_is_held_until_the_checkout_is_paid_then_booked(
    booking: httpx.AsyncClient, infra: InfraSettings, mongo: AsyncMongoClient[Document]
) -> None:
    stype = await open_studio(booking, deposit_minor=2500)

    held = await created(
        await booking.post(
            "/public/bookings", json=booking_request(stype["id"], monday_at(10), "bo@example.com")
        )
    )
    assert held["state"] == "held"
    assert held["hold_expires_at"] is not None
    assert held["deposit"]["amount_minor"] == 2500
    assert held["deposit"]["checkout_url"].startswith("https://")
    taken = await booking.post(
        "/public/bookings", json=booking_request(stype["id"], monday_at(10), "cy@example.com")
    )
    assert taken.status_code == 409
    # The second visitor's details are not kept for a booking that did not happen.
    assert await database_of(booking, mongo)["clients"].count_documents({}) == 1

    paid = await pay_checkout(booking, held["deposit"]["payment_id"])

    assert paid.json()["outcome"] == "applied"
    session = (await booking.get(f"/sessions/{held['session_id']}")).json()
    assert session["state"] == "booked"
    assert session["hold_expires_at"] is None
    records = await read_topic(infra.kafka_bootstrap, "booking.events", 100_000, timeout=5)
    booked = [json.loads(r.value)["type"] for r in records if r.key == held["session_id"].encode()]
    assert booked == ["booking.session.booked.v1"]


async def test_an_unpaid_hold_lapses_frees_the_slot_and_a_late_payment_is_refunded(
    booking_with: Booking, mongo: AsyncMongoClient[Document]
) -> None:
    async with booking_with(hold_minutes=0) as booking:
        stype = await open_studio(booking, deposit_minor=2500)
        lapsed = await created(
            await booking.post(
                "/public/bookings",
                json=booking_request(stype["id"], monday_at(10), "slow@example.com"),
            )
        )

        other = await booking.post(
            "/public/bookings",
            json=booking_request(stype["id"], monday_at(10), "quick@example.com"),
        )
        late = await pay_checkout(booking, lapsed["deposit"]["payment_id"])

        assert other.status_code == 201, other.text
        assert (await booking.get(f"/sessions/{lapsed['session_id']}")).json()["state"] == (
            "expired"
        )
        assert late.status_code == 200
        payment = (await booking.get(f"/payments/{lapsed['deposit']['payment_id']}")).json()
        assert payment["status"] == "refunded"
        assert payment["refunds"][0]["amount_minor"] == 2500


async def test_bad_online_bookings_are_refused_and_leave_nothing_behind(
    booking: httpx.AsyncClient, mongo: AsyncMongoClient[Document]
) -> None:
    stype = await open_studio(booking)
    staff_only = await new_type(
        booking, stype["resource_ids"][0], deposit_minor=0, online=False, name="Staff"
    )
    no_email: dict[str, Any] = booking_request(stype["id"], monday_at(10), "")
    bad_email = booking_request(stype["id"], monday_at(10), "not-an-email")
    naive_time = booking_request(stype["id"], monday_at(10)[:19], "a@example.com")
    too_soon = booking_request(stype["id"], "2020-01-06T10:00:00-06:00", "a@example.com")
    off_grid = booking_request(stype["id"], monday_at(10)[:14] + "03:00-06:00", "a@example.com")
    not_online = booking_request(staff_only["id"], monday_at(10), "a@example.com")

    answers = {
        name: await booking.post("/public/bookings", json=body)
        for name, body in {
            "no_email": no_email,
            "bad_email": bad_email,
            "naive_time": naive_time,
            "too_soon": too_soon,
            "not_online": not_online,
            "off_grid": off_grid,
        }.items()
    }

    assert {k: r.status_code for k, r in answers.items()} == {
        "no_email": 422,
        "bad_email": 422,
        "naive_time": 422,
        "too_soon": 422,
        "not_online": 404,
        "off_grid": 422,
    }
    assert all({"error", "message"} <= set(r.json()) for r in answers.values())
    assert "too soon" in answers["too_soon"].json()["message"]
    db = database_of(booking, mongo)
    assert await db["clients"].count_documents({}) == 0
    assert await db["sessions"].count_documents({}) == 0
