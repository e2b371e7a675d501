"""The transactional outbox, without transactions.

A state change and its events are one single-document write: the events ride in the changed
document's `_outbox` array (`$push` in the same update, or the array in the inserted document).
The relay publishes pending events in order and then removes exactly those values with
`$pullAll`. A crash between the two publishes them again; consumers skip the duplicate ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from kit.events.contracts import CATALOGUE
from kit.events.envelope import Envelope
from kit.events.kafka import EventPublisher
from kit.mongo import Document, IndexSpec

log = logging.getLogger(__name__)

OUTBOX_FIELD = "_outbox"


def with_events(update: dict[str, Any], *events: Envelope) -> dict[str, Any]:
    """`update` plus a `$push` of `events` onto the document's outbox, for one atomic write."""
    if OUTBOX_FIELD in update.get("$push", {}):
        raise ValueError("the update already pushes onto the outbox")
    push = {**update.get("$push", {}), OUTBOX_FIELD: {"$each": [e.as_record() for e in events]}}
    return {**update, "$push": push}


def new_document_with_events(document: Document, *events: Envelope) -> Document:
    """A document to insert, carrying its creation events."""
    return {**document, OUTBOX_FIELD: [e.as_record() for e in events]}


def outbox_indexes(collections: Sequence[str]) -> list[IndexSpec]:
    return [IndexSpec(c, [(f"{OUTBOX_FIELD}.id", 1)], name="outbox_pending") for c in collections]


class OutboxRelay:
    """Publishes the outbox events of `collections` to the events' topics."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        publisher: EventPublisher,
        collections: Sequence[str],
        *,
        poll_seconds: float = 0.5,
        batch: int = 200,
        topic_for: Callable[[Envelope], str] | None = None,
    ) -> None:
        self._db = db
        self._publisher = publisher
        self._collections = list(collections)
        self._poll_seconds = poll_seconds
        self._batch = batch
        self._topic_for = topic_for or topic_of
        self._wake = asyncio.Event()

    def notify(self) -> None:
        """Called after a write that carried events, so they go out without waiting for a poll."""
        self._wake.set()

    async def publish_pending(self) -> int:
        """One pass over every collection; returns how many events were published."""
        published = 0
        for name in self._collections:
            collection = self._db[name]
            cursor = collection.find(
                {f"{OUTBOX_FIELD}.0": {"$exists": True}}, {OUTBOX_FIELD: 1}
            ).limit(self._batch)
            async for document in cursor:
                records: list[dict[str, Any]] = document[OUTBOX_FIELD]
                envelopes = [Envelope.from_record(r) for r in records]
                by_topic: dict[str, list[Envelope]] = {}
                for envelope in envelopes:
                    by_topic.setdefault(self._topic_for(envelope), []).append(envelope)
                for topic, group in by_topic.items():
                    await self._publisher.publish_many(topic, group)
                await self._mark_sent(collection, document["_id"], records)
                published += len(records)
        return published

    async def _mark_sent(
        self, collection: AsyncCollection[Document], document_id: Any, records: list[Document]
    ) -> None:
        # Exact values, not a condition: events pushed meanwhile stay for the next pass.
        await collection.update_one({"_id": document_id}, {"$pullAll": {OUTBOX_FIELD: records}})

    async def run(self) -> None:
        """Until cancelled: publish, then sleep until notified or the poll interval passes."""
        failures = 0
        while True:
            self._wake.clear()
            try:
                if await self.publish_pending():
                    failures = 0
                    continue  # more may be waiting beyond the batch
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                log.warning("outbox relay pass failed (%s); retrying", exc)
                await asyncio.sleep(min(5.0, 0.2 * 2**failures))
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_seconds)


def topic_of(envelope: Envelope) -> str:
    contract = CATALOGUE.get(envelope.type)
    if contract is None:
        raise LookupError(f"no contract for event type {envelope.type}")
    return contract.topic
