"""The booking service's consumers: workflow's invoices become payable here, workflow's
session statuses decide when a client's links stop working, and notify's unsubscribes
withdraw a client's marketing consent.

python -m booking.consumers
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from booking.clients.repository import ClientRepository
from booking.clients.schemas import ConsentWithdrawal
from booking.clients.service import client_service
from booking.config import BookingSettings
from booking.main import service_spec
from booking.payments.repository import PaymentRepository
from booking.scheduling.router import build_service as build_scheduling
from kit.app import Platform
from kit.consumers import run_consumer_process
from kit.errors import NotFound
from kit.events.consumer import HandlerContext, Subscription
from kit.events.contracts import notify, workflow


def subscriptions(platform: Platform) -> Sequence[Subscription[Any]]:
    relay = platform.relay
    repository = PaymentRepository(platform.db, relay.notify if relay else lambda *_: None)

    async def on_invoice_created(event: workflow.InvoiceCreated, context: HandlerContext) -> None:
        await repository.record_invoice(
            context,
            {
                "_id": event.invoice_id,
                "client_id": event.client_id,
                "session_id": event.session_id,
                "currency": event.currency.lower(),
                "total_minor": event.total_minor,
                "amount_due_minor": event.amount_due_minor,
                "created_at": event.created_at,
            },
        )

    scheduling = build_scheduling(platform)

    async def on_session_status_changed(
        event: workflow.SessionStatusChanged, context: HandlerContext
    ) -> None:
        if event.entity_kind == "session":
            await scheduling.record_workflow_status(context, event)

    clients = ClientRepository(platform.db, relay.notify if relay else lambda *_: None)

    async def on_unsubscribed(event: notify.ClientUnsubscribed, context: HandlerContext) -> None:
        # Idempotent: a withdrawn consent is not withdrawn again (and emits nothing more).
        withdrawal = ConsentWithdrawal(at=event.unsubscribed_at, note="unsubscribe link")
        # A client deleted meanwhile has no consent left to keep.
        with contextlib.suppress(NotFound):
            await client_service.withdraw_consent(clients, event.client_id, withdrawal, by="notify")

    return [
        Subscription(workflow.InvoiceCreated, on_invoice_created),
        Subscription(workflow.SessionStatusChanged, on_session_status_changed),
        Subscription(notify.ClientUnsubscribed, on_unsubscribed),
    ]


def main() -> None:
    settings = BookingSettings()
    run_consumer_process(
        settings,
        service_spec().background_only(),
        group_id=settings.consumer_group,
        topics=[settings.workflow_topic, settings.notify_topic],
        subscriptions=subscriptions,
    )


if __name__ == "__main__":
    main()
