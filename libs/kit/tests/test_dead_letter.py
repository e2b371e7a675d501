"""A poison message lands in the group's dead-letter topic with its error, and the consumer
goes on with the next message."""

from __future__ import annotations

import asyncio
import contextlib
import json

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


async def test_poison_messages_are_dead_lettered_with_their_error_and_the_next_message_is_handled(
    infra: InfraSettings, db: AsyncDatabase[Document], unique: str
) -> None:
    topic = f"t.{unique}.booking.events"
    group = f"dlt-{unique}"
    await ensure_topics(
        infra.kafka_bootstrap, [topic], partitions=1
    )  # one partition: a known order
    publisher = EventPublisher(infra.kafka_bootstrap, client_id="test")
    handled: list[str] = []
    attempts: dict[str, int] = {}
    fine_handled = asyncio.Event()

    async def handle(event: ClientCreated, ctx: HandlerContext) -> None:
        attempts[event.client_id] = attempts.get(event.client_id, 0) + 1
        if event.client_id == "always-fails":
            raise RuntimeError("the projection store refused the write")
        handled.append(event.client_id)
        fine_handled.set()

    consumer = EventConsumer(
        bootstrap=infra.kafka_bootstrap,
        group_id=group,
        topics=[topic],
        subscriptions=[Subscription(ClientCreated, handle)],
        db=db,
        publisher=publisher,
        max_attempts=3,
        backoff_seconds=0.01,
    )
    broken_contract = client_created("x").model_copy(
        update={"data": {"email": "no-id@example.com"}}
    )
    await publisher.publish_raw(
        topic, b"\x00not json at all", key=b"k", headers=[("origin", b"test")]
    )
    await publisher.publish(topic, broken_contract)
    await publisher.publish(topic, client_created("always-fails"))
    await publisher.publish(topic, client_created("fine"))

    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        await asyncio.wait_for(fine_handled.wait(), 30)
        assert handled == ["fine"]
        assert attempts["always-fails"] == 3  # retried up to the bound, then dead-lettered

        dead = await read_topic(infra.kafka_bootstrap, dead_letter_topic(topic, group), 3)
        assert len(dead) == 3
        dead.sort(key=lambda r: int(dict(r.headers)["dlt.original.offset"]))
        headers = [dict(r.headers) for r in dead]
        assert [h["dlt.error.type"] for h in headers] == [
            b"PoisonMessage",
            b"ValidationError",
            b"RuntimeError",
        ]
        assert b"refused the write" in headers[2]["dlt.error.message"]
        assert [h["dlt.attempts"] for h in headers] == [b"1", b"1", b"3"]
        assert headers[0]["origin"] == b"test"  # the original headers travel along
        assert all(h["dlt.original.topic"] == topic.encode() for h in headers)
        assert dead[0].value == b"\x00not json at all"  # the original bytes, untouched
        assert json.loads(dead[2].value)["data"]["client_id"] == "always-fails"

        outcomes = {
            d["event_id"]: d["outcome"] async for d in db["consumed_events"].find({"group": group})
        }
        assert sorted(outcomes.values()) == ["dead_lettered", "dead_lettered", "handled"]
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await publisher.stop()


async def test_a_consumer_of_the_dead_letter_topic_reads_why_each_message_was_given_up(
    infra: InfraSettings, db: AsyncDatabase[Document], unique: str
) -> None:
    topic = f"t.{unique}.booking.events"
    group, keeper = f"dlt-{unique}", f"dlt-keeper-{unique}"
    await ensure_topics(infra.kafka_bootstrap, [topic], partitions=1)
    publisher = EventPublisher(infra.kafka_bootstrap, client_id="test")
    seen: dict[str, dict[str, str | None]] = {}
    fine_headers: list[tuple[tuple[str, bytes], ...]] = []
    kept, fine_handled = asyncio.Event(), asyncio.Event()

    async def handle(event: ClientCreated, ctx: HandlerContext) -> None:
        if event.client_id == "always-fails":
            raise RuntimeError("the projection store refused the write")
        fine_headers.append(ctx.headers)
        fine_handled.set()

    async def keep(event: ClientCreated, ctx: HandlerContext) -> None:
        names = ("dlt.error.type", "dlt.error.message", "dlt.attempts", "origin", "absent")
        seen[event.client_id] = {name: ctx.header(name) for name in names}
        kept.set()

    consumers = [
        EventConsumer(
            bootstrap=infra.kafka_bootstrap,
            group_id=group,
            topics=[topic],
            subscriptions=[Subscription(ClientCreated, handle)],
            db=db,
            publisher=publisher,
            max_attempts=2,
            backoff_seconds=0.01,
        ),
        EventConsumer(
            bootstrap=infra.kafka_bootstrap,
            group_id=keeper,
            topics=[dead_letter_topic(topic, group)],
            subscriptions=[Subscription(ClientCreated, keep)],
            db=db,
            publisher=publisher,
        ),
    ]
    failing = client_created("always-fails")
    await publisher.publish_raw(
        topic, failing.to_bytes(), key=b"always-fails", headers=[("origin", b"test")]
    )
    await publisher.publish(topic, client_created("fine"))
    stop = asyncio.Event()
    tasks = [asyncio.create_task(c.run(stop)) for c in consumers]
    try:
        async with asyncio.timeout(30):
            await kept.wait()
            await fine_handled.wait()
        assert seen == {
            "always-fails": {
                "dlt.error.type": "RuntimeError",
                "dlt.error.message": "RuntimeError: the projection store refused the write",
                "dlt.attempts": "2",
                "origin": "test",
                "absent": None,
            }
        }
        assert fine_headers == [()]  # a record without headers: none
    finally:
        stop.set()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await publisher.stop()
