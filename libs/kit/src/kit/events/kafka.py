"""Kafka plumbing: the idempotent publisher, topic creation and a reachability check."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence

from aiokafka import AIOKafkaClient, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from kit.events.envelope import Envelope

log = logging.getLogger(__name__)

Headers = Sequence[tuple[str, bytes]]


class EventPublisher:
    """An idempotent producer (acks=all); the Kafka key is the envelope's subject.

    Start-up does not fail when Kafka is away: `publish` (and the relay) start it on demand,
    so a service comes up, reports not-ready, and catches up when Kafka is back.
    `publish`/`publish_many` take contract topic names and put `topic_prefix` before them;
    `publish_raw` takes the name as it is in Kafka.
    """

    def __init__(self, bootstrap: str, *, client_id: str, topic_prefix: str = "") -> None:
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._topic_prefix = topic_prefix
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def _ensure_started(self) -> AIOKafkaProducer:
        async with self._lock:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    bootstrap_servers=self._bootstrap,
                    client_id=self._client_id,
                    enable_idempotence=True,
                    acks="all",
                    linger_ms=2,
                    request_timeout_ms=10_000,
                )
                try:
                    await producer.start()
                except BaseException:
                    await producer.stop()
                    raise
                self._producer = producer
            return self._producer

    async def start(self) -> None:
        try:
            await self._ensure_started()
        except Exception as exc:  # Kafka away at start-up: not fatal, see class docstring
            log.warning("Kafka not reachable at start-up (%s); will retry on first publish", exc)

    async def publish(self, topic: str, envelope: Envelope, headers: Headers = ()) -> None:
        await self.publish_many(topic, [envelope], headers)

    async def publish_many(
        self, topic: str, envelopes: Iterable[Envelope], headers: Headers = ()
    ) -> None:
        """Send all, then wait for every acknowledgement (batched, in order per key)."""
        producer = await self._ensure_started()
        pending = [
            await producer.send(
                self._topic_prefix + topic,
                value=e.to_bytes(),
                key=e.subject.encode(),
                headers=list(headers) or None,
            )
            for e in envelopes
        ]
        for future in pending:
            await future

    async def publish_raw(
        self, topic: str, value: bytes | None, *, key: bytes | None, headers: Headers
    ) -> None:
        producer = await self._ensure_started()
        await producer.send_and_wait(topic, value=value, key=key, headers=list(headers))

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None


async def ensure_topics(
    bootstrap: str, names: Iterable[str], *, partitions: int = 3, prefix: str = ""
) -> None:
    """Create missing topics (replication 1 locally; clusters configure their own defaults)."""
    names = [prefix + name for name in names]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        if missing:
            # TopicAlreadyExistsError: another process created it meanwhile.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [NewTopic(n, num_partitions=partitions, replication_factor=1) for n in missing]
                )
    finally:
        await admin.close()


async def check_kafka(bootstrap: str, *, timeout: float = 3.0) -> None:
    """Raises unless a broker answers a metadata request within `timeout` seconds."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000))
    try:
        await asyncio.wait_for(client.bootstrap(), timeout)
    finally:
        await client.close()
