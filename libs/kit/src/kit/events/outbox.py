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
import time
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
PENDING = {f"{OUTBOX_FIELD}.0": {"$exists": True}}


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
    """Publishes the outbox events of `collections` to the events' topics.

    Writers tell the relay which documents they gave events (`notify(collection, *ids)`), and
    it reads those by `_id`. A full scan for pending events runs at start, when `notify()` is
    called without ids, and every `scan_seconds` after that: it finds what a crash (or another
    process) left. The MongoDB-wire server here only uses indexes for `_id`, so a scan reads
    the whole collection; the hints keep that off the hot path.

    A hint does not start a pass at once: the relay gathers hints for `gather_seconds` first,
    so a burst of writes becomes one pass with one read (`_id` `$in`) and one mark-sent update
    per collection instead of a read and a write per change. Those writes go through the same
    single-writer path as the writers' own (the serializing proxy in front of FerretDB), so a
    pass per change slowed the writers more than it sped the events.
    """

    def __init__(
        self,
        db: AsyncDatabase[Document],
        publisher: EventPublisher,
        collections: Sequence[str],
        *,
        poll_seconds: float = 0.5,
        scan_seconds: float = 30.0,
        gather_seconds: float = 0.05,
        batch: int = 200,
        topic_for: Callable[[Envelope], str] | None = None,
    ) -> None:
        self._db = db
        self._publisher = publisher
        self._collections = list(collections)
        self._poll_seconds = poll_seconds
        self._scan_seconds = scan_seconds
        self._gather_seconds = gather_seconds
        self._batch = batch
        self._topic_for = topic_for or topic_of
        self._wake = asyncio.Event()
        self._hints: dict[str, set[Any]] = {}
        self._scan_due = True
        self._last_scan = 0.0
        # Updates that marked events sent, for tests and benchmarks (one per batch, not event).
        self.mark_sent_writes = 0

    def notify(self, collection: str | None = None, *document_ids: Any) -> None:
        """Called after a write that carried events, so they go out without waiting.

        With a collection and ids, the relay reads just those documents; without, it scans.
        """
        if collection is None or not document_ids:
            self._scan_due = True
        else:
            self._hints.setdefault(collection, set()).update(document_ids)
        self._wake.set()

    async def publish_pending(self) -> int:
        """One pass; returns how many events were published."""
        hints, self._hints = self._hints, {}
        scan = self._scan_is_due()
        if scan:
            self._scan_due = False
            self._last_scan = time.monotonic()
        published = 0
        try:
            for name in self._collections:
                collection = self._db[name]
                if scan:
                    documents = (
                        await collection.find(PENDING, {OUTBOX_FIELD: 1})
                        .limit(self._batch)
                        .to_list()
                    )
                    if len(documents) == self._batch:
                        self._scan_due = True  # more may be waiting beyond the batch
                else:
                    documents = await self._hinted(collection, list(hints.get(name, ())))
                for start in range(0, len(documents), self._batch):
                    published += await self._publish(
                        collection, documents[start : start + self._batch]
                    )
        except BaseException:
            for name, ids in hints.items():  # not lost: the next pass tries them again
                self._hints.setdefault(name, set()).update(ids)
            self._scan_due = self._scan_due or scan
            raise
        return published

    async def _hinted(
        self, collection: AsyncCollection[Document], document_ids: list[Any]
    ) -> list[Document]:
        """The hinted documents that still carry events: one read per `batch` of ids."""
        documents: list[Document] = []
        for start in range(0, len(document_ids), self._batch):
            chunk = document_ids[start : start + self._batch]
            query = {"_id": chunk[0]} if len(chunk) == 1 else {"_id": {"$in": chunk}}
            documents += await collection.find({**query, **PENDING}, {OUTBOX_FIELD: 1}).to_list()
        return documents

    async def _publish(
        self, collection: AsyncCollection[Document], documents: list[Document]
    ) -> int:
        records = [r for d in documents for r in d[OUTBOX_FIELD]]
        by_topic: dict[str, list[Envelope]] = {}
        for record in records:  # each document's events stay in order
            envelope = Envelope.from_record(record)
            by_topic.setdefault(self._topic_for(envelope), []).append(envelope)
        for topic, envelopes in by_topic.items():
            await self._publisher.publish_many(topic, envelopes)
        await self._mark_sent(collection, [d["_id"] for d in documents], records)
        return len(records)

    async def _mark_sent(
        self,
        collection: AsyncCollection[Document],
        document_ids: list[Any],
        records: list[Document],
    ) -> None:
        # One update for the whole batch. Exact values, not a condition: events pushed
        # meanwhile stay for the next pass. Every record is unique (its event id), so pulling
        # the batch's union from each document is exact.
        await collection.update_many(
            {"_id": {"$in": document_ids}}, {"$pullAll": {OUTBOX_FIELD: records}}
        )
        self.mark_sent_writes += 1

    async def run(self) -> None:
        """Until cancelled: publish, then sleep until notified or the poll interval passes."""
        failures = 0
        while True:
            self._wake.clear()
            try:
                await self._gather_hints()
                if await self.publish_pending():
                    failures = 0
                    continue  # more may be waiting
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                log.warning("outbox relay pass failed (%s); retrying", exc)
                await asyncio.sleep(min(5.0, 0.2 * 2**failures))
                continue
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow the task's
            # cancellation when the wake-up lands at the same moment, and stop would hang.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll_seconds):
                    await self._wake.wait()

    async def _gather_hints(self) -> None:
        """Before a pass that hints started, let the writes of the next `gather_seconds` join
        it (a scan due runs at once: it reads everything anyway)."""
        if self._gather_seconds <= 0 or not self._hints or self._scan_is_due():
            return
        await asyncio.sleep(self._gather_seconds)

    def _scan_is_due(self) -> bool:
        return self._scan_due or time.monotonic() - self._last_scan >= self._scan_seconds


def topic_of(envelope: Envelope) -> str:
    contract = CATALOGUE.get(envelope.type)
    if contract is None:
        raise LookupError(f"no contract for event type {envelope.type}")
    return contract.topic
