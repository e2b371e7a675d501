"""The gateway in front of the real booking service (both on real ports): staff create a client,
marketing read it but may not change it (except to record that the client unsubscribed), an
unknown query parameter is the service's 422 naming it, and the service's own validation errors
pass unchanged."""

from __future__ import annotations

import httpx
from front_door_harness import bearer, gateway_app, owner_token, user_token
from pymongo import AsyncMongoClient

from kit.mongo import Document
from kit.settings import InfraSettings
from kit.testing import build_app, served


async def test_staff_and_marketing_use_the_real_client_register_through_the_gateway(
    infra: InfraSettings, unique: str, upstream: str, mongo: AsyncMongoClient[Document]
) -> None:
    booking = build_app("booking", database=f"t_{unique}_booking")
    try:
        async with served(booking, lifespan="on") as booking_url:
            app = gateway_app(unique, upstream, booking_url=booking_url)
            async with (
                served(app, lifespan="on") as url,
                httpx.AsyncClient(base_url=url, timeout=30) as client,
            ):
                owner = await owner_token(client)
                staff = bearer(await user_token(client, owner, "staff", unique))
                marketing = bearer(await user_token(client, owner, "marketing", unique))

                made = await client.post(
                    "/api/booking/clients",
                    json={"first_name": "Ann", "last_name": "Lee", "email": f"ann-{unique}@x.test"},
                    headers=staff,
                )
                read = await client.get(
                    f"/api/booking/clients/{made.json()['id']}", headers=marketing
                )
                change = await client.patch(
                    f"/api/booking/clients/{made.json()['id']}",
                    json={"first_name": "Anna"},
                    headers=marketing,
                )
                unsubscribed = await client.post(
                    f"/api/booking/clients/{made.json()['id']}/unsubscribe",
                    json={"method": "email"},
                    headers=marketing,
                )
                typo = await client.get(
                    "/api/booking/clients", params={"postcode": "02134"}, headers=marketing
                )
                invalid = await client.post("/api/booking/clients", json={}, headers=staff)
                spec = await client.get("/openapi/booking.json")
    finally:
        await mongo.drop_database(f"t_{unique}")
        await mongo.drop_database(f"t_{unique}_booking")

    assert made.status_code == 201, made.text
    assert read.status_code == 200
    assert read.json()["last_name"] == "Lee"
    assert change.status_code == 403
    assert unsubscribed.status_code == 200, unsubscribed.text
    assert unsubscribed.json()["marketing_consent"] is False
    assert typo.status_code == 422
    assert typo.json()["detail"][0]["location"] == ["query", "postcode"]
    assert invalid.status_code == 422
    assert invalid.json()["error"] == "validation_error"
    assert invalid.json()["request_id"] == invalid.headers["x-request-id"]
    assert spec.json()["servers"] == [{"url": "/api/booking"}]
    assert "/clients" in spec.json()["paths"]
