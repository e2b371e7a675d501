"""The render worker: claims render tasks and renders them; run as many as you like.

    python -m render.worker

Workers share the work through the `render_tasks` collection: each claim is one atomic
findAndModify with a lease, so two workers never render the same task at once, and a task
whose worker was killed is taken over when its lease lapses (outputs are written under the
same key, and its result is counted once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import uuid
from datetime import UTC, datetime

from kit.app import ServiceSpec, open_platform
from kit.logging import configure_logging
from render.config import RenderSettings
from render.context import RenderContext, context_of
from render.main import service_spec
from render.runs.repository import RunRepository
from render.runs.service import close_stragglers, execute_task, lease_of

log = logging.getLogger(__name__)

STRAGGLER_SWEEP_SECONDS = 30.0


def within_hours(settings: RenderSettings, now: datetime) -> bool:
    start, end = settings.worker_hours_start, settings.worker_hours_end
    if start is None or end is None:
        return True
    hour = now.hour
    return start <= hour < end if start <= end else hour >= start or hour < end


class RenderWorker:
    def __init__(self, ctx: RenderContext, worker_id: str | None = None) -> None:
        self.ctx = ctx
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.rendered = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop`: `worker_concurrency` renders in flight, plus a sweep for unclosed runs."""
        lanes = [
            asyncio.create_task(self._lane(stop), name=f"render-lane-{n}")
            for n in range(self.ctx.settings.worker_concurrency)
        ]
        lanes.append(asyncio.create_task(self._sweep(stop), name="render-sweep"))
        try:
            await asyncio.gather(*lanes)
        finally:
            for lane in lanes:
                lane.cancel()
            for lane in lanes:
                with contextlib.suppress(asyncio.CancelledError):
                    await lane

    async def _lane(self, stop: asyncio.Event) -> None:
        repository = RunRepository(self.ctx.db)
        settings = self.ctx.settings
        while not stop.is_set():
            task = None
            try:
                if within_hours(settings, datetime.now().astimezone()):
                    task = await repository.claim_task(
                        self.worker_id, datetime.now(UTC), lease_of(self.ctx)
                    )
                if task is not None:
                    await execute_task(self.ctx, task, self.worker_id)
                    self.rendered += 1
                    continue
            except Exception as exc:  # the lease lapses and another worker retries the task
                log.warning("render task failed (%s); its lease will lapse", exc)
            await _sleep_unless(stop, settings.worker_poll_seconds)

    async def _sweep(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await close_stragglers(self.ctx)
            except Exception as exc:
                log.warning("straggler sweep failed (%s)", exc)
            await _sleep_unless(stop, STRAGGLER_SWEEP_SECONDS)


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stop.wait()


def worker_spec(settings: RenderSettings) -> ServiceSpec:
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
    settings = RenderSettings()
    configure_logging(f"{settings.service}-worker", settings.infra.log_level)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        async with open_platform(settings, worker_spec(settings)) as platform:
            await RenderWorker(context_of(platform)).run(stop)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


if __name__ == "__main__":
    main()
