"""The booking service in-process against the real servers (stripe-mock for Stripe), a
studio with a deposit-taking session type, and Stripe webhook events signed with the
service's own secret."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from booking.config import BookingSettings
from booking.testing import checkout_completed as paid_checkout
from booking.testing import stripe_signature
from kit.mongo import Document
from kit.testing import build_app, running

# Monday 2 March 2026, 10:00 in Chicago (CST, UTC-6).
MONDAY_10 = "2026-03-02T10:00:00-06:00"
WEBHOOK = "/public/payments/stripe-webhook"


@pytest.fixture
async def booking(
    unique: str, mongo: AsyncMongoClient[Document]
) -> AsyncIterator[httpx.AsyncClient]:
    database = f"t_{unique}"
    app = build_app("booking", database=database, timezone="America/Chicago")
    try:
        async with running(app) as client:
            client.headers["X-Test-Database"] = database
            yield client
    finally:
        await mongo.drop_database(database)


@pytest.fixture
def booking_db(booking: httpx.AsyncClient, mongo: AsyncMongoClient[Document]) -> Any:
    return mongo[booking.headers["X-Test-Database"]]


def webhook_secret() -> str:
    return BookingSettings().secret("stripe_webhook_secret")


def signed(body: bytes, *, secret: str | None = None, at: int | None = None) -> dict[str, str]:
    return stripe_signature(body, secret or webhook_secret(), at=at)


def checkout_completed(payment: dict[str, Any], event_id: str | None = None) -> bytes:
    return paid_checkout(
        payment["id"], checkout_session=payment["stripe_checkout_session"], event_id=event_id
    )


Send = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
def send_webhook(booking: httpx.AsyncClient) -> Send:
    async def send(body: bytes, **signing: Any) -> httpx.Response:
        return await booking.post(WEBHOOK, content=body, headers=signed(body, **signing))

    return send


async def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


Studio = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def booked_session(booking: httpx.AsyncClient, booking_db: Any) -> Studio:
    """A room open on weekdays, a session type with a deposit, a client, a booked session."""

    async def make(deposit_minor: int = 5000, starts_at: str = MONDAY_10) -> dict[str, Any]:
        room = await created(await booking.post("/resources", json={"name": "A", "kind": "room"}))
        hours = {
            "resource_ids": [room["id"]],
            "weekdays": [0, 1, 2, 3, 4],
            "opens": "09:00",
            "closes": "17:00",
            "valid_from": "2026-01-01",
        }
        assert (await booking.post("/opening-hours", json=hours)).status_code == 201
        stype = await created(
            await booking.post(
                "/session-types",
                json={
                    "name": "Family portraits",
                    "duration_minutes": 60,
                    "deposit_minor": deposit_minor,
                    "currency": "usd",
                    "resource_ids": [room["id"]],
                },
            )
        )
        client_id = str(uuid.uuid4())
        await booking_db["clients"].insert_one(
            {"_id": client_id, "first_name": "Ann", "last_name": "Lee"}
        )
        session = await created(
            await booking.post(
                "/sessions",
                json={
                    "client_id": client_id,
                    "session_type_id": stype["id"],
                    "starts_at": starts_at,
                },
            )
        )
        return {"session": session, "session_type": stype, "client_id": client_id}

    return make
