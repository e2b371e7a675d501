"""The render worker: renders the tasks of render runs; start as many as you like.

    python -m render.worker

Planning a run puts one message per (image, profile) on `render.tasks` (through the run's
outbox; key: the task id, so one run's tasks spread over every partition). Every worker process
is a member of the consumer group `render-workers`, so Kafka spreads the partitions over them
and the partition count bounds the parallelism. A member takes a task or two at a time, renders
it, records the result in its run (once, by task id), closes the run when every task is
accounted for, and only then commits the offset: a member killed mid-task loses nothing, its
uncommitted task is redelivered to another member and rendered again under the same output key,
and counted once.

One worker runs `RENDER_WORKER_CONCURRENCY` processes (default: one per core), each its own
group member; a process whose memory passes `RENDER_WORKER_MEMORY_MB` after a task is replaced
by a fresh one. Outside the hours of operation the members pause consumption.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
import uuid
from collections.abc import Callable
from datetime import datetime

from aiokafka import AIOKafkaConsumer

from kit.app import open_platform
from kit.events.consumer import EventConsumer, HandlerContext, Subscription
from kit.events.contracts.render import TASKS_TOPIC, RenderTaskPlanned
from kit.heartbeat import heartbeat
from kit.logging import configure_logging
from render.config import RenderSettings
from render.context import RenderContext, context_of
from render.main import background_spec, ensure_task_topic
from render.runs.service import execute_task

log = logging.getLogger(__name__)

# A member's exit code asking its supervisor for a fresh process (memory cap passed).
RESTART = 75


def within_hours(settings: RenderSettings, now: datetime) -> bool:
    start, end = settings.worker_hours_start, settings.worker_hours_end
    if start is None or end is None:
        return True
    hour = now.hour
    return start <= hour < end if start <= end else hour >= start or hour < end


def resident_mb() -> float:
    """This process's resident memory now (Linux /proc; elsewhere its peak)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class TaskMember:
    """One member of the render workers' consumer group (one per process, or several in one
    process in tests)."""

    def __init__(
        self,
        ctx: RenderContext,
        member_id: str | None = None,
        *,
        memory_mb: Callable[[], float] = resident_mb,
    ) -> None:
        self.ctx = ctx
        self.member_id = member_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.rendered = 0
        self.over_memory = False
        self.partitions = 0  # how many partitions of the task topic it holds now
        self._memory_mb = memory_mb

    def _runner(self) -> EventConsumer:
        async def handle(message: RenderTaskPlanned, context: HandlerContext) -> None:
            await execute_task(self.ctx, message, self.member_id)
            self.rendered += 1

        settings = self.ctx.settings
        platform = self.ctx.platform
        return EventConsumer(
            bootstrap=settings.infra.kafka_bootstrap,
            group_id=settings.worker_group,
            topics=[TASKS_TOPIC],
            subscriptions=[Subscription(RenderTaskPlanned, handle)],
            db=platform.db,
            publisher=platform.publisher,
            topic_prefix=settings.infra.topic_prefix,
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Consume tasks until `stop` (or until the memory cap asks for a fresh process).

        kit's EventConsumer handles each message (skip handled ids, retry, dead-letter); this
        loop polls, so that a member takes few tasks at a time and can pause.
        """
        settings = self.ctx.settings
        await ensure_task_topic(self.ctx.platform)
        runner = self._runner()
        await runner.prepare()
        consumer = AIOKafkaConsumer(
            settings.infra.topic_prefix + TASKS_TOPIC,
            bootstrap_servers=settings.infra.kafka_bootstrap,
            group_id=settings.worker_group,
            client_id=self.member_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=settings.worker_max_poll_records,
            session_timeout_ms=settings.worker_session_timeout_ms,
            heartbeat_interval_ms=max(1000, settings.worker_session_timeout_ms // 3),
            max_poll_interval_ms=settings.worker_max_render_seconds * 1000,
        )
        await consumer.start()
        try:
            while not stop.is_set():
                if not within_hours(settings, datetime.now().astimezone()):
                    consumer.pause(*consumer.assignment())
                elif consumer.paused():
                    consumer.resume(*consumer.paused())
                batches = await consumer.getmany(
                    timeout_ms=500, max_records=settings.worker_max_poll_records
                )
                self.partitions = len(consumer.assignment())
                for partition, messages in batches.items():
                    await runner.handle_batch(messages)
                    await consumer.commit({partition: messages[-1].offset + 1})
                if batches and self._past_memory_cap():
                    self.over_memory = True
                    return
        finally:
            await consumer.stop()

    def _past_memory_cap(self) -> bool:
        cap = self.ctx.settings.worker_memory_mb
        if cap is None:
            return False
        used = self._memory_mb()
        if used > cap:
            log.warning("render worker at %.0f MB, over its cap of %d MB: restarting", used, cap)
            return True
        return False


async def run_member(settings: RenderSettings, stop: asyncio.Event) -> int:
    """One member process's body: 0 when stopped, RESTART when its memory passed the cap."""
    async with (
        open_platform(settings, background_spec(settings)) as platform,
        heartbeat(platform, settings.infra.heartbeat_file),
    ):
        member = TaskMember(context_of(platform))
        await member.run(stop)
        return RESTART if member.over_memory else 0


def member_main(parent: int | None) -> None:
    """Entry point of one member process; stops when told to or when its parent is gone."""
    settings = RenderSettings()
    configure_logging(f"{settings.service}-worker", settings.infra.log_level)

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)

        async def orphaned() -> None:
            while parent is not None and not stop.is_set():
                if os.getppid() != parent:
                    stop.set()
                await asyncio.sleep(1)

        watcher = asyncio.create_task(orphaned())
        try:
            return await run_member(settings, stop)
        finally:
            watcher.cancel()

    code = 0
    with contextlib.suppress(KeyboardInterrupt):
        code = asyncio.run(main())
    sys.exit(code)


def supervise(concurrency: int) -> None:
    """Keep `concurrency` member processes running until SIGTERM/SIGINT; replace any that
    exits (a memory-cap restart, or a crash) after a short pause."""
    spawn = multiprocessing.get_context("spawn")
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def start() -> multiprocessing.process.BaseProcess:
        process = spawn.Process(target=member_main, args=(os.getpid(),), daemon=False)
        process.start()
        return process

    members = [start() for _ in range(concurrency)]
    while not stopping:
        time.sleep(0.5)
        for n, process in enumerate(members):
            if not process.is_alive() and not stopping:
                if process.exitcode != RESTART:
                    log.warning(
                        "render worker process exited with %s; starting another", process.exitcode
                    )
                    time.sleep(1)
                members[n] = start()
    for process in members:
        if process.pid is not None and process.is_alive():
            os.kill(process.pid, signal.SIGTERM)
    for process in members:
        process.join()


def main() -> None:
    settings = RenderSettings()
    configure_logging(f"{settings.service}-worker", settings.infra.log_level)
    if settings.worker_concurrency == 1 and settings.worker_memory_mb is None:
        member_main(None)  # one member: no supervisor process needed
    else:
        supervise(settings.worker_concurrency)


if __name__ == "__main__":
    main()
