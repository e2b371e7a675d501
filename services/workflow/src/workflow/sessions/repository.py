"""Every database call about session workflow records (collection `session_workflows`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kit.mongo import Document, IndexSpec
from workflow.tracking.repository import COLLECTIONS

COLLECTION = COLLECTIONS["session"]
INDEXES = [
    IndexSpec(COLLECTION, [("status_id", 1), ("due_at", 1)], "by_status"),
    IndexSpec(COLLECTION, [("session_type_id", 1), ("status_id", 1)], "by_type"),
    IndexSpec(COLLECTION, [("resource_ids", 1)], "by_resource"),
    IndexSpec(COLLECTION, [("starts_at", 1)], "by_start"),
]


class SessionRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db[COLLECTION]

    async def get(self, session_id: str) -> Document | None:
        return await self._collection.find_one({"_id": session_id}, {"_outbox": 0})

    async def insert(self, document: Document) -> bool:
        """False when the record exists already."""
        try:
            await self._collection.insert_one(document)
        except DuplicateKeyError:
            return False
        return True

    async def set_booking_details(
        self, session_id: str, details: dict[str, Any], as_of: datetime
    ) -> None:
        """Newer booking facts replace older ones; an older event arriving late changes nothing."""
        await self._collection.update_one(
            {
                "_id": session_id,
                "$or": [{"booking_as_of": {"$lt": as_of}}, {"booking_as_of": None}],
            },
            {"$set": {**details, "booking_as_of": as_of}},
        )

    async def find(self, query: dict[str, Any], *, limit: int, skip: int = 0) -> list[Document]:
        cursor = (
            self._collection.find(query).sort([("due_at", 1), ("_id", 1)]).skip(skip).limit(limit)
        )
        return [d async for d in cursor]

    async def count_by_status(self, query: dict[str, Any]) -> dict[str, int]:
        pipeline: list[dict[str, Any]] = [
            {"$match": query},
            {"$group": {"_id": "$status_id", "count": {"$sum": 1}}},
        ]
        cursor = await self._collection.aggregate(pipeline)
        return {str(d["_id"]): int(d["count"]) async for d in cursor}

    async def set_fields(self, session_id: str, fields: dict[str, Any]) -> None:
        await self._collection.update_one({"_id": session_id}, {"$set": fields})

    async def numbered(self, numbers: list[str]) -> list[Document]:
        """The records holding these session numbers."""
        if not numbers:
            return []
        cursor = self._collection.find({"session_number": {"$in": numbers}}, {"_outbox": 0})
        return [d async for d in cursor]
