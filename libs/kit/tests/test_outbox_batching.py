"""A burst of writes is relayed in batches: one read and one mark-sent update per batch, not one
per change (each of those writes waits its turn with the writers' own), and a publish that
fails part-way through a batch loses nothing."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

import pytest
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase

from kit.events.contracts.booking import ClientCreated, ClientUpdated
from kit.events.envelope import Envelope, source_of
from kit.events.kafka import EventPublisher, ensure_topics
from kit.events.outbox import OutboxRelay, new_document_with_events, with_events
from kit.mongo import Document
from kit.settings import InfraSettings
from kit.testing import eventually, read_topic

BURST = 20
GATHER_SECONDS = 0.2


class UpdateCounter(monitoring.CommandListener):
    """Counts the `update` commands a client sends to one collection (what reached the server)."""

    def __init__(self, collection: str) -> None:
        self.collection = collection
        self.updates = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "update" and event.command.get("update") == self.collection:
            self.updates += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture
def counter() -> UpdateCounter:
    return UpdateCounter("clients")


@pytest.fixture
async def relay_db(
    infra: InfraSettings, db: AsyncDatabase[Document], counter: UpdateCounter
) -> AsyncIterator[AsyncDatabase[Document]]:
    """The test's database through a client of the relay's own, whose updates are counted."""
    client: AsyncMongoClient[Document] = AsyncMongoClient(
        infra.mongo_url, tz_aware=True, event_listeners=[counter]
    )
    yield client[db.name]
    await client.close()


def updated(client_id: str, n: int) -> Envelope:
    return Envelope.wrap(
        ClientUpdated(client_id=client_id, tags=[f"t{n}"]),
        subject=client_id,
        source=source_of("booking"),
    )


async def seed(db: AsyncDatabase[Document], count: int) -> None:
    """Clients whose creation events are already sent (an empty outbox)."""
    await db["clients"].insert_many(
        [new_document_with_events({"_id": f"c{i}"}) for i in range(count)]
    )


async def write_burst(
    db: AsyncDatabase[Document], relay: OutboxRelay, count: int
) -> list[Envelope]:
    """`count` single-document writes one after another (as one writer makes them), each with
    its event and its hint."""
    events = [updated(f"c{i}", i) for i in range(count)]
    for i, event in enumerate(events):
        await db["clients"].update_one(
            {"_id": f"c{i}"}, with_events({"$set": {"tags": [f"t{i}"]}}, event)
        )
        relay.notify("clients", f"c{i}")
    return events


async def pending(db: AsyncDatabase[Document]) -> int:
    return await db["clients"].count_documents({"_outbox.0": {"$exists": True}})


async def test_a_burst_of_writes_is_published_with_fewer_mark_sent_updates_than_writes(
    infra: InfraSettings,
    db: AsyncDatabase[Document],
    relay_db: AsyncDatabase[Document],
    counter: UpdateCounter,
    unique: str,
) -> None:
    topic = f"t.{unique}.booking.events"
    await ensure_topics(infra.kafka_bootstrap, [topic], partitions=1)
    await seed(db, BURST)
    publisher = EventPublisher(infra.kafka_bootstrap, client_id="test")
    relay = OutboxRelay(
        relay_db,
        publisher,
        ["clients"],
        scan_seconds=3600,
        gather_seconds=GATHER_SECONDS,
        topic_for=lambda _: topic,
    )
    assert await relay.publish_pending() == 0  # the start-up scan, before the burst
    task = asyncio.create_task(relay.run())
    try:
        started = time.monotonic()
        events = await write_burst(db, relay, BURST)
        burst_seconds = time.monotonic() - started

        async def all_sent() -> bool:
            return await pending(db) == 0

        await eventually(all_sent, timeout=30, what="every event of the burst marked sent")
        records = await read_topic(infra.kafka_bootstrap, topic, BURST)
        assert sorted(Envelope.from_bytes(r.value).id for r in records) == sorted(
            e.id for e in events
        )
        # What reached the server, counted by the relay's client, agrees with the relay.
        assert counter.updates == relay.mark_sent_writes
        assert 1 <= counter.updates < BURST, f"{counter.updates} updates for {BURST} writes"
        # A pass gathers for GATHER_SECONDS from its first hint, so the burst spans at most this
        # many passes (without gathering a pass follows each one it finishes: 6 here, measured).
        windows = int(burst_seconds / GATHER_SECONDS) + 1
        assert counter.updates <= windows, (
            f"{counter.updates} updates for a {burst_seconds:.2f} s burst ({windows} windows)"
        )
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await publisher.stop()


class FailsHalfway(EventPublisher):
    """Publishes the first half of its first batch, then loses the broker."""

    failures = 1

    async def publish_many(
        self, topic: str, envelopes: Iterable[Envelope], headers: Any = ()
    ) -> None:
        batch = list(envelopes)
        if self.failures and len(batch) > 1:
            self.failures -= 1
            await super().publish_many(topic, batch[: len(batch) // 2], headers)
            raise ConnectionError("the broker went away mid-batch")
        await super().publish_many(topic, batch, headers)


async def test_a_publish_that_fails_mid_batch_marks_nothing_and_the_next_pass_sends_it_all(
    infra: InfraSettings, db: AsyncDatabase[Document], unique: str
) -> None:
    topic = f"t.{unique}.booking.events"
    await ensure_topics(infra.kafka_bootstrap, [topic], partitions=1)
    await seed(db, BURST)
    publisher = FailsHalfway(infra.kafka_bootstrap, client_id="test")
    relay = OutboxRelay(db, publisher, ["clients"], scan_seconds=3600, topic_for=lambda _: topic)
    try:
        assert await relay.publish_pending() == 0  # the start-up scan, before the burst
        events = await write_burst(db, relay, BURST)

        with pytest.raises(ConnectionError):
            await relay.publish_pending()
        assert publisher.failures == 0
        assert relay.mark_sent_writes == 0
        assert await pending(db) == BURST  # half was published, none of it marked sent

        # The hints are kept for the next pass (no scan is due for an hour).
        assert await relay.publish_pending() == BURST
        assert relay.mark_sent_writes == 1
        assert await pending(db) == 0

        records = await read_topic(infra.kafka_bootstrap, topic, BURST + BURST // 2)
        ids = [Envelope.from_bytes(r.value).id for r in records]
        assert len(ids) == BURST + BURST // 2
        assert set(ids) == {e.id for e in events}  # every one, the first half twice (deduped
        # downstream by event id), never lost
    finally:
        await publisher.stop()


async def test_a_relay_with_no_gathering_still_publishes_each_write(
    infra: InfraSettings, db: AsyncDatabase[Document], unique: str
) -> None:
    topic = f"t.{unique}.booking.events"
    await ensure_topics(infra.kafka_bootstrap, [topic], partitions=1)
    publisher = EventPublisher(infra.kafka_bootstrap, client_id="test")
    relay = OutboxRelay(
        db, publisher, ["clients"], gather_seconds=0, poll_seconds=60, topic_for=lambda _: topic
    )
    task = asyncio.create_task(relay.run())
    try:
        created = Envelope.wrap(
            ClientCreated(client_id="c1"), subject="c1", source=source_of("booking")
        )
        await db["clients"].insert_one(new_document_with_events({"_id": "c1"}, created))
        relay.notify("clients", "c1")
        records = await asyncio.wait_for(read_topic(infra.kafka_bootstrap, topic, 1), 30)
        assert [Envelope.from_bytes(r.value).id for r in records] == [created.id]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await publisher.stop()
