"""Every database call about deliveries (collection `deliveries`, outbox-carrying)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from kit.events.envelope import Envelope
from kit.events.outbox import with_events
from kit.mongo import Document, IndexSpec

COLLECTION = "deliveries"

INDEXES = [
    IndexSpec(COLLECTION, [("session_id", 1), ("created_at", -1)], name="by_session"),
    IndexSpec(COLLECTION, [("status", 1), ("created_at", 1)], name="by_status"),
]


class DeliveryRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._deliveries = db[COLLECTION]

    async def insert(self, document: Document) -> None:
        await self._deliveries.insert_one(document)

    async def get(self, delivery_id: str) -> Document | None:
        return await self._deliveries.find_one({"_id": delivery_id}, {"_outbox": 0})

    async def recent(self, *, session_id: str | None, limit: int) -> list[Document]:
        selector: Document = {} if session_id is None else {"session_id": session_id}
        cursor = self._deliveries.find(selector, {"_outbox": 0}).sort("created_at", -1)
        return await cursor.limit(limit).to_list()

    async def claim_next(self, now: datetime, lease: timedelta) -> Document | None:
        """Take the oldest delivery waiting to be packaged (or one whose packer died)."""
        return await self._deliveries.find_one_and_update(
            {
                "$or": [
                    {"status": "pending"},
                    {"status": "packaging", "claimed_until": {"$lt": now}},
                ]
            },
            # Each claim is its own attempt: only the latest may publish (see mark_ready).
            {
                "$set": {
                    "status": "packaging",
                    "claimed_until": now + lease,
                    "claim": uuid.uuid4().hex,
                }
            },
            sort=[("created_at", 1)],
            return_document=ReturnDocument.AFTER,
        )  # no projection: FerretDB 1.24's findAndModify does not implement `fields`

    async def renew_claim(self, delivery_id: str, claim: str, until: datetime) -> bool:
        """Hold the delivery longer, if this attempt still holds it."""
        result = await self._deliveries.update_one(
            {"_id": delivery_id, "status": "packaging", "claim": claim},
            {"$set": {"claimed_until": until}},
        )
        return result.modified_count == 1

    async def mark_ready(
        self, delivery_id: str, claim: str, fields: dict[str, Any], events: list[Envelope]
    ) -> bool:
        """Ready, if this attempt still holds the delivery (a packer whose lease lapsed and
        was taken over can no longer publish)."""
        result = await self._deliveries.update_one(
            {"_id": delivery_id, "status": "packaging", "claim": claim},
            with_events({"$set": {**fields, "status": "ready"}}, *events),
        )
        return result.modified_count == 1

    async def delete_rendering(self, delivery_id: str) -> None:
        """Withdraw a delivery whose render run could not be asked for (it has no events)."""
        await self._deliveries.delete_one({"_id": delivery_id, "status": "rendering"})

    async def set_render_run(self, delivery_id: str, run_id: str) -> None:
        await self._deliveries.update_one(
            {"_id": delivery_id, "render_run_id": None}, {"$set": {"render_run_id": run_id}}
        )

    async def rendering(self, limit: int) -> list[Document]:
        """Deliveries waiting for render, oldest first."""
        cursor = self._deliveries.find({"status": "rendering"}, {"_outbox": 0, "recipients": 0})
        return await cursor.sort("created_at", 1).limit(limit).to_list()

    async def claim_stalled(
        self, delivery_id: str, seen_at: datetime | None, fields: dict[str, Any]
    ) -> bool:
        """Take a stalled delivery for one re-drive: only if nobody moved it since `seen_at`
        (another process's sweep, or render's answer)."""
        result = await self._deliveries.update_one(
            {"_id": delivery_id, "status": "rendering", "render_progress_at": seen_at},
            {"$set": fields},
        )
        return result.modified_count == 1

    async def rendered(self, delivery_id: str, run_id: str, keys: list[str]) -> bool:
        """The render run ended well: its outputs are the files to package (once)."""
        result = await self._deliveries.update_one(
            {"_id": delivery_id, "status": "rendering", "render_run_id": {"$in": [None, run_id]}},
            {"$set": {"status": "pending", "source_keys": keys, "render_run_id": run_id}},
        )
        return result.modified_count == 1

    async def mark_failed(
        self,
        delivery_id: str,
        fields: dict[str, Any],
        events: list[Envelope],
        *,
        claim: str | None = None,
    ) -> bool:
        """Failed, unless it ended meanwhile; with `claim`, only while that packaging attempt
        holds it (one that lost its hold fails nothing another attempt now packages)."""
        selector: dict[str, Any] = {
            "_id": delivery_id,
            "status": {"$in": ["rendering", "pending", "packaging"]},
        }
        if claim is not None:
            selector = {"_id": delivery_id, "status": "packaging", "claim": claim}
        result = await self._deliveries.update_one(
            selector, with_events({"$set": {**fields, "status": "failed"}}, *events)
        )
        return result.modified_count == 1
