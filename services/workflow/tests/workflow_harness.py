"""Test harness: the workflow service in-process against the real servers, its consumer fed
from a topic of the test's own, and what it publishes on workflow.events collected."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from kit.app import Platform
from kit.events.consumer import EventConsumer
from kit.events.envelope import Envelope, EventPayload, source_of
from kit.events.kafka import EventPublisher, ensure_topics
from kit.settings import InfraSettings
from kit.testing import eventually
from workflow.context import WorkflowContext


@dataclass
class Workflow:
    """The running service: its HTTP client, its platform and its context."""

    client: httpx.AsyncClient
    platform: Platform
    context: WorkflowContext
    consumer: EventConsumer
    publisher: EventPublisher
    topic: str
    infra: InfraSettings
    published: list[Envelope] = field(default_factory=list)

    @property
    def db(self) -> Any:
        return self.platform.db

    def envelope(
        self, payload: EventPayload, *, subject: str, time: datetime | None = None
    ) -> Envelope:
        envelope = Envelope.wrap(payload, subject=subject, source=source_of("tests"))
        return envelope.model_copy(update={"time": time}) if time else envelope

    async def deliver(self, *envelopes: Envelope) -> None:
        """Hand envelopes to the service's consumer as one partition batch (no broker)."""
        records = [
            ConsumerRecord(
                topic=self.topic,
                partition=0,
                offset=i,
                timestamp=0,
                timestamp_type=0,
                key=e.subject.encode(),
                value=e.to_bytes(),
                checksum=None,
                serialized_key_size=0,
                serialized_value_size=0,
                headers=[],
            )
            for i, e in enumerate(envelopes)
        ]
        await self.consumer.handle_batch(records)

    async def publish(self, *envelopes: Envelope) -> None:
        """Publish envelopes on the test's own topic, which the running consumer reads."""
        await self.publisher.publish_many(self.topic, envelopes)

    async def handled(self, envelope: Envelope, *, timeout: float = 30) -> None:
        ledger = self.db["consumed_events"]

        async def recorded() -> bool:
            found = await ledger.find_one({"_id": f"{self.consumer.group_id}:{envelope.id}"})
            return found is not None

        await eventually(recorded, timeout=timeout, what=f"event {envelope.type} handled")

    async def workflow_events(
        self, subject: str, count: int, *, timeout: float = 30
    ) -> list[Envelope]:
        """The first `count` events on workflow.events about `subject`, in order."""

        def about() -> list[Envelope]:
            return [e for e in self.published if e.subject == subject]

        async def enough() -> bool:
            return len(about()) >= count

        await eventually(enough, timeout=timeout, what=f"{count} events about {subject}")
        return about()


@contextlib.asynccontextmanager
async def watching(infra: InfraSettings, into: list[Envelope]) -> AsyncIterator[None]:
    """Collect what is published on workflow.events from now on."""
    topic = "workflow.events"
    await ensure_topics(infra.kafka_bootstrap, [topic])
    reader = AIOKafkaConsumer(bootstrap_servers=infra.kafka_bootstrap, enable_auto_commit=False)
    await reader.start()
    # The consumer's own metadata only covers subscribed topics; ask the cluster.
    partitions = (await reader._client.fetch_all_metadata()).partitions_for_topic(topic)
    if not partitions:
        await reader.stop()
        raise RuntimeError("workflow.events has no partitions")
    assigned = [TopicPartition(topic, p) for p in partitions]
    reader.assign(assigned)
    await reader.seek_to_end(*assigned)
    for partition in assigned:
        await reader.position(partition)

    async def collect() -> None:
        while True:
            for batch in (await reader.getmany(timeout_ms=200)).values():
                into.extend(Envelope.from_bytes(r.value) for r in batch if r.value is not None)

    task = asyncio.create_task(collect())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await reader.stop()
