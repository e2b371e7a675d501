"""The render service's consumers: previews for imported images, and render runs for the render
jobs that a status change selects (the render worker, `python -m render.worker`, renders them).

    python -m render.consumers
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kit.app import Platform
from kit.consumers import run_consumer_process
from kit.events.consumer import HandlerContext, Subscription
from kit.events.contracts import workflow
from render.config import RenderSettings
from render.context import context_of
from render.main import background_spec
from render.previews.service import create_previews
from render.runs.service import on_status_changed

GROUP_ID = "render"


def subscriptions(platform: Platform) -> Sequence[Subscription[Any]]:
    ctx = context_of(platform)

    async def on_images_imported(event: workflow.ImagesImported, context: HandlerContext) -> None:
        await create_previews(ctx, event, context.event_id)

    async def on_status(event: workflow.StatusChange, context: HandlerContext) -> None:
        await on_status_changed(ctx, event, context.event_id)

    return [
        Subscription(workflow.ImagesImported, on_images_imported),
        Subscription(workflow.SessionStatusChanged, on_status),
        Subscription(workflow.InvoiceStatusChanged, on_status),
        Subscription(workflow.ProductionOrderStatusChanged, on_status),
    ]


def main() -> None:
    settings = RenderSettings()
    run_consumer_process(
        settings,
        background_spec(settings),
        group_id=GROUP_ID,
        topics=[workflow.TOPIC],
        subscriptions=subscriptions,
    )


if __name__ == "__main__":
    main()
