"""An event written through one service's outbox is applied exactly once by a consumer in
another process: across SIGKILLs of that consumer mid-stream, and when the same events are
published twice."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from pymongo.asynchronous.database import AsyncDatabase

from kit.events.contracts.booking import ClientCreated, ClientUpdated
from kit.events.envelope import Envelope, source_of
from kit.events.kafka import EventPublisher, ensure_topics
from kit.events.outbox import OutboxRelay, new_document_with_events, with_events
from kit.mongo import Document
from kit.settings import InfraSettings
from kit.testing import eventually

CONSUMER = Path(__file__).parent / "support" / "client_projection.py"
CLIENTS = 400
UPDATED = 100  # the first UPDATED clients also get one update event


def start_consumer(
    infra: InfraSettings, database: str, topic: str, group: str, log: Path
) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:
        return subprocess.Popen(
            [
                sys.executable,
                str(CONSUMER),
                infra.kafka_bootstrap,
                infra.mongo_url,
                database,
                topic,
                group,
            ],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=sink,
            stderr=sink,
        )


async def write_clients_through_outbox(
    db: AsyncDatabase[Document], relay: OutboxRelay
) -> list[Envelope]:
    """What the booking service does: each client and its event in one write."""
    clients = db["clients"]
    source = source_of("booking")
    envelopes = []
    for i in range(CLIENTS):
        client_id = f"c{i:04d}"
        event = Envelope.wrap(
            ClientCreated(client_id=client_id, email=f"{client_id}@example.com"),
            subject=client_id,
            source=source,
        )
        envelopes.append(event)
        await clients.insert_one(
            new_document_with_events({"_id": client_id, "email": f"{client_id}@example.com"}, event)
        )
        if i < UPDATED:
            update = Envelope.wrap(
                ClientUpdated(client_id=client_id, tags=["senior"]),
                subject=client_id,
                source=source,
            )
            envelopes.append(update)
            await clients.update_one(
                {"_id": client_id}, with_events({"$set": {"tags": ["senior"]}}, update)
            )
        relay.notify("clients", client_id)
    return envelopes


async def test_outbox_events_are_applied_exactly_once_across_consumer_kills_and_republishing(
    infra: InfraSettings, db: AsyncDatabase[Document], unique: str, tmp_path: Path
) -> None:
    log = tmp_path / "consumer.log"
    topic = f"t.{unique}.booking.events"
    group = f"projection-{unique}"
    await ensure_topics(infra.kafka_bootstrap, [topic])
    publisher = EventPublisher(infra.kafka_bootstrap, client_id="test-producer")
    relay = OutboxRelay(db, publisher, ["clients"], poll_seconds=0.1, topic_for=lambda _: topic)
    projection = db["client_projection"]

    consumer = start_consumer(infra, db.name, topic, group, log)
    relay_task = asyncio.create_task(relay.run())
    try:
        writer = asyncio.create_task(write_clients_through_outbox(db, relay))

        # Kill the consumer twice while it is in the middle of the stream.
        for fraction in (0.25, 0.6):

            async def progressed(fraction: float = fraction) -> bool:
                return await projection.count_documents({}) >= CLIENTS * fraction

            await eventually(
                progressed, timeout=60, what=f"{fraction:.0%} of the clients projected"
            )
            consumer.send_signal(signal.SIGKILL)
            consumer.wait()
            assert await projection.count_documents({}) < CLIENTS, "the kill should land mid-stream"
            consumer = start_consumer(infra, db.name, topic, group, log)

        envelopes = await writer
        # The relay publishes some events a second time (as after a crash before marking them sent).
        await publisher.publish_many(topic, envelopes[::3])

        async def all_applied() -> bool:
            done = await projection.count_documents({"created": {"$gte": 1}})
            updated = await projection.count_documents({"updates": {"$gte": 1}})
            return done == CLIENTS and updated == UPDATED

        await eventually(all_applied, timeout=90, what="every event applied")
        # Let the republished duplicates drain through the consumer too.
        await eventually(
            lambda: _ledger_has(db, group, len(envelopes)),
            timeout=30,
            what="every event recorded as handled",
        )
        await asyncio.sleep(1.0)

        twice = await projection.count_documents(
            {"$or": [{"created": {"$gt": 1}}, {"updates": {"$gt": 1}}]}
        )
        assert twice == 0, f"{twice} clients saw an event applied more than once"
        assert await projection.count_documents({"created": 1}) == CLIENTS
        assert await projection.count_documents({"updates": 1}) == UPDATED
        assert await db["clients"].count_documents({"_outbox.0": {"$exists": True}}) == 0
    finally:
        relay_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay_task
        consumer.send_signal(signal.SIGTERM)
        try:
            consumer.wait(timeout=15)
        except subprocess.TimeoutExpired:
            consumer.kill()
        await publisher.stop()


async def _ledger_has(db: AsyncDatabase[Document], group: str, count: int) -> bool:
    return await db["consumed_events"].count_documents({"group": group}) >= count
