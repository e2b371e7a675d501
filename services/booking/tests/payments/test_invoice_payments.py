"""An invoice workflow publishes becomes payable: its amount due is taken in one or more
payments, never more than is open, and each success is announced with the invoice."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from booking.config import BookingSettings
from booking.consumers import subscriptions
from booking.main import service_spec
from booking.testing import stripe_event
from kit.consumers import consume
from kit.events.contracts.workflow import InvoiceCreated
from kit.events.envelope import Envelope, source_of
from kit.events.kafka import EventPublisher, ensure_topics
from kit.settings import InfraSettings
from kit.testing import eventually, read_topic

from .conftest import Send, Studio, checkout_completed, created


async def publish_invoice(
    infra: InfraSettings, topic: str, invoice_id: str, client_id: str, *, times: int = 1
) -> None:
    envelope = Envelope.wrap(
        InvoiceCreated(
            invoice_id=invoice_id,
            client_id=client_id,
            currency="USD",
            total_minor=30_000,
            amount_due_minor=20_000,
            created_at=datetime(2026, 5, 4, 12, tzinfo=UTC),
        ),
        subject=invoice_id,
        source=source_of("workflow"),
    )
    publisher = EventPublisher(infra.kafka_bootstrap, client_id="test-workflow")
    try:
        await publisher.publish_many(topic, [envelope] * times)
    finally:
        await publisher.stop()


def intent_succeeded(payment: dict[str, Any]) -> bytes:
    return stripe_event(
        "payment_intent.succeeded",
        {
            "id": payment["stripe_payment_intent"],
            "object": "payment_intent",
            "metadata": {"payment_id": payment["id"]},
        },
    )


async def test_a_published_invoice_is_paid_in_two_parts_never_beyond_what_is_due(
    booking: httpx.AsyncClient,
    booking_db: Any,
    send_webhook: Send,
    infra: InfraSettings,
    unique: str,
) -> None:
    topic = f"t.{unique}.workflow.events"
    await ensure_topics(infra.kafka_bootstrap, [topic])
    invoice_id = f"inv-{uuid.uuid4().hex[:8]}"
    settings = BookingSettings(
        database=booking_db.name, workflow_topic=topic, consumer_group=f"booking-{unique}"
    )
    stop = asyncio.Event()
    task = asyncio.create_task(
        consume(
            settings,
            service_spec().background_only(),
            group_id=settings.consumer_group,
            topics=[topic],
            subscriptions=subscriptions,
            stop=stop,
        )
    )
    try:
        await publish_invoice(infra, topic, invoice_id, "client-1", times=2)

        async def stored() -> bool:
            return await booking_db["invoices"].find_one({"_id": invoice_id}) is not None

        await eventually(stored, timeout=30, what="the invoice to be stored")
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)

    first = await created(
        await booking.post(
            "/payments",
            json={"invoice_id": invoice_id, "amount_minor": 5_000, "method": "payment_intent"},
        )
    )
    assert (await send_webhook(intent_succeeded(first))).json()["outcome"] == "applied"
    too_much = await booking.post(
        "/payments", json={"invoice_id": invoice_id, "amount_minor": 15_001}
    )
    rest = await created(
        await booking.post("/payments", json={"invoice_id": invoice_id, "method": "payment_intent"})
    )
    assert (await send_webhook(intent_succeeded(rest))).json()["outcome"] == "applied"
    nothing_open = await booking.post("/payments", json={"invoice_id": invoice_id})

    assert first["client_id"] == "client-1"
    assert first["currency"] == "usd"
    assert too_much.status_code == 422
    assert too_much.json()["detail"]["open_minor"] == 15_000
    assert rest["amount_minor"] == 15_000
    assert nothing_open.status_code == 409
    assert await booking_db["invoices"].count_documents({}) == 1
    records = await read_topic(infra.kafka_bootstrap, "booking.events", 100_000, timeout=5)
    paid = [
        json.loads(r.value)["data"]
        for r in records
        if r.key in (first["id"].encode(), rest["id"].encode())
    ]
    assert sorted((p["invoice_id"], p["amount_minor"]) for p in paid) == [
        (invoice_id, 5_000),
        (invoice_id, 15_000),
    ]


async def test_a_sessions_paid_deposit_is_taken_off_what_its_invoice_asks_the_client_to_pay(
    booking: httpx.AsyncClient,
    booking_db: Any,
    booked_session: Studio,
    send_webhook: Send,
    infra: InfraSettings,
    unique: str,
) -> None:
    made = await booked_session(deposit_minor=5_000)
    session_id = made["session"]["id"]
    deposit = await created(await booking.post("/payments", json={"session_id": session_id}))
    assert (await send_webhook(checkout_completed(deposit))).json()["outcome"] == "applied"
    topic = f"t.{unique}.workflow.events"
    await ensure_topics(infra.kafka_bootstrap, [topic])
    invoice_id = f"inv-{uuid.uuid4().hex[:8]}"
    settings = BookingSettings(
        database=booking_db.name, workflow_topic=topic, consumer_group=f"booking-{unique}"
    )
    envelope = Envelope.wrap(
        InvoiceCreated(
            invoice_id=invoice_id,
            client_id=made["client_id"],
            session_id=session_id,
            currency="USD",
            total_minor=20_000,
            amount_due_minor=20_000,
            created_at=datetime(2026, 5, 4, 12, tzinfo=UTC),
        ),
        subject=invoice_id,
        source=source_of("workflow"),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(
        consume(
            settings,
            service_spec().background_only(),
            group_id=settings.consumer_group,
            topics=[topic],
            subscriptions=subscriptions,
            stop=stop,
        )
    )
    publisher = EventPublisher(infra.kafka_bootstrap, client_id="test-workflow")
    try:
        await publisher.publish_many(topic, [envelope])

        async def stored() -> bool:
            return await booking_db["invoices"].find_one({"_id": invoice_id}) is not None

        await eventually(stored, timeout=30, what="the invoice to be stored")
    finally:
        await publisher.stop()
        stop.set()
        await asyncio.wait_for(task, 30)

    too_much = await booking.post(
        "/payments", json={"invoice_id": invoice_id, "amount_minor": 15_001}
    )
    balance = await created(
        await booking.post("/payments", json={"invoice_id": invoice_id, "method": "payment_intent"})
    )
    assert (await send_webhook(intent_succeeded(balance))).json()["outcome"] == "applied"
    nothing_open = await booking.post("/payments", json={"invoice_id": invoice_id})

    assert too_much.status_code == 422
    assert too_much.json()["detail"]["open_minor"] == 15_000
    assert balance["amount_minor"] == 15_000
    assert nothing_open.status_code == 409
