"""The render service's consumers: previews for imported images, and render runs for the render
jobs that a status change selects (the render worker, `python -m render.worker`, renders them);
beside them, the render tasks the workers gave up on, recorded as failed images of their runs,
and the sweep of stalled runs (`render.runs.stalls`).

    python -m render.consumers
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from kit.app import Platform, ServiceSpec
from kit.consumers import ConsumerGroup, run_consumer_process
from kit.events.consumer import HandlerContext, Subscription, dead_letter_topic
from kit.events.contracts import workflow
from kit.events.contracts.render import TASKS_TOPIC, RenderTaskPlanned
from render.config import RenderSettings
from render.context import context_of
from render.main import background_spec
from render.previews.service import create_previews
from render.runs.service import on_status_changed, record_given_up_task
from render.runs.stalls import start_stall_sweeper, stop_stall_sweeper

GROUP_ID = "render"
# Reads the render workers' dead-letter topic (`render.tasks.<worker group>.dlt`).
TASK_DEAD_LETTER_GROUP = "render-task-dlt"
# Recording a given-up task is a few small writes; when even that fails (the database away),
# try for about half a minute (1+2+4+8+16 s between attempts) before giving up on it too.
TASK_DEAD_LETTER_ATTEMPTS = 6
TASK_DEAD_LETTER_BACKOFF_SECONDS = 1.0


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


def given_up_reason(context: HandlerContext) -> str:
    """Why the workers gave a task up, from the dead-letter headers kit wrote."""
    error_type = context.header("dlt.error.type") or "an unknown error"
    message = context.header("dlt.error.message") or ""
    attempts = context.header("dlt.attempts") or "?"
    # kit's message is the exception's one-line summary, which names its type already.
    if not message or message.startswith(error_type):
        error = message or error_type
    else:
        error = f"{error_type}: {message}"
    return f"the render workers gave up after {attempts} attempt(s): {error}"


def task_dead_letter_subscriptions(platform: Platform) -> Sequence[Subscription[Any]]:
    ctx = context_of(platform)

    async def on_given_up(task: RenderTaskPlanned, context: HandlerContext) -> None:
        worker = context.header("dlt.consumer.group") or ctx.settings.worker_group
        await record_given_up_task(ctx, task, given_up_reason(context), worker)

    return [Subscription(RenderTaskPlanned, on_given_up)]


def task_dead_letter_group(settings: RenderSettings) -> ConsumerGroup:
    """The consumer group that records the tasks the render workers' group dead-lettered."""
    return ConsumerGroup(
        TASK_DEAD_LETTER_GROUP,
        [dead_letter_topic(TASKS_TOPIC, settings.worker_group)],
        task_dead_letter_subscriptions,
        max_attempts=TASK_DEAD_LETTER_ATTEMPTS,
        backoff_seconds=TASK_DEAD_LETTER_BACKOFF_SECONDS,
    )


def consumers_spec(settings: RenderSettings) -> ServiceSpec:
    """The background spec, plus the sweep of stalled runs (this process only: the workers,
    however many, do not sweep)."""
    spec = background_spec(settings)
    return dataclasses.replace(
        spec,
        on_start=(*spec.on_start, start_stall_sweeper),
        on_stop=(stop_stall_sweeper, *spec.on_stop),
    )


def main() -> None:
    settings = RenderSettings()
    run_consumer_process(
        settings,
        consumers_spec(settings),
        group_id=GROUP_ID,
        topics=[workflow.TOPIC],
        subscriptions=subscriptions,
        also=[task_dead_letter_group(settings)],
    )


if __name__ == "__main__":
    main()
