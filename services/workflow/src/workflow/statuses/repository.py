"""Every database call about status definitions (collection `status_definitions`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from kit.events.contracts.workflow import EntityKind
from kit.mongo import Document, IndexSpec
from workflow.statuses.schemas import StatusDefinition

COLLECTION = "status_definitions"
INDEXES = [
    IndexSpec(COLLECTION, [("kind", 1), ("session_type_id", 1), ("sort_order", 1)], "pipeline"),
]


def _to_model(document: Document) -> StatusDefinition:
    return StatusDefinition.model_validate({**document, "id": document["_id"]})


def _to_document(status: StatusDefinition) -> Document:
    document = status.model_dump(exclude={"id"})
    return {"_id": status.id, **document}


class StatusRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db[COLLECTION]

    async def seed(self, statuses: Sequence[StatusDefinition]) -> None:
        """Insert the statuses that are missing; never overwrite a studio's edits."""
        for status in statuses:
            document = _to_document(status)
            await self._collection.update_one(
                {"_id": status.id}, {"$setOnInsert": document}, upsert=True
            )

    async def get(self, status_id: str) -> StatusDefinition | None:
        document = await self._collection.find_one({"_id": status_id})
        return _to_model(document) if document else None

    async def of_kind(
        self, kind: EntityKind, session_type_id: str | None
    ) -> list[StatusDefinition]:
        """The statuses defined for exactly this kind and session type (None: the defaults)."""
        cursor = self._collection.find({"kind": kind, "session_type_id": session_type_id}).sort(
            [("sort_order", 1), ("_id", 1)]
        )
        return [_to_model(d) async for d in cursor]

    async def of_kind_and_defaults(
        self, kind: EntityKind, session_type_id: str
    ) -> list[StatusDefinition]:
        """One query for a session type's own statuses and the defaults."""
        cursor = self._collection.find(
            {"kind": kind, "session_type_id": {"$in": [session_type_id, None]}}
        ).sort([("sort_order", 1), ("_id", 1)])
        return [_to_model(d) async for d in cursor]

    async def all(self) -> list[StatusDefinition]:
        cursor = self._collection.find({}).sort([("kind", 1), ("sort_order", 1)])
        return [_to_model(d) async for d in cursor]

    async def insert(self, status: StatusDefinition) -> None:
        await self._collection.insert_one(_to_document(status))

    async def update(self, status_id: str, changes: dict[str, Any]) -> StatusDefinition | None:
        document = await self._collection.find_one_and_update(
            {"_id": status_id}, {"$set": changes}, return_document=ReturnDocument.AFTER
        )
        return _to_model(document) if document else None

    async def clear_initial(
        self, kind: EntityKind, session_type_id: str | None, except_id: str
    ) -> None:
        await self._collection.update_many(
            {
                "kind": kind,
                "session_type_id": session_type_id,
                "initial": True,
                "_id": {"$ne": except_id},
            },
            {"$set": {"initial": False}},
        )
