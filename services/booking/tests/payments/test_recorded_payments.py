"""Money the studio took itself (cash, its card terminal, a transfer, a cheque) is recorded as
paid at once, announced like a Stripe payment, counted against what is open, and refunded by
record (no Stripe call)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from kit.settings import InfraSettings
from kit.testing import read_topic

from .conftest import Studio, created

STAFF = {"x-user-id": "desk@studio.test", "x-user-role": "staff"}


async def announced(infra: InfraSettings, payment_id: str) -> list[dict[str, Any]]:
    records = await read_topic(infra.kafka_bootstrap, "booking.events", 100_000, timeout=5)
    return [json.loads(r.value) for r in records if r.key == payment_id.encode()]


async def test_a_deposit_paid_in_cash_at_the_desk_is_recorded_paid_and_announced(
    booking: httpx.AsyncClient, booked_session: Studio, infra: InfraSettings
) -> None:
    studio = await booked_session(deposit_minor=5000)
    session_id = studio["session"]["id"]

    paid = await created(
        await booking.post(
            "/payments/recorded",
            json={"session_id": session_id, "method": "cash", "reference": "receipt 0042"},
            headers=STAFF,
        )
    )
    again = await booking.post(
        "/payments/recorded", json={"session_id": session_id, "method": "card_terminal"}
    )
    stripe_too = await booking.post("/payments", json={"session_id": session_id})
    events = await announced(infra, paid["id"])

    assert paid["status"] == "succeeded"
    assert paid["method"] == "cash"
    assert paid["amount_minor"] == 5000
    assert paid["recorded_by"] == "desk@studio.test"
    assert paid["reference"] == "receipt 0042"
    assert paid["checkout_url"] is None
    assert again.status_code == 409
    assert stripe_too.status_code == 409
    assert [e["type"] for e in events] == ["booking.payment.succeeded.v1"]
    assert events[0]["data"]["amount_minor"] == 5000
    assert events[0]["data"]["session_id"] == session_id


async def test_an_invoice_is_paid_part_in_cash_part_by_transfer_and_a_cash_refund_is_recorded(
    booking: httpx.AsyncClient, booking_db: Any, infra: InfraSettings
) -> None:
    invoice_id = f"inv-{uuid.uuid4().hex[:8]}"
    await booking_db["invoices"].insert_one(
        {
            "_id": invoice_id,
            "client_id": "client-1",
            "currency": "usd",
            "total_minor": 20_000,
            "amount_due_minor": 20_000,
            "created_at": datetime(2026, 5, 4, 12, tzinfo=UTC),
        }
    )

    cash = await created(
        await booking.post(
            "/payments/recorded",
            json={"invoice_id": invoice_id, "method": "cash", "amount_minor": 5_000},
            headers=STAFF,
        )
    )
    too_much = await booking.post(
        "/payments/recorded",
        json={"invoice_id": invoice_id, "method": "cheque", "amount_minor": 15_001},
    )
    transfer = await created(
        await booking.post(
            "/payments/recorded",
            json={"invoice_id": invoice_id, "method": "bank_transfer", "reference": "TRX-77"},
        )
    )
    nothing_open = await booking.post(
        "/payments/recorded", json={"invoice_id": invoice_id, "method": "cash"}
    )
    refunded = await booking.post(
        f"/payments/{cash['id']}/refunds", json={"amount_minor": 2_000, "reason": "Discount"}
    )
    events = await announced(infra, cash["id"])

    assert (cash["status"], cash["amount_minor"]) == ("succeeded", 5_000)
    assert too_much.status_code == 422
    assert too_much.json()["detail"]["open_minor"] == 15_000
    assert (transfer["amount_minor"], transfer["method"]) == (15_000, "bank_transfer")
    assert nothing_open.status_code == 409
    assert refunded.status_code == 201, refunded.text
    after = refunded.json()
    assert after["status"] == "partially_refunded"
    assert after["refunded_minor"] == 2_000
    assert [(r["status"], r["stripe_refund"]) for r in after["refunds"]] == [("succeeded", None)]
    assert [e["type"] for e in events] == [
        "booking.payment.succeeded.v1",
        "booking.payment.refunded.v1",
    ]
    assert events[1]["data"]["refund_minor"] == 2_000


async def test_a_recorded_payment_with_an_unknown_method_or_two_targets_is_refused_and_nothing_stored(  # noqa: E501
    booking: httpx.AsyncClient, booking_db: Any, booked_session: Studio
) -> None:
    studio = await booked_session(deposit_minor=5000)
    session_id = studio["session"]["id"]

    unknown = await booking.post(
        "/payments/recorded", json={"session_id": session_id, "method": "bitcoin"}
    )
    both = await booking.post(
        "/payments/recorded",
        json={"session_id": session_id, "invoice_id": "i1", "method": "cash"},
    )
    deposit_amount = await booking.post(
        "/payments/recorded",
        json={"session_id": session_id, "method": "cash", "amount_minor": 100},
    )

    assert unknown.status_code == 422
    assert unknown.json()["error"] == "validation_error"
    assert both.status_code == 422
    assert deposit_amount.status_code == 422
    assert await booking_db["payments"].count_documents({}) == 0
