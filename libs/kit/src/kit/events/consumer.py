"""The consumer runner: at-least-once delivery made exactly-once in effect.

- Offsets are committed only after the messages before them were handled (no auto-commit).
- Each handled event id is recorded per consumer group under a unique key; a redelivered or
  republished event is skipped.
- A handler that writes one document uses `HandlerContext.apply_once`, which records the event
  id inside that document in the same write, so a crash between the write and the ledger
  entry cannot apply it twice.
- A failing handler is retried with bounded backoff; then the original message goes to the
  group's dead-letter topic with the error in its headers, and the runner moves on.
- An undecodable message or a payload that breaks its contract is dead-lettered at once:
  retrying cannot fix it.
- Handlers see the record's headers (`HandlerContext.header`), so a consumer of a dead-letter
  topic can read why its messages were given up.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from pydantic import ValidationError
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from kit.events.envelope import Envelope, EventPayload
from kit.events.kafka import EventPublisher, ensure_topics
from kit.logging import bind_request_id, reset_request_id
from kit.mongo import Document

log = logging.getLogger(__name__)

LEDGER_COLLECTION = "consumed_events"
DUPLICATE_KEY = 11000
APPLIED_FIELD = "_applied_events"
# How many recent event ids a document remembers; redeliveries come long before this many
# newer events touch the same document, and the group ledger covers the rest.
APPLIED_KEEP = 200

P = TypeVar("P", bound=EventPayload)


def dead_letter_topic(topic: str, group_id: str) -> str:
    return f"{topic}.{group_id}.dlt"


@dataclass(frozen=True)
class HandlerContext:
    envelope: Envelope
    # The Kafka record's headers as they came (e.g. a dead-lettered message's `dlt.*`).
    headers: tuple[tuple[str, bytes], ...] = ()

    @property
    def event_id(self) -> str:
        return self.envelope.id

    def header(self, name: str) -> str | None:
        """The record's last header of that name as text (None when absent); a message
        dead-lettered twice carries both sets, the latest last."""
        for key, value in reversed(self.headers):
            if key == name:
                return value.decode(errors="replace")
        return None

    async def apply_once(
        self,
        collection: AsyncCollection[Document],
        selector: Document,
        update: dict[str, Any],
        *,
        upsert: bool = False,
    ) -> bool:
        """Apply `update` to the selected document unless this event already did.

        True if this call applied it.
        """
        if APPLIED_FIELD in update.get("$push", {}):
            raise ValueError("the update already pushes onto the applied-events list")
        push = {
            **update.get("$push", {}),
            APPLIED_FIELD: {"$each": [self.event_id], "$slice": -APPLIED_KEEP},
        }
        try:
            result = await collection.update_one(
                {**selector, APPLIED_FIELD: {"$ne": self.event_id}},
                {**update, "$push": push},
                upsert=upsert,
            )
        except DuplicateKeyError:
            # Upsert raced with the document that already holds this event id.
            return False
        return result.modified_count == 1 or result.upserted_id is not None


Handler = Callable[[P, HandlerContext], Awaitable[None]]


@dataclass(frozen=True)
class Subscription(Generic[P]):
    contract: type[P]
    handler: Handler[P]


class PoisonMessage(Exception):
    """A message no retry can fix."""


class EventConsumer:
    def __init__(
        self,
        *,
        bootstrap: str,
        group_id: str,
        topics: Sequence[str],
        subscriptions: Sequence[Subscription[Any]],
        db: AsyncDatabase[Document],
        publisher: EventPublisher,
        max_attempts: int = 4,
        backoff_seconds: float = 0.2,
        session_timeout_ms: int = 10_000,
        topic_prefix: str = "",
    ) -> None:
        self._bootstrap = bootstrap
        self.group_id = group_id
        self._topics = [topic_prefix + topic for topic in topics]
        self._subscriptions = {s.contract.event_type: s for s in subscriptions}
        self._ledger = db[LEDGER_COLLECTION]
        self._publisher = publisher
        self._max_attempts = max_attempts
        self._backoff_seconds = backoff_seconds
        self._session_timeout_ms = session_timeout_ms

    async def prepare(self) -> None:
        await self._ledger.create_index([("group", 1), ("event_id", 1)], name="group_event")
        await ensure_topics(
            self._bootstrap,
            [*self._topics, *(dead_letter_topic(t, self.group_id) for t in self._topics)],
        )

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Consume until `stop` is set (or the task is cancelled)."""
        stop = stop or asyncio.Event()
        await self.prepare()
        consumer = AIOKafkaConsumer(
            *self._topics,
            bootstrap_servers=self._bootstrap,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=self._session_timeout_ms,
            heartbeat_interval_ms=max(1000, self._session_timeout_ms // 3),
        )
        await consumer.start()
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=500, max_records=200)
                for partition, messages in batches.items():
                    await self.handle_batch(messages)
                    await consumer.commit({partition: messages[-1].offset + 1})
        finally:
            await consumer.stop()

    async def handle_batch(self, messages: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        """Handle one partition's messages in order; one ledger read and one write per batch."""
        decoded: list[tuple[ConsumerRecord[bytes, bytes], Envelope]] = []
        for message in messages:
            try:
                decoded.append((message, self._decode(message)))
            except PoisonMessage as exc:
                await self._dead_letter(message, exc, attempts=1)
        ours = [(m, e) for m, e in decoded if e.type in self._subscriptions]
        if not ours:
            return  # other consumers' events on a shared topic
        seen = {
            document["event_id"]
            async for document in self._ledger.find(
                {"_id": {"$in": [self._ledger_id(e) for _, e in ours]}}, {"event_id": 1}
            )
        }
        handled: list[Document] = []
        for message, envelope in ours:
            if envelope.id in seen:
                log.info("skipping an event already handled", extra={"event_id": envelope.id})
                continue
            seen.add(envelope.id)  # the same event twice in one batch
            token = bind_request_id(envelope.requestid)
            try:
                outcome = await self._dispatch(
                    message, envelope, self._subscriptions[envelope.type]
                )
            finally:
                reset_request_id(token)
            handled.append(
                {
                    "_id": self._ledger_id(envelope),
                    "group": self.group_id,
                    "event_id": envelope.id,
                    "type": envelope.type,
                    "outcome": outcome,
                    "handled_at": datetime.now(UTC),
                }
            )
        if handled:
            # A duplicate key means another member of the group handled one of these too
            # (after a rebalance); apply_once kept its effect single. The rest are written.
            try:
                await self._ledger.insert_many(handled, ordered=False)
            except BulkWriteError as exc:
                if any(e.get("code") != DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
                    raise

    def _ledger_id(self, envelope: Envelope) -> str:
        return f"{self.group_id}:{envelope.id}"

    async def _dispatch(
        self,
        message: ConsumerRecord[bytes, bytes],
        envelope: Envelope,
        subscription: Subscription[Any],
    ) -> str:
        try:
            payload: EventPayload = envelope.payload(subscription.contract)
        except ValidationError as exc:
            await self._dead_letter(message, exc, attempts=1)
            return "dead_lettered"
        context = HandlerContext(envelope, tuple(message.headers or ()))
        for attempt in range(1, self._max_attempts + 1):
            try:
                await subscription.handler(payload, context)
                return "handled"
            except Exception as exc:
                if attempt == self._max_attempts:
                    await self._dead_letter(message, exc, attempts=attempt)
                    return "dead_lettered"
                log.warning(
                    "handler failed (attempt %d of %d): %s",
                    attempt,
                    self._max_attempts,
                    exc,
                    extra={"event_id": envelope.id, "event_type": envelope.type},
                )
                await asyncio.sleep(self._backoff_seconds * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def _decode(self, message: ConsumerRecord[bytes, bytes]) -> Envelope:
        if message.value is None:
            raise PoisonMessage("the message has no body")
        try:
            return Envelope.from_bytes(message.value)
        except ValidationError as exc:
            raise PoisonMessage(f"not an event envelope: {exc.error_count()} problem(s)") from exc

    async def _dead_letter(
        self, message: ConsumerRecord[bytes, bytes], error: BaseException, *, attempts: int
    ) -> None:
        topic = dead_letter_topic(message.topic, self.group_id)
        summary = "".join(traceback.format_exception_only(type(error), error)).strip()
        headers = [
            *(message.headers or ()),
            ("dlt.error.type", type(error).__name__.encode()),
            ("dlt.error.message", summary[:4000].encode()),
            ("dlt.attempts", str(attempts).encode()),
            ("dlt.original.topic", message.topic.encode()),
            ("dlt.original.partition", str(message.partition).encode()),
            ("dlt.original.offset", str(message.offset).encode()),
            ("dlt.consumer.group", self.group_id.encode()),
        ]
        log.error("dead-lettering a message to %s: %s", topic, summary, extra={"topic": topic})
        await self._publisher.publish_raw(topic, message.value, key=message.key, headers=headers)
