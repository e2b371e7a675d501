"""The booking service in-process against the real servers, a studio open on weekdays with
online session types, and signed Stripe webhook events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from pymongo import AsyncMongoClient

from booking.config import BookingSettings
from booking.testing import checkout_completed, stripe_event, stripe_signature
from kit.mongo import Document
from kit.testing import build_app, running

CHICAGO = ZoneInfo("America/Chicago")
WEBHOOK = "/public/payments/stripe-webhook"


def monday_at(hour: int, weeks_ahead: int = 2) -> str:
    """A Monday at least `weeks_ahead` weeks from now, `hour`:00 in Chicago, ISO with offset."""
    today = datetime.now(CHICAGO).date()
    monday = today + timedelta(days=7 * weeks_ahead - today.weekday())
    return datetime(monday.year, monday.month, monday.day, hour, tzinfo=CHICAGO).isoformat()


Booking = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def booking_with(unique: str, mongo: AsyncMongoClient[Document]) -> Booking:
    """The service with settings overridden (e.g. hold_minutes=0), in its own database."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        database = f"t_{unique}"
        app = build_app("booking", database=database, timezone="America/Chicago", **overrides)
        try:
            async with running(app) as client:
                client.headers["X-Test-Database"] = database
                yield client
        finally:
            await mongo.drop_database(database)

    return start


@pytest.fixture
async def booking(booking_with: Booking) -> AsyncIterator[httpx.AsyncClient]:
    async with booking_with() as client:
        yield client


def database_of(client: httpx.AsyncClient, mongo: AsyncMongoClient[Document]) -> Any:
    return mongo[client.headers["X-Test-Database"]]


async def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def open_studio(
    client: httpx.AsyncClient, *, deposit_minor: int = 0, online: bool = True, name: str = "Mini"
) -> dict[str, Any]:
    """A room open 9-17 on weekdays and a one-hour session type in it."""
    room = await created(await client.post("/resources", json={"name": "A", "kind": "room"}))
    hours = {
        "resource_ids": [room["id"]],
        "weekdays": [0, 1, 2, 3, 4],
        "opens": "09:00",
        "closes": "17:00",
        "valid_from": "2026-01-01",
    }
    assert (await client.post("/opening-hours", json=hours)).status_code == 201
    return await new_type(client, room["id"], deposit_minor=deposit_minor, online=online, name=name)


async def new_type(
    client: httpx.AsyncClient, room_id: str, *, deposit_minor: int, online: bool, name: str
) -> dict[str, Any]:
    return await created(
        await client.post(
            "/session-types",
            json={
                "name": name,
                "duration_minutes": 60,
                "deposit_minor": deposit_minor,
                "bookable_online": online,
                "online_description": f"{name} session",
                "resource_ids": [room_id],
            },
        )
    )


def booking_request(type_id: str, starts_at: str, email: str, **client: Any) -> dict[str, Any]:
    return {
        "session_type_id": type_id,
        "starts_at": starts_at,
        "client": {"email": email, "first_name": "Ann", "last_name": "Lee", **client},
    }


def signed_event(event_type: str, obj: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    body = stripe_event(event_type, obj)
    return body, stripe_signature(body, BookingSettings().secret("stripe_webhook_secret"))


async def pay_checkout(client: httpx.AsyncClient, payment_id: str) -> httpx.Response:
    body = checkout_completed(payment_id)
    secret = BookingSettings().secret("stripe_webhook_secret")
    return await client.post(WEBHOOK, content=body, headers=stripe_signature(body, secret))


Pay = Callable[[httpx.AsyncClient, str], Awaitable[httpx.Response]]
