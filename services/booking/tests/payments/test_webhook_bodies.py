"""A correctly signed webhook whose body is not a Stripe event booking can read is the sender's
fault: 400 in the one error shape naming what is wrong, nothing recorded, never a 500
(issue 19). Against the real booking app and MongoDB-wire server."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from .conftest import Send, Studio, checkout_completed, created

SHAPE = {"error", "message", "detail", "request_id"}


def event(**fields: Any) -> bytes:
    body = {"id": "evt_malformed", "object": "event", "type": "checkout.session.completed"}
    body |= fields
    return json.dumps({k: v for k, v in body.items() if v is not ...}).encode()


MALFORMED = {
    "an event without id": (event(id=..., data={"object": {}}), "not a Stripe event"),
    "an empty id": (event(id="", data={"object": {}}), "not a Stripe event"),
    "an id that is a number": (event(id=42, data={"object": {}}), "not a Stripe event"),
    "data as a string": (event(data="checkout"), "not a Stripe event"),
    "data.object as a list": (event(data={"object": ["x"]}), "not a Stripe event"),
    "metadata as a string": (
        event(data={"object": {"metadata": "pay_1"}}),
        "not a Stripe event",
    ),
    "a payment id that is a number": (
        event(data={"object": {"metadata": {"payment_id": 7}}}),
        "not a Stripe event",
    ),
    "a last payment error as a string": (
        event(type="payment_intent.payment_failed", data={"object": {"last_payment_error": "no"}}),
        "not a Stripe event",
    ),
    "a JSON array": (b'[{"id": "evt_1"}]', "not a Stripe event"),
    "not JSON": (b"id=evt_1&type=checkout.session.completed", "not JSON"),
}


@pytest.mark.parametrize("body", [b for b, _ in MALFORMED.values()], ids=list(MALFORMED))
async def test_a_signed_webhook_that_is_no_readable_event_is_a_400_and_records_nothing(
    body: bytes, send_webhook: Send, booking_db: Any
) -> None:
    expected = next(words for b, words in MALFORMED.values() if b == body)

    answer = await send_webhook(body)

    assert answer.status_code == 400, answer.text
    assert set(answer.json()) == SHAPE
    assert answer.json()["error"] == "bad_request"
    assert expected in answer.json()["message"]
    assert answer.json()["request_id"] == answer.headers["x-request-id"]
    assert await booking_db["stripe_events"].count_documents({}) == 0


async def test_a_well_formed_event_after_malformed_ones_is_still_applied(
    booking: httpx.AsyncClient, booked_session: Studio, send_webhook: Send
) -> None:
    studio = await booked_session()
    payment = await created(
        await booking.post("/payments", json={"session_id": studio["session"]["id"]})
    )
    assert (await send_webhook(event(data="x"))).status_code == 400

    answer = await send_webhook(checkout_completed(payment))

    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "applied"
    assert (await booking.get(f"/payments/{payment['id']}")).json()["status"] == "succeeded"
