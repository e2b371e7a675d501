"""Every database call about edit recipes.

Each version is an inserted document, `_id` = `<image id>:v<version>`: the insert is the
optimistic lock (of two edits made from one version exactly one is stored) and the history.
"""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kit.mongo import Document, IndexSpec

RECIPES = "edit_recipes"
INDEXES = [IndexSpec(RECIPES, [("image_id", 1), ("version", 1)], "by_image")]


def recipe_id(image_id: str, version: int) -> str:
    return f"{image_id}:v{version}"


class RecipeRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._recipes = db[RECIPES]

    async def insert(self, document: Document) -> bool:
        """False when that version exists already."""
        try:
            await self._recipes.insert_one(document)
        except DuplicateKeyError:
            return False
        return True

    async def get(self, image_id: str, version: int) -> Document | None:
        return await self._recipes.find_one({"_id": recipe_id(image_id, version)})

    async def versions(self, image_id: str) -> list[Document]:
        cursor = self._recipes.find({"image_id": image_id}).sort("version", 1)
        return [d async for d in cursor]

    async def latest_of_sessions(self, session_ids: list[str]) -> dict[str, Document]:
        """Each image's newest version, for every image of these sessions (one read)."""
        latest: dict[str, Document] = {}
        if not session_ids:
            return latest
        async for document in self._recipes.find({"session_id": {"$in": session_ids}}):
            known = latest.get(document["image_id"])
            if known is None or document["version"] > known["version"]:
                latest[document["image_id"]] = document
        return latest
