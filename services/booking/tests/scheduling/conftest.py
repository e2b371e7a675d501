"""The booking service running in-process against the real servers, and small factories."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from kit.mongo import Document
from kit.testing import build_app, running


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


Factory = Callable[..., Awaitable[dict[str, Any]]]


async def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def new_client(booking_db: Any) -> Factory:
    async def make(**fields: Any) -> dict[str, Any]:
        client = {"_id": str(uuid.uuid4()), "first_name": "Ann", "last_name": "Lee", **fields}
        await booking_db["clients"].insert_one(client)
        return {"id": client["_id"], **client}

    return make


@pytest.fixture
def new_resource(booking: httpx.AsyncClient) -> Factory:
    async def make(name: str = "Studio A", kind: str = "room") -> dict[str, Any]:
        return await created(await booking.post("/resources", json={"name": name, "kind": kind}))

    return make


@pytest.fixture
def open_weekdays(booking: httpx.AsyncClient) -> Factory:
    async def make(
        *resource_ids: str, opens: str = "09:00", closes: str = "17:00"
    ) -> dict[str, Any]:
        response = await booking.post(
            "/opening-hours",
            json={
                "resource_ids": list(resource_ids),
                "weekdays": [0, 1, 2, 3, 4],
                "opens": opens,
                "closes": closes,
                "valid_from": "2026-01-01",
            },
        )
        assert response.status_code == 201, response.text
        return {"rules": response.json()}

    return make


@pytest.fixture
def new_session_type(booking: httpx.AsyncClient) -> Factory:
    async def make(*resource_ids: str, **fields: Any) -> dict[str, Any]:
        body = {
            "name": "Senior portraits",
            "duration_minutes": 60,
            "buffer_after_minutes": 15,
            "start_every_minutes": 30,
            "resource_ids": list(resource_ids),
            **fields,
        }
        return await created(await booking.post("/session-types", json=body))

    return make
