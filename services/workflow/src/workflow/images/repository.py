"""Every database call about images and imports.

An image's `_id` is `<session id>:<first 32 hex of its SHA-256>`, so the same content imported
twice into a session is found (and refused) by `_id`; `stored_keys` (one document per S3 key,
`_id` = the key) keeps two different files from taking one stored name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kit.events.envelope import Envelope
from kit.events.outbox import new_document_with_events
from kit.mongo import Document, IndexSpec

IMAGES = "images"
IMPORTS = "image_imports"
KEYS = "stored_keys"
REMOVALS = "image_removals"
UPLOADS = "upload_batches"
INDEXES = [
    IndexSpec(IMAGES, [("session_id", 1), ("number", 1)], "by_session"),
    IndexSpec(IMPORTS, [("session_id", 1)], "by_session"),
    IndexSpec(UPLOADS, [("expires_at", 1)], "by_expiry"),
]


def image_id_of(session_id: str, sha256: str) -> str:
    return f"{session_id}:{sha256[:32]}"


class ImageRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._images = db[IMAGES]
        self._imports = db[IMPORTS]
        self._keys = db[KEYS]
        self._removals = db[REMOVALS]
        self._uploads = db[UPLOADS]

    async def get(self, image_id: str) -> Document | None:
        return await self._images.find_one({"_id": image_id})

    async def claim(self, document: Document, keys: list[str]) -> str | None:
        """Record the image before its upload: None when claimed, else why not
        (`duplicate`: this content is there already; `name_taken`: another file has a key)."""
        try:
            await self._images.insert_one(document)
        except DuplicateKeyError:
            return "duplicate"
        claimed: list[str] = []
        for key in keys:
            try:
                await self._keys.insert_one({"_id": key, "image_id": document["_id"]})
            except DuplicateKeyError:
                await self.release(document["_id"], claimed)
                return "name_taken"
            claimed.append(key)
        return None

    async def release(self, image_id: str, keys: list[str]) -> None:
        for key in keys:
            await self._keys.delete_one({"_id": key, "image_id": image_id})
        await self._images.delete_one({"_id": image_id})

    async def many(self, image_ids: list[str]) -> list[Document]:
        if not image_ids:
            return []
        return [d async for d in self._images.find({"_id": {"$in": image_ids}})]

    async def claim_key(self, key: str, image_id: str) -> bool:
        """Hold `key` for `image_id`: False when another image holds it."""
        try:
            await self._keys.insert_one({"_id": key, "image_id": image_id})
        except DuplicateKeyError:
            holder = await self._keys.find_one({"_id": key})
            return holder is not None and holder.get("image_id") == image_id
        return True

    async def release_key(self, key: str, image_id: str) -> None:
        await self._keys.delete_one({"_id": key, "image_id": image_id})

    async def of_session(self, session_id: str) -> list[Document]:
        cursor = self._images.find({"session_id": session_id}).sort([("number", 1), ("name", 1)])
        return [d async for d in cursor]

    async def record_import(self, document: Document, event: Envelope | None) -> None:
        """The import report and its event in one insert."""
        if event is not None:
            document = new_document_with_events(document, event)
        await self._imports.insert_one(document)

    async def get_import(self, import_id: str) -> Document | None:
        return await self._imports.find_one({"_id": import_id}, {"_outbox": 0})

    async def set_fields(self, image_id: str, fields: dict[str, Any]) -> None:
        await self._images.update_one({"_id": image_id}, {"$set": fields})

    async def record_removal(self, document: Document, event: Envelope) -> None:
        """The permanent delete of one image and its event in one insert."""
        await self._removals.insert_one(new_document_with_events(document, event))

    async def record_upload_batch(self, document: Document) -> None:
        await self._uploads.insert_one(document)

    async def upload_batches_expired(self, before: datetime, limit: int) -> list[Document]:
        """Batches whose URLs expired before `before` (checked here: no TTL indexes)."""
        cursor = self._uploads.find({"expires_at": {"$lt": before}}).sort("expires_at", 1)
        return [d async for d in cursor.limit(limit)]

    async def forget_upload_batch(self, upload_id: str) -> None:
        await self._uploads.delete_one({"_id": upload_id})
