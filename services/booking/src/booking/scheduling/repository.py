"""Every database call of scheduling.

Collections: `session_types`, `resources`, `opening_hours`, `closures`, `sessions` (carry
the outbox), `resource_claims` (one document per resource and 5-minute granule, unique by
`_id`: the no-double-booking rule), `counters` (session numbers).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from booking.scheduling.calendar import granules
from kit.events.consumer import HandlerContext
from kit.events.envelope import Envelope
from kit.events.outbox import with_events
from kit.mongo import Document, IndexSpec

DUPLICATE_KEY = 11000
LIVE_STATES = ("pending", "held", "booked", "reopening")

INDEXES = [
    IndexSpec("sessions", [("resource_ids", 1), ("starts_at", 1)], name="resource_start"),
    IndexSpec("sessions", [("client_id", 1), ("starts_at", 1)], name="client_start"),
    IndexSpec("sessions", [("state", 1), ("hold_expires_at", 1)], name="state_hold"),
    IndexSpec("sessions", [("number", 1)], name="number"),
    IndexSpec("resource_claims", [("session_id", 1)], name="claim_session"),
    IndexSpec("opening_hours", [("resource_id", 1)], name="hours_resource"),
    IndexSpec("closures", [("resource_id", 1), ("first_day", 1)], name="closure_resource"),
]


def claim_id(resource_id: str, granule: int) -> str:
    return f"{resource_id}:{granule}"


class SlotTaken(Exception):
    def __init__(self, claim: str) -> None:
        super().__init__(claim)
        self.claim = claim


class SchedulingRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    # --- reference data -----------------------------------------------------

    async def insert(self, collection: str, document: Document) -> None:
        await self.db[collection].insert_one(document)

    async def replace(self, collection: str, document: Document) -> bool:
        result = await self.db[collection].replace_one({"_id": document["_id"]}, document)
        return result.matched_count == 1

    async def get(self, collection: str, id_: str) -> Document | None:
        return await self.db[collection].find_one({"_id": id_})

    async def find_all(self, collection: str, selector: Document | None = None) -> list[Document]:
        return await self.db[collection].find(selector or {}).sort("_id", 1).to_list()

    async def delete(self, collection: str, id_: str) -> bool:
        return (await self.db[collection].delete_one({"_id": id_})).deleted_count == 1

    async def resources(self, ids: Sequence[str]) -> list[Document]:
        return await self.db["resources"].find({"_id": {"$in": list(ids)}}).to_list()

    async def hours_for(self, resource_ids: Sequence[str]) -> list[Document]:
        return (
            await self.db["opening_hours"]
            .find({"resource_id": {"$in": list(resource_ids)}})
            .to_list()
        )

    async def closures_for(self, resource_ids: Sequence[str]) -> list[Document]:
        return (
            await self.db["closures"]
            .find({"$or": [{"resource_id": {"$in": list(resource_ids)}}, {"resource_id": None}]})
            .to_list()
        )

    async def client(self, client_id: str) -> Document | None:
        return await self.db["clients"].find_one({"_id": client_id})

    # --- sessions -----------------------------------------------------------

    async def next_session_number(self) -> int:
        counter = await self.db["counters"].find_one_and_update(
            {"_id": "session_number"},
            {"$inc": {"value": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert counter is not None
        return int(counter["value"])

    async def insert_session(self, document: Document) -> None:
        await self.db["sessions"].insert_one(document)

    async def session(self, session_id: str) -> Document | None:
        return await self.db["sessions"].find_one({"_id": session_id}, {"_outbox": 0})

    async def update_session(
        self,
        session_id: str,
        *,
        expect: Document,
        changes: Document,
        events: Sequence[Envelope] = (),
    ) -> Document | None:
        """Apply `changes` if the session still matches `expect`; bump its version; with events."""
        update: dict[str, Any] = {"$set": changes, "$inc": {"version": 1}}
        if events:
            update = with_events(update, *events)
        # FerretDB's findAndModify takes no projection: the outbox is dropped here instead.
        document = await self.db["sessions"].find_one_and_update(
            {"_id": session_id, **expect}, update, return_document=ReturnDocument.AFTER
        )
        if document is not None:
            document.pop("_outbox", None)
        return document

    async def apply_workflow_status(
        self, context: HandlerContext, selector: Document, fields: Document
    ) -> bool:
        """Workflow's latest status of a session, once per event, never an older one."""
        return await context.apply_once(self.db["sessions"], selector, {"$set": fields})

    async def delete_session(self, session_id: str) -> None:
        await self.db["sessions"].delete_one({"_id": session_id})

    async def busy(
        self, resource_ids: Sequence[str], start: datetime, end: datetime, now: datetime
    ) -> list[Document]:
        """Live sessions of these resources that overlap [start, end), buffers included."""
        return (
            await self.db["sessions"]
            .find(
                {
                    "resource_ids": {"$in": list(resource_ids)},
                    "starts_at": {"$lt": end},
                    "blocked_until": {"$gt": start},
                    "state": {"$in": list(LIVE_STATES)},
                    "$or": [{"hold_expires_at": None}, {"hold_expires_at": {"$gt": now}}],
                },
                {"resource_ids": 1, "starts_at": 1, "blocked_until": 1},
            )
            .to_list()
        )

    async def calendar(
        self, start: datetime, end: datetime, resource_id: str | None, client_id: str | None
    ) -> list[Document]:
        selector: Document = {
            "starts_at": {"$lt": end},
            "ends_at": {"$gt": start},
            "state": {"$in": ["held", "booked"]},
        }
        if resource_id:
            selector["resource_ids"] = resource_id
        if client_id:
            selector["client_id"] = client_id
        return (
            await self.db["sessions"].find(selector, {"_outbox": 0}).sort("starts_at", 1).to_list()
        )

    async def sessions_to_sweep(self, now: datetime, pending_before: datetime) -> list[Document]:
        return (
            await self.db["sessions"]
            .find(
                {
                    "$or": [
                        {"state": "held", "hold_expires_at": {"$lte": now}},
                        {"state": "pending", "created_at": {"$lte": pending_before}},
                        {"state": "reopening", "reopening_since": {"$lte": pending_before}},
                        {"state": {"$in": ["cancelled", "expired"]}, "claims_released": False},
                    ]
                },
                {"_outbox": 0},
            )
            .to_list()
        )

    async def client_has_sessions(self, client_id: str) -> bool:
        return await self.db["sessions"].find_one({"client_id": client_id}, {"_id": 1}) is not None

    async def pending_deposit_refunds(self, decided_before: datetime) -> list[Document]:
        return (
            await self.db["sessions"]
            .find(
                {
                    "state": "cancelled",
                    "deposit_outcome.outcome": "pending",
                    "deposit_outcome.decided_at": {"$lte": decided_before},
                },
                {"_outbox": 0},
            )
            .limit(100)
            .to_list()
        )

    # --- claims ---------------------------------------------------------------

    async def claim(
        self,
        session_id: str,
        resource_ids: Sequence[str],
        start: datetime,
        end: datetime,
        *,
        skip: frozenset[str] = frozenset(),
    ) -> list[str]:
        """Claim every granule of [start, end) on every resource, in one fixed order.

        All or nothing: on the first granule someone else holds, the granules claimed here are
        released and SlotTaken names the contested one. Returns the claim ids inserted.
        """
        ids = [
            claim_id(r, g)
            for r in sorted(resource_ids)
            for g in granules(start, end)
            if claim_id(r, g) not in skip
        ]
        if not ids:
            return []
        documents = [
            {"_id": i, "resource_id": i.rsplit(":", 1)[0], "session_id": session_id} for i in ids
        ]
        try:
            await self.db["resource_claims"].insert_many(documents, ordered=True)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            inserted = ids[: errors[0]["index"]] if errors else []
            if inserted:
                await self.release(session_id, inserted)
            if errors and errors[0].get("code") == DUPLICATE_KEY:
                raise SlotTaken(ids[errors[0]["index"]]) from exc
            raise
        return ids

    async def claims_of(self, session_id: str) -> set[str]:
        cursor = self.db["resource_claims"].find({"session_id": session_id}, {"_id": 1})
        return {d["_id"] async for d in cursor}

    async def claim_holder(self, claim: str) -> str | None:
        document = await self.db["resource_claims"].find_one({"_id": claim})
        return None if document is None else str(document["session_id"])

    async def release(self, session_id: str, claim_ids: Sequence[str] | None = None) -> None:
        selector: Document = {"session_id": session_id}
        if claim_ids is not None:
            selector["_id"] = {"$in": list(claim_ids)}
        await self.db["resource_claims"].delete_many(selector)
