"""Counters of attempts per fixed window, one document per (limit, key, window) by `_id`."""

from __future__ import annotations

import datetime as dt

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kit.mongo import Document

ATTEMPTS = "rate_attempts"


class AttemptRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._attempts = db[ATTEMPTS]

    async def count(self, counter_id: str, window_ends: dt.datetime) -> int:
        """Add one attempt to the counter and return the count so far (atomic)."""
        for _ in range(2):
            try:
                counter = await self._attempts.find_one_and_update(
                    {"_id": counter_id},
                    {"$inc": {"count": 1}, "$setOnInsert": {"window_ends": window_ends}},
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
            except DuplicateKeyError:
                # Two first attempts raced to create the counter: the second one increments it.
                continue
            assert counter is not None
            return int(counter["count"])
        raise RuntimeError(f"could not count attempt {counter_id}")

    async def forget_before(self, moment: dt.datetime) -> None:
        # No TTL indexes on this server: old windows are removed now and then.
        await self._attempts.delete_many({"window_ends": {"$lt": moment}})
