"""The delivery service's consumers: a render run whose profile says "deliver" becomes a
delivery (packaged by the API process's packaging queue).

    python -m delivery.consumers
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from delivery.config import DeliverySettings
from delivery.context import context_of
from delivery.deliveries.service import deliver_run
from delivery.main import service_spec
from kit.app import Platform, ServiceSpec
from kit.consumers import run_consumer_process
from kit.events.consumer import HandlerContext, Subscription
from kit.events.contracts import render

GROUP_ID = "delivery"


def subscriptions(platform: Platform) -> Sequence[Subscription[Any]]:
    ctx = context_of(platform)

    async def on_run_completed(event: render.RunCompleted, _: HandlerContext) -> None:
        await deliver_run(ctx, event)

    return [Subscription(render.RunCompleted, on_run_completed)]


def consumer_spec(settings: DeliverySettings) -> ServiceSpec:
    """The API's spec without its routes and background work (the API process does those)."""
    spec = service_spec(settings)
    return ServiceSpec(
        title=spec.title,
        description=spec.description,
        indexes=spec.indexes,
        outbox_collections=spec.outbox_collections,
        topics=spec.topics,
        buckets=spec.buckets,
    )


def main() -> None:
    settings = DeliverySettings()
    run_consumer_process(
        settings,
        consumer_spec(settings),
        group_id=GROUP_ID,
        topics=[render.TOPIC],
        subscriptions=subscriptions,
    )


if __name__ == "__main__":
    main()
