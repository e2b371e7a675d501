"""Refunds of a paid deposit: partial, then the rest; never more than was paid."""

from __future__ import annotations

import json
from typing import Any

import httpx

from kit.settings import InfraSettings
from kit.testing import read_topic

from .conftest import Send, Studio, checkout_completed, created


async def paid_deposit(booking: httpx.AsyncClient, studio: Studio, send: Send) -> dict[str, Any]:
    made = await studio(deposit_minor=5000)
    payment = await created(
        await booking.post("/payments", json={"session_id": made["session"]["id"]})
    )
    assert (await send(checkout_completed(payment))).json()["outcome"] == "applied"
    return payment


async def test_a_partial_refund_then_the_rest_refunds_the_deposit_in_full_with_an_event_each(
    booking: httpx.AsyncClient, booked_session: Studio, send_webhook: Send, infra: InfraSettings
) -> None:
    payment = await paid_deposit(booking, booked_session, send_webhook)

    partial = await created(
        await booking.post(
            f"/payments/{payment['id']}/refunds", json={"amount_minor": 1500, "reason": "late"}
        )
    )
    rest = await created(await booking.post(f"/payments/{payment['id']}/refunds", json={}))

    assert partial["status"] == "partially_refunded"
    assert partial["refunded_minor"] == 1500
    assert rest["status"] == "refunded"
    assert rest["refunded_minor"] == 5000
    assert [r["amount_minor"] for r in rest["refunds"]] == [1500, 3500]
    assert all(r["stripe_refund"].startswith("re_") for r in rest["refunds"])
    records = await read_topic(infra.kafka_bootstrap, "booking.events", 100_000, timeout=5)
    events = [json.loads(r.value) for r in records if r.key == payment["id"].encode()]
    refunds = [e["data"] for e in events if e["type"] == "booking.payment.refunded.v1"]
    assert [(e["refund_minor"], e["refunded_total_minor"]) for e in refunds] == [
        (1500, 1500),
        (3500, 5000),
    ]


async def test_refunding_more_than_was_paid_or_an_unpaid_payment_is_refused(
    booking: httpx.AsyncClient, booked_session: Studio, send_webhook: Send
) -> None:
    payment = await paid_deposit(booking, booked_session, send_webhook)

    too_much = await booking.post(f"/payments/{payment['id']}/refunds", json={"amount_minor": 5001})
    zero = await booking.post(f"/payments/{payment['id']}/refunds", json={"amount_minor": 0})
    missing = await booking.post("/payments/pay_nope/refunds", json={})

    assert too_much.status_code == 422
    assert too_much.json()["detail"]["refundable_minor"] == 5000
    assert zero.status_code == 422
    assert missing.status_code == 404
    stored = (await booking.get(f"/payments/{payment['id']}")).json()
    assert stored["refunded_minor"] == 0
    assert stored["refunds"] == []


async def test_a_pending_payment_cannot_be_refunded(
    booking: httpx.AsyncClient, booked_session: Studio
) -> None:
    made = await booked_session()
    payment = await created(
        await booking.post("/payments", json={"session_id": made["session"]["id"]})
    )

    response = await booking.post(f"/payments/{payment['id']}/refunds", json={})

    assert response.status_code == 409
    assert response.json()["error"] == "invalid_transition"
