"""Every database call about production orders and the claims that keep an invoice from
being sent to production twice (`production_claims`, one inserted document per invoice)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kit.mongo import Document, IndexSpec
from workflow.tracking.repository import COLLECTIONS

ORDERS = COLLECTIONS["production_order"]
CLAIMS = "production_claims"
INDEXES = [
    IndexSpec(ORDERS, [("vendor", 1)], "by_vendor"),
    IndexSpec(ORDERS, [("invoice_ids", 1)], "by_invoice"),
    IndexSpec(CLAIMS, [("batch_id", 1)], "by_batch"),
]


class ProductionRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._orders = db[ORDERS]
        self._claims = db[CLAIMS]

    async def claim(self, invoice_id: str, batch_id: str, document: Document) -> str | None:
        """None if claimed now; else the batch that holds the invoice already."""
        try:
            await self._claims.insert_one({"_id": invoice_id, "batch_id": batch_id, **document})
        except DuplicateKeyError:
            holder = await self._claims.find_one({"_id": invoice_id})
            return str(holder["batch_id"]) if holder else "unknown"
        return None

    async def release(self, batch_id: str) -> None:
        await self._claims.delete_many({"batch_id": batch_id})

    async def insert(self, document: Document) -> None:
        await self._orders.insert_one(document)

    async def find(self, query: dict[str, Any], *, limit: int, skip: int) -> list[Document]:
        cursor = self._orders.find(query).sort("created_at", -1).skip(skip).limit(limit)
        return [d async for d in cursor]

    async def set_notes(self, order_id: str, notes: dict[str, Any]) -> bool:
        result = await self._orders.update_one({"_id": order_id}, {"$set": notes})
        return result.matched_count == 1
