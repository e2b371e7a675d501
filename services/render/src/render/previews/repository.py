"""Every database call about previews (collection `preview_batches`, outbox-carrying).

One document per imported-images event (`_id` = the event id): inserting it is what makes the
batch's `render.previews.created.v1` go out, exactly once however often the import arrives.
"""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kit.events.envelope import Envelope
from kit.events.outbox import new_document_with_events
from kit.mongo import Document

COLLECTION = "preview_batches"


class PreviewRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._batches = db[COLLECTION]

    async def record(self, document: Document, event: Envelope) -> bool:
        """False when this batch was recorded before (a redelivered import)."""
        try:
            await self._batches.insert_one(new_document_with_events(document, event))
        except DuplicateKeyError:
            return False
        return True

    async def seen(self, batch_id: str) -> bool:
        return await self._batches.find_one({"_id": batch_id}, {"_id": 1}) is not None
