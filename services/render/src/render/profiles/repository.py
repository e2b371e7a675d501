"""Every database call about render profiles (collection `render_profiles`).

A profile document holds every version in `versions` (profiles are small, edits rare): an edit
is one conditional `$push` on the current version number, so two concurrent edits cannot both
become version n+1, and a run can read back the exact version it used.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from kit.mongo import Document, IndexSpec

COLLECTION = "render_profiles"

INDEXES = [IndexSpec(COLLECTION, [("name", 1)], name="by_name")]


class ProfileRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._profiles = db[COLLECTION]

    async def insert(self, profile_id: str, content: dict[str, Any], now: datetime) -> None:
        await self._profiles.insert_one(
            {
                "_id": profile_id,
                "version": 1,
                "created_at": now,
                "updated_at": now,
                "current": content,
                "versions": [{"version": 1, "at": now, "content": content}],
            }
        )

    async def get(self, profile_id: str) -> Document | None:
        return await self._profiles.find_one({"_id": profile_id})

    async def get_many(self, profile_ids: list[str]) -> list[Document]:
        return await self._profiles.find({"_id": {"$in": profile_ids}}).to_list()

    async def oldest_first(self, limit: int) -> list[Document]:
        return await self._profiles.find({}).sort("created_at", 1).limit(limit).to_list()

    async def add_version(
        self, profile_id: str, base_version: int, content: dict[str, Any], now: datetime
    ) -> bool:
        """Version base_version+1, unless someone else edited first (then False)."""
        result = await self._profiles.update_one(
            {"_id": profile_id, "version": base_version},
            {
                "$set": {"version": base_version + 1, "current": content, "updated_at": now},
                "$push": {"versions": {"version": base_version + 1, "at": now, "content": content}},
            },
        )
        return result.modified_count == 1
