"""The booking service's consumers: workflow's invoices become payable here, and workflow's
session statuses decide when a client's links stop working.

python -m booking.consumers
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from booking.config import BookingSettings
from booking.main import service_spec
from booking.payments.repository import PaymentRepository
from booking.scheduling.router import build_service as build_scheduling
from kit.app import Platform
from kit.consumers import run_consumer_process
from kit.events.consumer import HandlerContext, Subscription
from kit.events.contracts import workflow


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

    return [
        Subscription(workflow.InvoiceCreated, on_invoice_created),
        Subscription(workflow.SessionStatusChanged, on_session_status_changed),
    ]


def main() -> None:
    settings = BookingSettings()
    run_consumer_process(
        settings,
        service_spec().background_only(),
        group_id=settings.consumer_group,
        topics=[settings.workflow_topic],
        subscriptions=subscriptions,
    )


if __name__ == "__main__":
    main()
