"""Every database call about tracked entities' status changes.

Each change is one inserted document in `status_changes`, whose `_id` names the entity and
the version it creates; it carries its event in its outbox. An insert is atomic on every
MongoDB-wire server we run against, so the unique `_id` is the optimistic lock: of two
changes computed from the same version, exactly one is inserted. (FerretDB 1.24 applies
concurrent updates of one document as read-modify-write and loses some of them, so nothing
that must not be lost is written as an update of a shared document.) The entity document
holds a projection of its latest change, repaired from the change log when it lags.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kit.events.contracts.workflow import EntityKind
from kit.events.envelope import Envelope
from kit.events.outbox import new_document_with_events
from kit.mongo import Document, IndexSpec

COLLECTIONS: dict[EntityKind, str] = {
    "session": "session_workflows",
    "invoice": "invoices",
    "production_order": "production_orders",
}
CHANGES = "status_changes"
INDEXES = [
    IndexSpec(CHANGES, [("kind", 1), ("entity_id", 1), ("version", -1)], "entity_versions"),
    IndexSpec(CHANGES, [("entity_id", 1), ("event_id", 1)], "entity_events"),
    IndexSpec(CHANGES, [("entity_id", 1), ("run_id", 1)], "entity_runs"),
]
STATUS_FIELDS = ("status_id", "status_name", "stage", "status_since", "due_at", "closed")


def change_id(kind: EntityKind, entity_id: str, version: int) -> str:
    return f"{kind}:{entity_id}:{version:09d}"


class TrackedRepository:
    def __init__(self, db: AsyncDatabase[Document], kind: EntityKind) -> None:
        self.kind = kind
        self._entities = db[COLLECTIONS[kind]]
        self._changes = db[CHANGES]

    async def get(self, entity_id: str) -> Document | None:
        """The entity with its latest status, repaired from the change log if it lags."""
        document = await self._entities.find_one({"_id": entity_id}, {"_outbox": 0})
        if document is None:
            return await self._rebuild(entity_id)
        # A primary-key look-up for the next version: cheap, and almost always absent.
        version = int(document.get("version", 0))
        if await self._changes.find_one(
            {"_id": change_id(self.kind, entity_id, version + 1)}, {"_id": 1}
        ):
            latest = await self.latest_change(entity_id)
            if latest is not None:
                document = {**document, **projection_of(latest)}
                await self.project(entity_id, projection_of(latest))
        return document

    async def _rebuild(self, entity_id: str) -> Document | None:
        """An entity whose first change was written but whose own insert was not (a crash)."""
        opening = await self._changes.find_one(
            {"_id": change_id(self.kind, entity_id, 1)}, {"_outbox": 0}
        )
        if opening is None or not opening.get("entity_snapshot"):
            return None
        latest = await self.latest_change(entity_id) or opening
        document = {**opening["entity_snapshot"], **projection_of(latest)}
        await self.insert_entity(document)
        return document

    async def latest_change(self, entity_id: str) -> Document | None:
        cursor = (
            self._changes.find({"kind": self.kind, "entity_id": entity_id}, {"_outbox": 0})
            .sort("version", -1)
            .limit(1)
        )
        return next(iter([d async for d in cursor]), None)

    async def history(self, entity_id: str) -> list[Document]:
        cursor = self._changes.find(
            {"kind": self.kind, "entity_id": entity_id}, {"_outbox": 0}
        ).sort("version", 1)
        return [d async for d in cursor]

    async def change_applying(
        self, entity_id: str, *, event_id: str | None = None, run_id: str | None = None
    ) -> Document | None:
        """The change an event (or a render run) already made to this entity, if any."""
        query: dict[str, Any] = {"kind": self.kind, "entity_id": entity_id}
        if event_id is not None:
            query["event_id"] = event_id
        if run_id is not None:
            query["run_id"] = run_id
        return await self._changes.find_one(query, {"_outbox": 0})

    async def claim(self, change: Document, *events: Envelope) -> bool:
        """Insert a change and its events; False if that version was taken meanwhile."""
        try:
            await self._changes.insert_one(new_document_with_events(change, *events))
        except DuplicateKeyError:
            return False
        return True

    async def insert_entity(self, document: Document) -> bool:
        try:
            await self._entities.insert_one(document)
        except DuplicateKeyError:
            return False
        return True

    async def project(self, entity_id: str, fields: dict[str, Any]) -> None:
        """Copy a change onto the entity unless a newer one is there already."""
        await self._entities.update_one(
            {"_id": entity_id, "version": {"$lt": fields["version"]}}, {"$set": fields}
        )


def projection_of(change: Document) -> Document:
    return {
        "status_id": change["to_status_id"],
        "status_name": change["to_status_name"],
        "stage": change["stage"],
        "status_since": change["completed_at"],
        "due_at": change["due_at"],
        "closed": change["closed"],
        "version": change["version"],
        **change.get("entity_fields", {}),
    }
