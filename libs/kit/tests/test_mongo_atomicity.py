"""Single-document writes are atomic on the MongoDB-wire server, as on MongoDB.

FerretDB 1.24 alone loses concurrent updates to one document (it reads, then writes the whole
document back); infra/local/ferretdb serializes write commands so that these hold. The
outbox (a service pushing events while the relay pulls them) depends on it.
"""

from __future__ import annotations

import asyncio

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from kit.mongo import Document


async def test_two_hundred_concurrent_increments_of_one_document_all_count(
    db: AsyncDatabase[Document],
) -> None:
    counters = db["counters"]
    await counters.insert_one({"_id": "sessions", "value": 0})
    await asyncio.gather(
        *(counters.update_one({"_id": "sessions"}, {"$inc": {"value": 1}}) for _ in range(200))
    )
    assert (await counters.find_one({"_id": "sessions"}) or {})["value"] == 200

    numbers = await asyncio.gather(
        *(
            counters.find_one_and_update(
                {"_id": "sessions"}, {"$inc": {"value": 1}}, return_document=ReturnDocument.AFTER
            )
            for _ in range(100)
        )
    )
    assert sorted(n["value"] for n in numbers if n) == list(range(201, 301))  # no number twice


async def test_pushes_racing_with_exact_pulls_lose_nothing(db: AsyncDatabase[Document]) -> None:
    """What a service (pushing events) and the outbox relay (pulling sent ones) do at once."""
    docs = db["docs"]
    await docs.insert_one({"_id": "d", "_outbox": [], "changes": 0})

    async def writer(i: int) -> None:
        await docs.update_one(
            {"_id": "d"}, {"$inc": {"changes": 1}, "$push": {"_outbox": {"id": f"e{i}"}}}
        )

    pulled: list[dict[str, str]] = []

    async def relay() -> None:
        for _ in range(60):
            document = await docs.find_one({"_id": "d"})
            sent = (document or {}).get("_outbox", [])
            if sent:
                await docs.update_one({"_id": "d"}, {"$pullAll": {"_outbox": sent}})
                pulled.extend(sent)
            await asyncio.sleep(0)

    await asyncio.gather(relay(), *(writer(i) for i in range(150)))
    final = await docs.find_one({"_id": "d"})
    assert final is not None
    assert final["changes"] == 150
    remaining = {e["id"] for e in final["_outbox"]}
    assert remaining | {e["id"] for e in pulled} == {f"e{i}" for i in range(150)}
