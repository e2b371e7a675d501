"""The geocoding cache: one document per normalised address key."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from pymongo import ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from kit.mongo import Document, IndexSpec
from maps.geocoding.providers import Location

COLLECTION = "geocode_cache"
INDEXES = (IndexSpec(COLLECTION, [("resolved_at", 1)], "resolved_at"),)
_CHUNK = 1000
_READ_CHUNK = 10_000
_DUPLICATE_KEY = 11000


@dataclass(frozen=True)
class CacheEntry:
    key: str
    location: Location | None  # None: no provider found it
    resolved_at: datetime
    retry_after: datetime | None = None


class GeocodeCache:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db[COLLECTION]

    async def get_many(self, keys: Sequence[str]) -> dict[str, CacheEntry]:
        # One query per 10,000 keys: FerretDB 1.x scans the collection for an `$in`.
        found: dict[str, CacheEntry] = {}
        for start in range(0, len(keys), _READ_CHUNK):
            chunk = list(keys[start : start + _READ_CHUNK])
            async for document in self._collection.find({"_id": {"$in": chunk}}):
                found[document["_id"]] = _entry(document)
        return found

    async def put_many(self, entries: Iterable[CacheEntry], *, replacing: set[str]) -> None:
        """Store new entries, replacing the keys in `replacing` (stale not-found entries).

        New keys are inserted in bulk (an upsert costs ~4 ms a document on FerretDB); a key that
        another render cached meanwhile is the same answer, so its duplicate is ignored.
        """
        entries = list(entries)
        fresh = [_document(e) for e in entries if e.key not in replacing]
        for start in range(0, len(fresh), _CHUNK):
            try:
                await self._collection.insert_many(fresh[start : start + _CHUNK], ordered=False)
            except BulkWriteError as exc:
                if any(e.get("code") != _DUPLICATE_KEY for e in exc.details["writeErrors"]):
                    raise
        stale = [
            ReplaceOne({"_id": e.key}, _document(e), upsert=True)
            for e in entries
            if e.key in replacing
        ]
        if stale:
            await self._collection.bulk_write(stale, ordered=False)


def _document(entry: CacheEntry) -> Document:
    document: Document = {
        "_id": entry.key,
        "found": entry.location is not None,
        "resolved_at": entry.resolved_at,
        "retry_after": entry.retry_after,
    }
    if entry.location is not None:
        document |= {
            "latitude": entry.location.latitude,
            "longitude": entry.location.longitude,
            "precision": entry.location.precision,
            "provider": entry.location.provider,
        }
    return document


def _entry(document: Document) -> CacheEntry:
    location = (
        Location(
            document["latitude"],
            document["longitude"],
            document["precision"],
            document["provider"],
        )
        if document["found"]
        else None
    )
    return CacheEntry(
        document["_id"], location, document["resolved_at"], document.get("retry_after")
    )
