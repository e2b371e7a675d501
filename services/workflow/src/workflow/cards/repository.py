"""Every database call about memory cards being imported and their staged frames.

A frame's `_id` is `<card id>:<file name>`: uploading a card again after an interruption finds
what is already staged by `_id`.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kit.mongo import Document, IndexSpec

CARDS = "memory_cards"
FRAMES = "card_frames"
INDEXES = [IndexSpec(FRAMES, [("card_id", 1)], "by_card")]


def frame_id(card_id: str, name: str) -> str:
    return f"{card_id}:{name}"


class CardRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._cards = db[CARDS]
        self._frames = db[FRAMES]

    async def insert_card(self, document: Document) -> None:
        await self._cards.insert_one(document)

    async def get_card(self, card_id: str) -> Document | None:
        return await self._cards.find_one({"_id": card_id})

    async def set_card(self, card_id: str, fields: dict[str, Any]) -> None:
        await self._cards.update_one({"_id": card_id}, {"$set": fields})

    async def get_frame(self, card_id: str, name: str) -> Document | None:
        return await self._frames.find_one({"_id": frame_id(card_id, name)})

    async def insert_frame(self, document: Document) -> bool:
        try:
            await self._frames.insert_one(document)
        except DuplicateKeyError:
            return False
        return True

    async def frames_of(self, card_id: str) -> list[Document]:
        return [d async for d in self._frames.find({"card_id": card_id}).sort("name", 1)]
