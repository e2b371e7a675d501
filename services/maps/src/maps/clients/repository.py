"""The client projection: clients and their sessions, as booking's events tell them.

Client documents carry a tombstone (`deleted`) instead of being removed, so a late session
event cannot bring back a phantom client. Session events are keyed by session id, so they
may arrive before the client's own events; the client document is upserted either way and
only selected once its `known` flag says a client event was seen.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kit.events.consumer import HandlerContext
from kit.events.contracts.booking import ClientRecord, SessionRecord
from kit.mongo import Document, IndexSpec
from maps.clients.schemas import ProjectedClient

CLIENTS = "clients"
SESSIONS = "sessions"
STATE = "projection_state"
INDEXES = (
    IndexSpec(CLIENTS, [("tags", 1)], "tags"),
    IndexSpec(CLIENTS, [("organization_key", 1)], "organization_key"),
    IndexSpec(CLIENTS, [("postal_code", 1)], "postal_code"),
    IndexSpec(CLIENTS, [("session_type_ids", 1)], "session_type_ids"),
    IndexSpec(CLIENTS, [("last_session_at", 1)], "last_session_at"),
    IndexSpec(SESSIONS, [("client_id", 1)], "client_id"),
)
_CHUNK = 1000
_PROJECTED = {
    "first_name": 1,
    "last_name": 1,
    "organization": 1,
    "address": 1,
    "tags": 1,
    "session_type_ids": 1,
    "last_session_at": 1,
    "marketing_consent": 1,
}


class ClientProjection:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._clients = db[CLIENTS]
        self._sessions = db[SESSIONS]
        self._state = db[STATE]

    # Writes, from the consumer.

    async def apply_client(
        self, ctx: HandlerContext, client: ClientRecord, postal_code: str
    ) -> None:
        fields = client_fields(client, postal_code)
        await ctx.apply_once(
            self._clients, {"_id": client.client_id}, {"$set": fields}, upsert=True
        )

    async def apply_deleted(self, ctx: HandlerContext, client_id: str) -> None:
        await ctx.apply_once(
            self._clients, {"_id": client_id}, {"$set": {"deleted": True}}, upsert=True
        )

    async def apply_session(self, ctx: HandlerContext, session: SessionRecord) -> set[str]:
        """Record the session; the ids of the clients whose session summary may have changed."""
        before = await self._sessions.find_one({"_id": session.session_id}, {"client_id": 1})
        fields = {
            "client_id": session.client_id,
            "session_type_id": session.session_type_id,
            "starts_at": session.starts_at,
            "cancelled": False,
        }
        await ctx.apply_once(
            self._sessions, {"_id": session.session_id}, {"$set": fields}, upsert=True
        )
        return {session.client_id} | ({before["client_id"]} if before else set())

    async def apply_cancelled(self, ctx: HandlerContext, session_id: str) -> set[str]:
        await ctx.apply_once(
            self._sessions, {"_id": session_id}, {"$set": {"cancelled": True}}, upsert=True
        )
        session = await self._sessions.find_one({"_id": session_id}, {"client_id": 1})
        client_id = session.get("client_id") if session else None
        return {client_id} if client_id else set()

    async def refresh_session_summary(self, client_id: str) -> None:
        """Session types booked and the last session date, recomputed from the sessions."""
        types: set[str] = set()
        last: datetime | None = None
        async for session in self._sessions.find({"client_id": client_id, "cancelled": False}):
            types.add(session["session_type_id"])
            if last is None or session["starts_at"] > last:
                last = session["starts_at"]
        await self._clients.update_one(
            {"_id": client_id},
            {"$set": {"session_type_ids": sorted(types), "last_session_at": last}},
            upsert=True,
        )

    # The rebuild epoch, for the consumer group.

    async def consumer_epoch(self) -> str:
        """The current epoch, or a new one when the projection is empty.

        A new epoch means a new consumer group, which reads the topic from its beginning:
        that is how an empty projection (new, or wiped) is rebuilt.
        """
        state = await self._state.find_one({"_id": "epoch"})
        if state is not None and await self._clients.find_one({}, {"_id": 1}) is not None:
            return str(state["epoch"])
        epoch = uuid.uuid4().hex[:12]
        if state is None:
            try:
                await self._state.insert_one({"_id": "epoch", "epoch": epoch})
                return epoch
            except DuplicateKeyError:
                pass  # another consumer started one first; use it
        else:
            result = await self._state.update_one(
                {"_id": "epoch", "epoch": state["epoch"]}, {"$set": {"epoch": epoch}}
            )
            if result.modified_count == 1:
                return epoch
        current = await self._state.find_one({"_id": "epoch"})
        assert current is not None
        return str(current["epoch"])

    # Reads, for the maps.

    async def count(self, query: Document) -> int:
        return await self._clients.count_documents({**query, **_LIVE})

    async def find(self, query: Document, *, limit: int = 0) -> list[ProjectedClient]:
        cursor = self._clients.find({**query, **_LIVE}, _PROJECTED, limit=limit).sort("_id", 1)
        return [_client(document) async for document in cursor]

    async def find_by_ids(self, client_ids: Sequence[str]) -> list[ProjectedClient]:
        found: list[ProjectedClient] = []
        for start in range(0, len(client_ids), _CHUNK):
            chunk = list(client_ids[start : start + _CHUNK])
            found += await self.find({"_id": {"$in": chunk}})
        return found

    async def get(self, client_id: str) -> ProjectedClient | None:
        document = await self._clients.find_one({"_id": client_id, **_LIVE}, _PROJECTED)
        return _client(document) if document else None


_LIVE: Document = {"known": True, "deleted": False}


def client_fields(client: ClientRecord, postal_code: str) -> dict[str, Any]:
    """The projected fields of one client record (also what a bulk seed writes)."""
    return {
        "known": True,
        "deleted": False,
        "first_name": client.first_name,
        "last_name": client.last_name,
        "organization": client.organization,
        "organization_key": (client.organization or "").strip().casefold() or None,
        "address": client.address.model_dump() if client.address else None,
        "postal_code": postal_code or None,
        "tags": client.tags,
        "marketing_consent": client.marketing_consent,
    }


def _client(document: Document) -> ProjectedClient:
    address = document.get("address") or {}
    return ProjectedClient(
        client_id=document["_id"],
        first_name=document.get("first_name"),
        last_name=document.get("last_name"),
        organization=document.get("organization"),
        street=address.get("street"),
        city=address.get("city"),
        region=address.get("region"),
        postal_code=address.get("postal_code"),
        country=address.get("country"),
        tags=document.get("tags") or [],
        session_type_ids=document.get("session_type_ids") or [],
        last_session_at=document.get("last_session_at"),
        marketing_consent=document.get("marketing_consent"),
    )
