"""Every database call about price lists (`price_lists`) and their products (`products`)."""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from kit.mongo import Document, IndexSpec

PRICE_LISTS = "price_lists"
PRODUCTS = "products"
INDEXES = [IndexSpec(PRODUCTS, [("price_list_id", 1), ("name", 1)], "by_list")]


class PricingRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._lists = db[PRICE_LISTS]
        self._products = db[PRODUCTS]

    async def insert_list(self, document: Document) -> None:
        await self._lists.insert_one(document)

    async def insert_products(self, documents: list[Document]) -> None:
        if documents:
            await self._products.insert_many(documents)

    async def get_list(self, price_list_id: str) -> Document | None:
        return await self._lists.find_one({"_id": price_list_id})

    async def lists(self) -> list[Document]:
        return [d async for d in self._lists.find({}).sort("name", 1)]

    async def products_of(self, price_list_id: str) -> list[Document]:
        cursor = self._products.find({"price_list_id": price_list_id}).sort("name", 1)
        return [d async for d in cursor]

    async def products(self, product_ids: list[str]) -> list[Document]:
        return [d async for d in self._products.find({"_id": {"$in": product_ids}})]

    async def update_product(
        self, price_list_id: str, product_id: str, changes: dict[str, Any]
    ) -> Document | None:
        return await self._products.find_one_and_update(
            {"_id": product_id, "price_list_id": price_list_id},
            {"$set": changes},
            return_document=ReturnDocument.AFTER,
        )
