"""Every database call about archives, pending deletions and deletions."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kit.events.envelope import Envelope
from kit.events.outbox import new_document_with_events
from kit.mongo import Document, IndexSpec

ARCHIVES = "archives"
PENDING = "pending_deletions"
DELETIONS = "image_deletions"
INDEXES = [
    IndexSpec(ARCHIVES, [("session_id", 1), ("created_at", -1)], "by_session"),
    IndexSpec(DELETIONS, [("session_id", 1)], "by_session"),
]


class ArchiveRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._archives = db[ARCHIVES]
        self._pending = db[PENDING]
        self._deletions = db[DELETIONS]

    async def insert_archive(self, document: Document) -> None:
        await self._archives.insert_one(document)

    async def get_archive(self, archive_id: str) -> Document | None:
        return await self._archives.find_one({"_id": archive_id})

    async def archives_of(self, session_id: str) -> list[Document]:
        cursor = self._archives.find({"session_id": session_id}).sort("created_at", -1)
        return [d async for d in cursor]

    async def verified_archive(self, session_id: str) -> Document | None:
        return await self._archives.find_one({"session_id": session_id, "verified": True})

    async def set_verification(self, archive_id: str, fields: dict[str, Any]) -> Document | None:
        await self._archives.update_one({"_id": archive_id}, {"$set": fields})
        return await self.get_archive(archive_id)

    async def insert_pending(self, document: Document) -> None:
        await self._pending.insert_one(document)

    async def get_pending(self, token: str) -> Document | None:
        return await self._pending.find_one({"_id": token})

    async def record_deletion(self, document: Document, event: Envelope) -> bool:
        """The deletion and its event in one insert; False if recorded already."""
        try:
            await self._deletions.insert_one(new_document_with_events(document, event))
        except DuplicateKeyError:
            return False
        return True

    async def get_deletion(self, token: str) -> Document | None:
        return await self._deletions.find_one({"_id": token}, {"_outbox": 0})

    async def deletion_of(self, session_id: str) -> Document | None:
        return await self._deletions.find_one({"session_id": session_id}, {"_outbox": 0})
