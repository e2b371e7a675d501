"""The outbox relay publishes what a write carried, in order, and never loses an event."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from kit.events.contracts.booking import ClientCreated, ClientUpdated
from kit.events.envelope import Envelope, source_of
from kit.events.kafka import EventPublisher, ensure_topics
from kit.events.outbox import OutboxRelay, new_document_with_events, with_events
from kit.mongo import Document
from kit.settings import InfraSettings
from kit.testing import read_topic


class CrashAfterPublish(OutboxRelay):
    """A relay that dies after publishing, before marking the events sent."""

    crashes = 1

    async def _mark_sent(
        self,
        collection: AsyncCollection[Document],
        document_ids: list[Any],
        records: list[Document],
    ) -> None:
        if self.crashes:
            self.crashes -= 1
            raise ConnectionError("relay process died")
        await super()._mark_sent(collection, document_ids, records)


def created(client_id: str) -> Envelope:
    return Envelope.wrap(
        ClientCreated(client_id=client_id), subject=client_id, source=source_of("booking")
    )


async def test_a_relay_crash_between_publish_and_mark_publishes_again_and_loses_nothing(
    infra: InfraSettings, db: AsyncDatabase[Document], unique: str
) -> None:
    topic = f"t.{unique}.booking.events"
    await ensure_topics(infra.kafka_bootstrap, [topic], partitions=1)
    publisher = EventPublisher(infra.kafka_bootstrap, client_id="test")
    clients = db["clients"]
    first = created("c1")
    await clients.insert_one(new_document_with_events({"_id": "c1", "name": "Ann"}, first))
    second = Envelope.wrap(
        ClientUpdated(client_id="c1", tags=["vip"]), subject="c1", source=source_of("booking")
    )
    await clients.update_one({"_id": "c1"}, with_events({"$set": {"tags": ["vip"]}}, second))
    relay = CrashAfterPublish(db, publisher, ["clients"], topic_for=lambda _: topic)
    try:
        with contextlib.suppress(ConnectionError):
            await relay.publish_pending()
        assert len((await clients.find_one({"_id": "c1"}) or {})["_outbox"]) == 2  # nothing marked

        assert await relay.publish_pending() == 2
        document = await clients.find_one({"_id": "c1"})
        assert document is not None
        assert document["_outbox"] == []
        assert document["tags"] == ["vip"]

        records = await read_topic(infra.kafka_bootstrap, topic, 4)
        ids = [Envelope.from_bytes(r.value).id for r in records]
        assert ids == [first.id, second.id, first.id, second.id]  # in order, twice, never lost
        assert all(r.key == b"c1" for r in records)  # keyed by the aggregate
    finally:
        await publisher.stop()


async def test_events_written_while_the_relay_publishes_stay_for_its_next_pass(
    infra: InfraSettings, db: AsyncDatabase[Document], unique: str
) -> None:
    topic = f"t.{unique}.booking.events"
    await ensure_topics(infra.kafka_bootstrap, [topic], partitions=1)
    clients = db["clients"]
    await clients.insert_one(new_document_with_events({"_id": "c1"}, created("c1")))
    late = Envelope.wrap(ClientUpdated(client_id="c1"), subject="c1", source=source_of("booking"))

    class WriteDuringPublish(EventPublisher):
        async def publish_many(self, topic: str, envelopes: Any, headers: Any = ()) -> None:
            await super().publish_many(topic, envelopes, headers)
            if late.id not in [e.id for e in envelopes]:
                await clients.update_one({"_id": "c1"}, with_events({"$set": {"x": 1}}, late))
                relay.notify("clients", "c1")

    publisher = WriteDuringPublish(infra.kafka_bootstrap, client_id="test")
    relay = OutboxRelay(db, publisher, ["clients"], topic_for=lambda _: topic)
    try:
        assert await relay.publish_pending() == 1
        document = await clients.find_one({"_id": "c1"})
        assert document is not None
        assert [e["id"] for e in document["_outbox"]] == [late.id]
        assert await relay.publish_pending() == 1
        assert await asyncio.wait_for(read_topic(infra.kafka_bootstrap, topic, 2), 30)
    finally:
        await publisher.stop()


async def test_the_relay_reads_notified_documents_and_a_periodic_scan_finds_the_rest(
    infra: InfraSettings, db: AsyncDatabase[Document], unique: str
) -> None:
    topic = f"t.{unique}.booking.events"
    await ensure_topics(infra.kafka_bootstrap, [topic], partitions=1)
    publisher = EventPublisher(infra.kafka_bootstrap, client_id="test")
    clients = db["clients"]
    relay = OutboxRelay(db, publisher, ["clients"], scan_seconds=3600, topic_for=lambda _: topic)
    try:
        assert await relay.publish_pending() == 0  # the start-up scan: nothing yet
        await clients.insert_many(
            [new_document_with_events({"_id": f"c{i}"}, created(f"c{i}")) for i in range(5)]
        )
        relay.notify("clients", "c0", "c1")
        assert await relay.publish_pending() == 2  # just the notified ones, read by _id
        assert await relay.publish_pending() == 0  # no hint, no scan due yet
        assert await clients.count_documents({"_outbox.0": {"$exists": True}}) == 3

        relay.notify()  # no ids: scan (as the periodic scan does for a crashed writer's events)
        assert await relay.publish_pending() == 3
        assert await clients.count_documents({"_outbox.0": {"$exists": True}}) == 0
        records = await read_topic(infra.kafka_bootstrap, topic, 5)
        assert sorted(r.key for r in records) == [f"c{i}".encode() for i in range(5)]
    finally:
        await publisher.stop()
