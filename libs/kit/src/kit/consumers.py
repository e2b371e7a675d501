"""Consumer processes: a service's event handlers run in a process of their own.

A service's `consumers.py` builds its subscriptions from the opened platform and calls
`run_consumer_process`; `infra/local/services.sh` starts `python -m <service>.consumers`
beside the API process whenever that module exists.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Sequence
from typing import Any

from kit.app import Platform, ServiceSpec, open_platform
from kit.events.consumer import EventConsumer, Subscription
from kit.logging import configure_logging
from kit.settings import ServiceSettings

SubscriptionsFactory = Callable[[Platform], Sequence[Subscription[Any]]]


async def consume(
    settings: ServiceSettings,
    spec: ServiceSpec,
    *,
    group_id: str,
    topics: Sequence[str],
    subscriptions: SubscriptionsFactory,
    stop: asyncio.Event,
) -> None:
    """Open the platform, then consume `topics` as `group_id` until `stop` is set."""
    async with open_platform(settings, spec) as platform:
        consumer = EventConsumer(
            bootstrap=settings.infra.kafka_bootstrap,
            group_id=group_id,
            topics=topics,
            subscriptions=subscriptions(platform),
            db=platform.db,
            publisher=platform.publisher,
            topic_prefix=settings.infra.topic_prefix,
        )
        await consumer.run(stop)


def run_consumer_process(
    settings: ServiceSettings,
    spec: ServiceSpec,
    *,
    group_id: str,
    topics: Sequence[str],
    subscriptions: SubscriptionsFactory,
) -> None:
    """The body of `python -m <service>.consumers`: JSON logs, stops cleanly on SIGTERM/SIGINT."""
    configure_logging(f"{settings.service}-consumers", settings.infra.log_level)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await consume(
            settings, spec, group_id=group_id, topics=topics, subscriptions=subscriptions, stop=stop
        )

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
