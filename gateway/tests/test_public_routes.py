"""Public routes need no login and carry no identity: online booking, the Stripe webhook (byte
for byte, for booking to verify), the delivery pages and downloads of the studio's clients, and
the map pages' libraries (read only, maps' own asset path, nothing else of maps), and the
unsubscribe page of the clients' emails."""

from __future__ import annotations

import json

import httpx
from front_door_harness import Counter, echoed


async def test_online_booking_reaches_bookings_public_routes_without_a_login(
    gateway: httpx.AsyncClient,
) -> None:
    answer = await gateway.post(
        "/public/sessions?type=portrait",
        json={"email": "client@example.test"},
        headers={"x-user-role": "owner", "x-user-id": "forged"},
    )

    seen = echoed(answer)
    assert seen["path"] == "/public/sessions"
    assert seen["query"] == "type=portrait"
    assert "x-user-role" not in seen["headers"]
    assert "x-user-id" not in seen["headers"]


async def test_the_stripe_webhook_reaches_booking_byte_for_byte_with_its_signature(
    gateway: httpx.AsyncClient,
) -> None:
    payload = b'{"id":"evt_1","type":"checkout.session.completed" , "x": "\\u00e9"}'

    answer = await gateway.post(
        "/payments/stripe/webhook",
        content=payload,
        headers={"stripe-signature": "t=1,v1=abc", "content-type": "application/json"},
    )

    direct = await gateway.post(
        "/public/payments/stripe-webhook", content=payload, headers={"stripe-signature": "t=2"}
    )

    seen = echoed(answer)
    assert seen["path"] == "/public/payments/stripe-webhook"
    assert seen["body"].encode("latin-1") == payload
    assert echoed(direct)["path"] == "/public/payments/stripe-webhook"
    assert echoed(direct)["headers"]["stripe-signature"] == "t=2"
    assert seen["headers"]["stripe-signature"] == "t=1,v1=abc"


async def test_a_labs_signed_event_reaches_workflow_byte_for_byte_with_its_signature(
    gateway: httpx.AsyncClient,
) -> None:
    payload = b'{"id": "ev-1", "order_id": "po-1", "event": "shipped"}'
    answer = await gateway.post(
        "/lab/vnd_abc123/events",
        content=payload,
        headers={"x-lab-signature": "t=1,v1=ab", "x-user-role": "owner"},
    )
    seen = echoed(answer)
    assert seen["path"] == "/workflow/lab-events/vnd_abc123"
    assert seen["body"].encode("latin-1") == payload
    assert seen["headers"]["x-lab-signature"] == "t=1,v1=ab"
    assert "x-user-role" not in seen["headers"]
    # Only a plain vendor id, and only POST.
    assert (await gateway.post("/lab/..%2Fsessions/events", content=b"{}")).status_code in (
        404,
        422,
    )
    assert (await gateway.get("/lab/vnd_abc123/events")).status_code in (404, 405)


async def test_a_clients_unsubscribe_link_reaches_notify_without_a_login(
    gateway: httpx.AsyncClient,
) -> None:
    page = await gateway.get("/u/Y2xpXzE.signature", headers={"x-user-role": "owner"})
    used = await gateway.post("/u/Y2xpXzE.signature", content=b"List-Unsubscribe=One-Click")
    assert echoed(page)["path"] == "/u/Y2xpXzE.signature"
    assert "x-user-role" not in echoed(page)["headers"]
    assert echoed(used)["path"] == "/u/Y2xpXzE.signature"
    assert echoed(used)["body"] == "List-Unsubscribe=One-Click"
    assert (await gateway.delete("/u/Y2xpXzE.signature")).status_code == 405


async def test_a_client_opens_a_delivery_page_and_its_downloads_by_link(
    gateway: httpx.AsyncClient,
) -> None:
    page = await gateway.get("/d/tok_abc")
    download = await gateway.get("/d/tok_abc/files/3")
    pin = await gateway.post("/d/tok_abc/pin", data={"pin": "1234"})

    assert echoed(page)["path"] == "/d/tok_abc"
    assert echoed(download)["path"] == "/d/tok_abc/files/3"
    assert echoed(pin)["path"] == "/d/tok_abc/pin"
    assert echoed(pin)["body"] == "pin=1234"


async def test_a_map_frame_loads_its_libraries_from_maps_without_a_login(
    gateway: httpx.AsyncClient,
) -> None:
    library = await gateway.get("/maps/assets/leaflet/leaflet.js", headers={"x-user-role": "owner"})
    written = await gateway.post("/maps/assets/leaflet/leaflet.js")
    escaped = await gateway.get("/maps/assets/..%2F..%2Fusage")
    other = await gateway.get("/maps/usage")

    assert echoed(library)["path"] == "/maps/assets/leaflet/leaflet.js"
    assert "x-user-role" not in echoed(library)["headers"]
    assert written.status_code == 405
    assert escaped.status_code == 400
    assert escaped.json()["error"] == "bad_request"
    assert other.status_code == 404


async def test_the_gateway_answers_its_health_and_metrics_without_a_login(
    gateway: httpx.AsyncClient,
) -> None:
    await gateway.get("/d/tok_metrics")
    await gateway.get("/api/no-such-service/x")

    health = await gateway.get("/healthz")
    metrics = await gateway.get("/metrics")

    assert health.json() == {"status": "ok", "service": "gateway"}
    assert metrics.status_code == 200
    assert 'gateway_requests_total{area="d",method="GET",status="200"}' in metrics.text
    assert "gateway_request_seconds_bucket" in metrics.text
    # Made-up service names do not become labels of their own.
    assert 'area="api/other",method="GET",status="401"' in metrics.text
    assert "no-such-service" not in metrics.text


async def test_readiness_names_the_services_that_do_not_answer(
    gateway: httpx.AsyncClient,
) -> None:
    # Every service URL points at the little upstream, whose /readyz answers 200.
    ready = await gateway.get("/readyz")

    assert ready.status_code == 200, ready.text
    assert set(ready.json()["checks"]) == {
        "mongodb",
        "booking",
        "workflow",
        "render",
        "delivery",
        "maps",
        "notify",
    }


async def test_one_swagger_ui_lists_every_service(gateway: httpx.AsyncClient) -> None:
    page = await gateway.get("/docs/all")
    spec = await gateway.get("/openapi/maps.json")
    unknown = await gateway.get("/openapi/nothing.json")

    for name in ("booking", "workflow", "render", "delivery", "maps", "notify"):
        assert f"/openapi/{name}.json" in page.text
    # The little upstream echoes: what matters is that the gateway points "try it" at itself.
    assert spec.json()["servers"] == [{"url": "/api/maps"}]
    assert spec.json()["path"] == "/openapi.json"
    assert unknown.status_code == 404


async def test_an_online_booking_reaches_booking_whole(gateway: httpx.AsyncClient) -> None:
    booking = {
        "session_type_id": "portrait",
        "starts_at": "2030-01-02T10:00:00Z",
        "client": {"email": "Client@Example.test", "last_name": "Lee"},
    }

    answer = await gateway.post("/public/bookings", json=booking)

    seen = echoed(answer)
    assert seen["path"] == "/public/bookings"
    assert json.loads(seen["body"]) == booking


async def test_an_oversized_online_booking_is_refused_with_413(
    gateway: httpx.AsyncClient, counter: Counter
) -> None:
    answer = await gateway.post("/public/bookings", content=b"{" + b" " * (70 * 1024) + b"}")

    assert answer.status_code == 413
    assert answer.json()["error"] == "payload_too_large"
    assert counter.calls == 0
