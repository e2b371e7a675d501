"""A deposit paid through Stripe Checkout: the webhook is verified, counted once, announced."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from booking.testing import stripe_event
from kit.settings import InfraSettings
from kit.testing import read_topic

from .conftest import Send, Studio, checkout_completed, created, signed


async def payment_events(infra: InfraSettings, payment_id: str) -> list[dict[str, Any]]:
    records = await read_topic(infra.kafka_bootstrap, "booking.events", 100_000, timeout=5)
    return [json.loads(r.value) for r in records if r.key == payment_id.encode()]


async def test_staff_start_a_deposit_checkout_for_a_session_with_a_deposit(
    booking: httpx.AsyncClient, booked_session: Studio
) -> None:
    studio = await booked_session(deposit_minor=5000)

    payment = await created(
        await booking.post("/payments", json={"session_id": studio["session"]["id"]})
    )

    assert payment["status"] == "pending"
    assert payment["purpose"] == "deposit"
    assert payment["amount_minor"] == 5000
    assert payment["currency"] == "usd"
    assert payment["client_id"] == studio["client_id"]
    assert payment["stripe_checkout_session"].startswith("cs_")
    assert payment["checkout_url"].startswith("https://")
    again = await booking.post("/payments", json={"session_id": studio["session"]["id"]})
    assert again.status_code == 409
    assert again.json()["detail"]["payment_id"] == payment["id"]


async def test_a_session_type_without_deposit_or_a_bad_payment_request_is_refused(
    booking: httpx.AsyncClient, booked_session: Studio, booking_db: Any
) -> None:
    studio = await booked_session(deposit_minor=0)
    session_id = studio["session"]["id"]

    no_deposit = await booking.post("/payments", json={"session_id": session_id})
    both = await booking.post("/payments", json={"session_id": session_id, "invoice_id": "i1"})
    unknown = await booking.post("/payments", json={"invoice_id": "no-such-invoice"})
    negative = await booking.post("/payments", json={"invoice_id": "i1", "amount_minor": -5})

    assert no_deposit.status_code == 422
    assert no_deposit.json()["error"] == "unprocessable"
    assert both.status_code == 422
    assert unknown.status_code == 422
    assert negative.status_code == 422
    assert {"error", "message", "detail"} <= set(both.json())
    assert await booking_db["payments"].count_documents({}) == 0


async def test_a_paid_checkout_marks_the_payment_succeeded_and_announces_it_once_however_often_stripe_sends_it(  # noqa: E501
    booking: httpx.AsyncClient, booked_session: Studio, send_webhook: Send, infra: InfraSettings
) -> None:
    studio = await booked_session()
    payment = await created(
        await booking.post("/payments", json={"session_id": studio["session"]["id"]})
    )
    body = checkout_completed(payment)

    first = await send_webhook(body)
    repeats = [await send_webhook(body) for _ in range(3)]

    assert first.status_code == 200, first.text
    assert first.json()["outcome"] == "applied"
    assert [r.json()["outcome"] for r in repeats] == ["duplicate"] * 3
    paid = (await booking.get(f"/payments/{payment['id']}")).json()
    assert paid["status"] == "succeeded"
    assert paid["stripe_payment_intent"] == json.loads(body)["data"]["object"]["payment_intent"]
    events = await payment_events(infra, payment["id"])
    assert [e["type"] for e in events] == ["booking.payment.succeeded.v1"]
    assert events[0]["data"]["session_id"] == studio["session"]["id"]
    assert events[0]["data"]["amount_minor"] == 5000


async def test_a_webhook_with_a_bad_stale_or_future_signature_is_refused_and_changes_nothing(
    booking: httpx.AsyncClient, booked_session: Studio, send_webhook: Send, booking_db: Any
) -> None:
    studio = await booked_session()
    payment = await created(
        await booking.post("/payments", json={"session_id": studio["session"]["id"]})
    )
    body = checkout_completed(payment)

    wrong_secret = await send_webhook(body, secret="whsec_someone_else")
    stale = await send_webhook(body, at=int(time.time()) - 3600)
    from_the_future = await send_webhook(body, at=int(time.time()) + 3600)
    unsigned = await booking.post("/public/payments/stripe-webhook", content=body)
    tampered = await booking.post(
        "/public/payments/stripe-webhook",
        content=body.replace(b'"paid"', b'"PAID"'),
        headers={"Stripe-Signature": signed(body)["Stripe-Signature"]},
    )

    for response in (wrong_secret, stale, from_the_future, unsigned, tampered):
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "bad_request"
    assert (await booking.get(f"/payments/{payment['id']}")).json()["status"] == "pending"
    assert await booking_db["stripe_events"].count_documents({}) == 0


async def test_a_declined_card_marks_the_payment_failed_with_stripes_reason(
    booking: httpx.AsyncClient, booked_session: Studio, send_webhook: Send, infra: InfraSettings
) -> None:
    studio = await booked_session()
    payment = await created(
        await booking.post(
            "/payments", json={"session_id": studio["session"]["id"], "method": "payment_intent"}
        )
    )
    assert payment["client_secret"]
    failed = stripe_event(
        "payment_intent.payment_failed",
        {
            "id": payment["stripe_payment_intent"],
            "object": "payment_intent",
            "metadata": {"payment_id": payment["id"]},
            "last_payment_error": {"message": "Your card was declined."},
        },
    )

    assert (await send_webhook(failed)).json()["outcome"] == "applied"

    stored = (await booking.get(f"/payments/{payment['id']}")).json()
    assert stored["status"] == "failed"
    assert stored["failure_reason"] == "Your card was declined."
    events = await payment_events(infra, payment["id"])
    assert [e["type"] for e in events] == ["booking.payment.failed.v1"]
    assert events[0]["data"]["failure_reason"] == "Your card was declined."


async def test_an_event_for_no_payment_of_ours_is_acknowledged_and_ignored(
    send_webhook: Send, booking_db: Any
) -> None:
    body = stripe_event("customer.created", {"id": "cus_1", "object": "customer"})

    response = await send_webhook(body)

    assert response.status_code == 200
    assert response.json()["outcome"] == "ignored"
    assert await booking_db["payments"].count_documents({}) == 0
