"""The usage ledger: location and map look-ups counted per UTC month."""

from __future__ import annotations

from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from kit.mongo import Document

COLLECTION = "usage_months"


def month_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


class UsageLedger:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db[COLLECTION]

    async def record(
        self, *, location_lookups: int = 0, map_lookups: int = 0, at: datetime | None = None
    ) -> None:
        month = month_of(at or datetime.now(UTC))
        await self._collection.update_one(
            {"_id": month},
            {"$inc": {"location_lookups": location_lookups, "map_lookups": map_lookups}},
            upsert=True,
        )

    async def months(self, since: str, until: str) -> list[Document]:
        """The months from `since` to `until` (YYYY-MM, both included) that had any use."""
        cursor = self._collection.find({"_id": {"$gte": since, "$lte": until}}).sort("_id", 1)
        return [document async for document in cursor]
