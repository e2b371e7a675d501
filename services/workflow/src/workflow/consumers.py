"""The workflow's consumers: booking's sessions and payments, render's results and previews.

Run as `python -m workflow.consumers` (infra/local/services.sh starts it beside the API).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kit.app import Platform
from kit.consumers import run_consumer_process
from kit.events.consumer import Subscription
from kit.events.contracts import booking, render
from workflow.config import WorkflowSettings
from workflow.context import context_of
from workflow.images.service import ImageService
from workflow.invoices.service import InvoiceService
from workflow.main import service_spec
from workflow.sessions.service import SessionService
from workflow.tracking.render_results import RenderResults

GROUP_ID = "workflow"
TOPICS = [booking.TOPIC, render.TOPIC]


def subscriptions(platform: Platform) -> Sequence[Subscription[Any]]:
    context = context_of(platform)
    sessions = SessionService(context)
    results = RenderResults(context)
    invoices = InvoiceService(context)
    images = ImageService(context)
    return [
        Subscription(booking.SessionBooked, sessions.session_scheduled),
        Subscription(booking.SessionRescheduled, sessions.session_scheduled),
        Subscription(booking.SessionCancelled, sessions.session_cancelled),
        Subscription(booking.PaymentSucceeded, invoices.payment_succeeded),
        Subscription(booking.PaymentFailed, invoices.payment_failed),
        Subscription(booking.PaymentRefunded, invoices.payment_refunded),
        Subscription(render.RunCompleted, results.run_completed),
        Subscription(render.RunFailed, results.run_failed),
        Subscription(render.PreviewsCreated, images.previews_created),
    ]


def main() -> None:
    settings = WorkflowSettings()
    run_consumer_process(
        settings,
        service_spec(settings),
        group_id=GROUP_ID,
        topics=TOPICS,
        subscriptions=subscriptions,
    )


if __name__ == "__main__":
    main()
