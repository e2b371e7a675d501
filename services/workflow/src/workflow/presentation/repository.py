"""Every database call about groups, slideshows and comparison sets (ratings live on images)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from kit.mongo import Document, IndexSpec

GROUPS = "image_groups"
SLIDESHOWS = "slideshows"
COMPARISONS = "comparison_sets"
INDEXES = [
    IndexSpec(GROUPS, [("session_id", 1), ("position", 1)], "by_session"),
    IndexSpec(COMPARISONS, [("session_id", 1)], "by_session"),
]


class PresentationRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._groups = db[GROUPS]
        self._slideshows = db[SLIDESHOWS]
        self._comparisons = db[COMPARISONS]

    async def insert_group(self, document: Document) -> None:
        await self._groups.insert_one(document)

    async def get_group(self, group_id: str) -> Document | None:
        return await self._groups.find_one({"_id": group_id})

    async def groups_of(self, session_id: str) -> list[Document]:
        cursor = self._groups.find({"session_id": session_id}).sort(
            [("position", 1), ("created_at", 1)]
        )
        return [d async for d in cursor]

    async def set_group(self, group_id: str, fields: dict[str, Any]) -> None:
        await self._groups.update_one({"_id": group_id}, {"$set": fields})

    async def delete_group(self, group_id: str) -> bool:
        return (await self._groups.delete_one({"_id": group_id})).deleted_count == 1

    async def get_slideshow(self, session_id: str) -> Document | None:
        return await self._slideshows.find_one({"_id": session_id})

    async def set_slideshow(self, session_id: str, image_ids: list[str]) -> None:
        await self._slideshows.update_one(
            {"_id": session_id}, {"$set": {"image_ids": image_ids}}, upsert=True
        )

    async def insert_comparison(self, document: Document) -> None:
        await self._comparisons.insert_one(document)

    async def comparisons_of(self, session_id: str) -> list[Document]:
        cursor = self._comparisons.find({"session_id": session_id}).sort("created_at", 1)
        return [d async for d in cursor]

    async def get_comparison(self, comparison_id: str) -> Document | None:
        return await self._comparisons.find_one({"_id": comparison_id})

    async def delete_comparison(self, comparison_id: str) -> bool:
        return (await self._comparisons.delete_one({"_id": comparison_id})).deleted_count == 1
