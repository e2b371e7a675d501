"""MongoDB through PyMongo's async API (`AsyncMongoClient`), the successor of motor.

Code here must run on real MongoDB and on FerretDB 1.x alike: no transactions, change
streams, TTL indexes or `$lookup`; `$pull` with a condition is a silent no-op on FerretDB
1.24, so removals name exact values (`$pullAll`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]


def connect_mongo(url: str, *, app_name: str) -> AsyncMongoClient[Document]:
    """A client that fails fast when the server is gone instead of waiting 30 s per call."""
    return AsyncMongoClient(
        url,
        appname=app_name,
        tz_aware=True,
        serverSelectionTimeoutMS=3000,
        connectTimeoutMS=3000,
    )


@dataclass(frozen=True)
class IndexSpec:
    """An index a repository needs; created at start-up by `ensure_indexes`."""

    collection: str
    keys: Sequence[tuple[str, int]]
    name: str
    unique: bool = False
    options: dict[str, Any] = field(default_factory=dict)


async def ensure_indexes(db: AsyncDatabase[Document], specs: Sequence[IndexSpec]) -> None:
    for spec in specs:
        await db[spec.collection].create_index(
            list(spec.keys), name=spec.name, unique=spec.unique, **spec.options
        )


async def ping(db: AsyncDatabase[Document]) -> None:
    await db.command("ping")
