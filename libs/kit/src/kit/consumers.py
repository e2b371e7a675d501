"""Consumer processes: a service's event handlers run in a process of their own.

A service's `consumers.py` builds its subscriptions from the opened platform and calls
`run_consumer_process`; `infra/local/services.sh` starts `python -m <service>.consumers`
beside the API process whenever that module exists. A process may run more consumer groups
beside its main one (`also`), e.g. one that reads a dead-letter topic.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kit.app import Platform, ServiceSpec, open_platform
from kit.events.consumer import EventConsumer, Subscription
from kit.heartbeat import heartbeat
from kit.logging import configure_logging
from kit.settings import ServiceSettings

SubscriptionsFactory = Callable[[Platform], Sequence[Subscription[Any]]]


@dataclass(frozen=True)
class ConsumerGroup:
    """One more consumer group a consumer process runs: its id, its topics (without the
    platform's prefix), its handlers and how often it tries one message."""

    group_id: str
    topics: Sequence[str]
    subscriptions: SubscriptionsFactory
    max_attempts: int = 4
    backoff_seconds: float = 0.2


def event_consumer(
    settings: ServiceSettings, platform: Platform, group: ConsumerGroup
) -> EventConsumer:
    """The group's consumer on the opened platform (its database, publisher, topic prefix)."""
    return EventConsumer(
        bootstrap=settings.infra.kafka_bootstrap,
        group_id=group.group_id,
        topics=group.topics,
        subscriptions=group.subscriptions(platform),
        db=platform.db,
        publisher=platform.publisher,
        max_attempts=group.max_attempts,
        backoff_seconds=group.backoff_seconds,
        topic_prefix=settings.infra.topic_prefix,
    )


async def consume(
    settings: ServiceSettings,
    spec: ServiceSpec,
    *,
    group_id: str,
    topics: Sequence[str],
    subscriptions: SubscriptionsFactory,
    stop: asyncio.Event,
    also: Sequence[ConsumerGroup] = (),
) -> None:
    """Open the platform, then consume `topics` as `group_id` (and each group of `also`)
    until `stop` is set."""
    async with (
        open_platform(settings, spec) as platform,
        heartbeat(platform, settings.infra.heartbeat_file),
    ):
        main = event_consumer(settings, platform, ConsumerGroup(group_id, topics, subscriptions))
        if not also:
            await main.run(stop)
            return
        others = [event_consumer(settings, platform, group) for group in also]
        # One group failing stops the others: the process exits rather than run half its groups.
        async with asyncio.TaskGroup() as running:
            for consumer in (main, *others):
                running.create_task(consumer.run(stop))


def run_consumer_process(
    settings: ServiceSettings,
    spec: ServiceSpec,
    *,
    group_id: str,
    topics: Sequence[str],
    subscriptions: SubscriptionsFactory,
    also: Sequence[ConsumerGroup] = (),
) -> None:
    """The body of `python -m <service>.consumers`: JSON logs, stops cleanly on SIGTERM/SIGINT."""
    configure_logging(f"{settings.service}-consumers", settings.infra.log_level)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await consume(
            settings,
            spec,
            group_id=group_id,
            topics=topics,
            subscriptions=subscriptions,
            stop=stop,
            also=also,
        )

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
