"""`STUDIO_TOPIC_PREFIX`: two platforms share one Kafka cluster without seeing each other's events,
dead letters included."""

from __future__ import annotations

import asyncio
import contextlib

from pymongo.asynchronous.database import AsyncDatabase

from kit.events.consumer import EventConsumer, HandlerContext, Subscription, dead_letter_topic
from kit.events.contracts.booking import ClientCreated
from kit.events.envelope import Envelope, source_of
from kit.events.kafka import EventPublisher, ensure_topics
from kit.mongo import Document
from kit.settings import InfraSettings
from kit.testing import read_topic


def client_created(client_id: str) -> Envelope:
    return Envelope.wrap(
        ClientCreated(client_id=client_id), subject=client_id, source=source_of("booking")
    )


async def test_a_prefixed_platform_publishes_consumes_and_dead_letters_on_its_own_topics(
    infra: InfraSettings, db: AsyncDatabase[Document], unique: str
) -> None:
    topic = f"t.{unique}.booking.events"
    prefix = f"p{unique}."
    group = f"prefix-{unique}"
    await ensure_topics(infra.kafka_bootstrap, [topic], partitions=1)
    await ensure_topics(infra.kafka_bootstrap, [topic], partitions=1, prefix=prefix)
    plain = EventPublisher(infra.kafka_bootstrap, client_id="test-plain")
    prefixed = EventPublisher(infra.kafka_bootstrap, client_id="test-prefixed", topic_prefix=prefix)
    handled: list[str] = []
    last = asyncio.Event()

    async def handle(event: ClientCreated, ctx: HandlerContext) -> None:
        if event.client_id == "poison":
            raise RuntimeError("refused")
        handled.append(event.client_id)
        if event.client_id == "last":
            last.set()

    consumer = EventConsumer(
        bootstrap=infra.kafka_bootstrap,
        group_id=group,
        topics=[topic],
        subscriptions=[Subscription(ClientCreated, handle)],
        db=db,
        publisher=prefixed,
        max_attempts=1,
        backoff_seconds=0.01,
        topic_prefix=prefix,
    )
    await plain.publish(topic, client_created("unprefixed"))
    for client_id in ("first", "poison", "last"):
        await prefixed.publish(topic, client_created(client_id))

    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        async with asyncio.timeout(30):
            await last.wait()
        assert handled == ["first", "last"]
        physical = await read_topic(infra.kafka_bootstrap, prefix + topic, 3, timeout=10)
        assert len(physical) == 3
        unprefixed = await read_topic(infra.kafka_bootstrap, topic, 2, timeout=3)
        assert len(unprefixed) == 1  # only the plain publisher's event
        dead = await read_topic(
            infra.kafka_bootstrap, dead_letter_topic(prefix + topic, group), 1, timeout=10
        )
        assert [Envelope.from_bytes(r.value or b"").data["client_id"] for r in dead] == ["poison"]
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await plain.stop()
        await prefixed.stop()
