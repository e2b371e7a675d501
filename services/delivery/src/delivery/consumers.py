"""The delivery service's consumers: a render run whose profile says "deliver" becomes a
delivery (packaged by the API process's packaging queue); the end of a run a delivery asked
for (reference "delivery:<id>") lets that delivery be packaged, or fails it.

    python -m delivery.consumers
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from delivery.config import DeliverySettings
from delivery.context import context_of
from delivery.deliveries.service import deliver_run, on_render_failed
from delivery.main import service_spec
from kit.app import Platform
from kit.consumers import run_consumer_process
from kit.events.consumer import HandlerContext, Subscription
from kit.events.contracts import render

GROUP_ID = "delivery"


def subscriptions(platform: Platform) -> Sequence[Subscription[Any]]:
    ctx = context_of(platform)

    async def on_run_completed(event: render.RunCompleted, _: HandlerContext) -> None:
        await deliver_run(ctx, event)

    async def on_run_failed(event: render.RunFailed, _: HandlerContext) -> None:
        await on_render_failed(ctx, event)

    return [
        Subscription(render.RunCompleted, on_run_completed),
        Subscription(render.RunFailed, on_run_failed),
    ]


def main() -> None:
    settings = DeliverySettings()
    run_consumer_process(
        settings,
        service_spec(settings).background_only(),
        group_id=GROUP_ID,
        topics=[render.TOPIC],
        subscriptions=subscriptions,
    )


if __name__ == "__main__":
    main()
