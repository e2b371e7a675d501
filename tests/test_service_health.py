"""Every service is a FastAPI app with /healthz, /readyz (its database, Kafka and S3) and /docs."""

from __future__ import annotations

import pytest
from pymongo import AsyncMongoClient

from kit.mongo import Document
from kit.testing import SERVICES, build_app, running


@pytest.mark.parametrize("service", [s for s in SERVICES if s not in ("gateway", "web")])
async def test_a_service_is_healthy_ready_and_documented_against_the_real_servers(
    service: str, unique: str, mongo: AsyncMongoClient[Document]
) -> None:
    database = f"t_{unique}"
    app = build_app(service, database=database)
    try:
        async with running(app) as client:
            health = await client.get("/healthz")
            assert health.json() == {"status": "ok", "service": service}
            ready = await client.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"] == {"mongodb": "ok", "kafka": "ok", "s3": "ok"}
            assert (await client.get("/docs")).status_code == 200
            openapi = (await client.get("/openapi.json")).json()
            assert {"/healthz", "/readyz"} <= set(openapi["paths"])
            missing = await client.get("/no-such-route", headers={"X-Request-ID": "trace-1"})
            assert missing.status_code == 404
            assert missing.json()["request_id"] == "trace-1"
    finally:
        await mongo.drop_database(database)


async def test_the_gateway_is_not_ready_while_a_service_is_down_and_names_it(
    unique: str, mongo: AsyncMongoClient[Document]
) -> None:
    database = f"t_{unique}"
    # Port 9 (discard) on loopback: nothing of ours listens there.
    app = build_app(
        "gateway",
        database=database,
        maps_url="http://127.0.0.1:9",
        notify_url="http://127.0.0.1:9",
        booking_url="http://127.0.0.1:9",
    )
    try:
        async with running(app) as client:
            assert (await client.get("/healthz")).status_code == 200
            ready = await client.get("/readyz")
            assert ready.status_code == 503
            body = ready.json()
            assert body["error"] == "not_ready"
            assert "booking" in body["message"]
            assert "maps" in body["message"]
            assert "notify" in body["message"]
            assert body["detail"]["mongodb"] == "ok"
    finally:
        await mongo.drop_database(database)
