"""Drawn maps: the summary, the page and the GeoJSON, in one document each."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from kit.mongo import Document, IndexSpec
from maps.renders.schemas import MapRender

COLLECTION = "map_renders"
INDEXES = (IndexSpec(COLLECTION, [("created_at", -1)], "created_at"),)
_SUMMARY = {"html": 0, "geojson": 0}


class MapRenderRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db[COLLECTION]

    async def insert(self, summary: MapRender, *, html: str, geojson: str) -> None:
        document: dict[str, Any] = summary.model_dump(mode="python")
        document["_id"] = document.pop("id")
        await self._collection.insert_one({**document, "html": html, "geojson": geojson})

    async def summary(self, render_id: str) -> MapRender | None:
        document = await self._collection.find_one({"_id": render_id}, _SUMMARY)
        if document is None:
            return None
        document["id"] = document.pop("_id")
        return MapRender.model_validate(document)

    async def body(self, render_id: str, part: str) -> str | None:
        document = await self._collection.find_one({"_id": render_id}, {part: 1})
        return None if document is None else str(document[part])
