"""Every database call about links and the download log (both carry outbox events)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from kit.events.envelope import Envelope
from kit.events.outbox import new_document_with_events, with_events
from kit.mongo import Document, IndexSpec

LINKS = "links"
DOWNLOADS = "downloads"
GRANTS_KEPT = 20

INDEXES = [
    IndexSpec(LINKS, [("token_hash", 1)], name="by_token", unique=True),
    IndexSpec(LINKS, [("delivery_id", 1), ("created_at", 1)], name="by_delivery"),
    IndexSpec(LINKS, [("expired_notified", 1), ("expires_at", 1)], name="expiry_sweep"),
    IndexSpec(DOWNLOADS, [("delivery_id", 1), ("at", -1)], name="by_delivery"),
]

_NO_OUTBOX = {"_outbox": 0}


class LinkRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._links = db[LINKS]
        self._downloads = db[DOWNLOADS]

    async def insert(self, document: Document, events: list[Envelope]) -> None:
        await self._links.insert_one(new_document_with_events(document, *events))

    async def insert_many(self, documents: list[Document]) -> None:
        if documents:
            await self._links.insert_many(documents)

    async def by_token_hash(self, token_hash: str) -> Document | None:
        return await self._links.find_one({"token_hash": token_hash}, _NO_OUTBOX)

    async def get(self, delivery_id: str, link_id: str) -> Document | None:
        return await self._links.find_one({"_id": link_id, "delivery_id": delivery_id}, _NO_OUTBOX)

    async def for_delivery(self, delivery_id: str) -> list[Document]:
        cursor = self._links.find({"delivery_id": delivery_id}, _NO_OUTBOX).sort("created_at", 1)
        return await cursor.to_list()

    async def update(self, link_id: str, selector: Document, update: Document) -> Document | None:
        """Apply `update` if the link still matches `selector`; the link after, or None."""
        # No projection: FerretDB 1.24's findAndModify does not implement `fields`.
        return await self._links.find_one_and_update(
            {"_id": link_id, **selector}, update, return_document=ReturnDocument.AFTER
        )

    async def record_pin_failure(self, link_id: str, max_attempts: int) -> Document | None:
        return await self.update(
            link_id, {"pin_failures": {"$lt": max_attempts}}, {"$inc": {"pin_failures": 1}}
        )

    async def add_grant(self, link_id: str, grant_hash: str) -> None:
        await self._links.update_one(
            {"_id": link_id},
            {"$push": {"grants": {"$each": [grant_hash], "$slice": -GRANTS_KEPT}}},
        )

    async def take_download(self, link: Document, now: datetime) -> Document | None:
        """Count one download if the link is still usable at `now` (atomic with the checks)."""
        selector: Document = {"revoked_at": None, "expires_at": {"$gt": now}}
        if link.get("download_limit") is not None:
            selector["downloads"] = {"$lt": link["download_limit"]}
        return await self.update(link["_id"], selector, {"$inc": {"downloads": 1}})

    async def log_download(self, document: Document, events: list[Envelope]) -> None:
        await self._downloads.insert_one(new_document_with_events(document, *events))

    async def downloads_of(self, delivery_id: str, limit: int) -> list[Document]:
        cursor = self._downloads.find({"delivery_id": delivery_id}, _NO_OUTBOX).sort("at", -1)
        return await cursor.limit(limit).to_list()

    async def due_for_expiry(self, now: datetime, limit: int) -> list[Document]:
        cursor = self._links.find(
            {"expired_notified": False, "revoked_at": None, "expires_at": {"$lte": now}},
            _NO_OUTBOX,
        )
        return await cursor.limit(limit).to_list()

    async def mark_expired(self, link: Document, now: datetime, events: list[Envelope]) -> bool:
        result = await self._links.update_one(
            {"_id": link["_id"], "expired_notified": False, "expires_at": {"$lte": now}},
            with_events({"$set": {"expired_notified": True}}, *events),
        )
        return result.modified_count == 1

    async def set_fields(
        self, link_id: str, selector: Document, fields: dict[str, Any]
    ) -> Document | None:
        return await self.update(link_id, selector, {"$set": fields})
