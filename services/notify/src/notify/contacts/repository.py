"""What notify knows of other services' records, from their events: the clients it may
write to (contact details and consent) and the sessions, invoices and deliveries a message
is about. Never read from their databases; rebuilt by reading the topics again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kit.events.consumer import HandlerContext
from kit.events.envelope import Envelope
from kit.events.outbox import with_events
from kit.mongo import Document, IndexSpec

CONTACTS = "contacts"
RECORDS = "records"

INDEXES = (IndexSpec(RECORDS, [("kind", 1), ("session_id", 1)], name="records_by_session"),)


def record_id(kind: str, entity_id: str) -> str:
    return f"{kind}:{entity_id}"


class ContactBook:
    """Clients (`contacts`, keyed by client id) and the records messages are about
    (`records`, keyed `<kind>:<id>`: session, invoice, production_order, delivery)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._contacts = db[CONTACTS]
        self._records = db[RECORDS]

    async def record_client(self, context: HandlerContext, fields: dict[str, Any]) -> None:
        client_id = fields.pop("client_id")
        await context.apply_once(self._contacts, {"_id": client_id}, {"$set": fields}, upsert=True)

    async def forget_client(self, context: HandlerContext, client_id: str) -> None:
        await context.apply_once(
            self._contacts,
            {"_id": client_id},
            {"$set": {"deleted": True, "email": None, "phone": None, "sms_phone": None}},
            upsert=True,
        )

    async def contact(self, client_id: str | None) -> Document | None:
        if client_id is None:
            return None
        return await self._contacts.find_one({"_id": client_id})

    async def unsubscribe(self, client_id: str, at: datetime, event: Envelope) -> bool:
        """Consent withdrawn and the event written with it; False when already withdrawn
        (or the client is unknown): nothing written, no second event."""
        try:
            result = await self._contacts.update_one(
                {"_id": client_id, "unsubscribed_at": None},
                with_events({"$set": {"marketing_consent": False, "unsubscribed_at": at}}, event),
                # A client the projection has not seen yet is still unsubscribed.
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # unsubscribed already: the filter missed, the upsert collided
        return result.modified_count == 1 or result.upserted_id is not None

    async def record(
        self, context: HandlerContext, kind: str, entity_id: str, fields: dict[str, Any]
    ) -> None:
        await context.apply_once(
            self._records,
            {"_id": record_id(kind, entity_id)},
            {"$set": {"kind": kind, **fields}},
            upsert=True,
        )

    async def get(self, kind: str, entity_id: str) -> Document | None:
        return await self._records.find_one({"_id": record_id(kind, entity_id)})
