"""Every database call about render jobs (collection `render_jobs`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from kit.mongo import Document, IndexSpec

COLLECTION = "render_jobs"

INDEXES = [IndexSpec(COLLECTION, [("entity_kind", 1), ("enabled", 1)], name="by_kind")]


class JobRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._jobs = db[COLLECTION]

    async def insert(self, document: Document) -> None:
        await self._jobs.insert_one(document)

    async def get(self, job_id: str) -> Document | None:
        return await self._jobs.find_one({"_id": job_id})

    async def oldest_first(self, limit: int) -> list[Document]:
        return await self._jobs.find({}).sort("created_at", 1).limit(limit).to_list()

    async def enabled_for(self, entity_kind: str) -> list[Document]:
        return await self._jobs.find({"entity_kind": entity_kind, "enabled": True}).to_list()

    async def replace(self, job_id: str, fields: dict[str, Any], now: datetime) -> bool:
        result = await self._jobs.update_one(
            {"_id": job_id}, {"$set": {**fields, "updated_at": now}}
        )
        return result.matched_count == 1
