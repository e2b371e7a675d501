"""Every database call of payments.

Collections: `payments` (carry the outbox; `client_id` is moved by a client merge),
`stripe_events` (one document per Stripe event id handled: the once-only ledger and an audit
trail), `invoices` (what workflow says is due, from `workflow.invoice.created.v1`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kit.events.consumer import HandlerContext
from kit.events.envelope import Envelope
from kit.events.outbox import OUTBOX_FIELD, with_events
from kit.mongo import Document, IndexSpec

PAYMENTS = "payments"
STRIPE_EVENTS = "stripe_events"
INVOICES = "invoices"
# How many Stripe event ids a payment remembers; a payment sees only a handful.
EVENTS_KEPT = 100

INDEXES = [
    IndexSpec(PAYMENTS, [("session_id", 1)], name="payments_session"),
    IndexSpec(PAYMENTS, [("invoice_id", 1)], name="payments_invoice"),
    IndexSpec(PAYMENTS, [("client_id", 1), ("created_at", -1)], name="payments_client"),
    IndexSpec(INVOICES, [("session_id", 1), ("created_at", 1)], name="invoices_session"),
]


class PaymentRepository:
    def __init__(self, db: AsyncDatabase[Document], notify: Callable[..., None]) -> None:
        self._payments = db[PAYMENTS]
        self._stripe_events = db[STRIPE_EVENTS]
        self._invoices = db[INVOICES]
        self._notify = notify

    async def insert(self, document: Document) -> None:
        """A new payment; one carrying events (`new_document_with_events`) wakes the relay."""
        await self._payments.insert_one(document)
        if document.get(OUTBOX_FIELD):
            self._notify(PAYMENTS, document["_id"])

    async def get(self, payment_id: str) -> Document | None:
        return await self._payments.find_one({"_id": payment_id}, {OUTBOX_FIELD: 0})

    async def find(self, selector: Document, limit: int) -> list[Document]:
        cursor = self._payments.find(selector, {OUTBOX_FIELD: 0}).sort("created_at", -1)
        return await cursor.limit(limit).to_list()

    async def update(
        self,
        payment_id: str,
        *,
        expect: Document,
        changes: Document,
        inc: Document | None = None,
        stripe_event: str | None = None,
        events: list[Envelope] | None = None,
    ) -> Document | None:
        """One conditional write of the payment with its events; None when `expect` fails.

        With `stripe_event`, the write also records that event id and does nothing if the
        payment already holds it: the event's effect and its "handled" mark are one write.
        """
        selector: Document = {"_id": payment_id, **expect}
        update: dict[str, Any] = {"$set": changes, "$inc": {"version": 1, **(inc or {})}}
        if stripe_event is not None:
            selector["stripe_events"] = {"$ne": stripe_event}
            update["$push"] = {"stripe_events": {"$each": [stripe_event], "$slice": -EVENTS_KEPT}}
        if events:
            update = with_events(update, *events)
        document = await self._payments.find_one_and_update(
            selector, update, return_document=ReturnDocument.AFTER
        )
        if document is None:
            return None
        if events:
            self._notify(PAYMENTS, payment_id)
        document.pop(OUTBOX_FIELD, None)
        return document

    async def record_stripe_event(self, document: Document) -> bool:
        """Remember a handled Stripe event; False if it was recorded before."""
        try:
            await self._stripe_events.insert_one(document)
        except DuplicateKeyError:
            return False
        return True

    async def stripe_event(self, event_id: str) -> Document | None:
        return await self._stripe_events.find_one({"_id": event_id})

    async def record_invoice(self, context: HandlerContext, document: Document) -> bool:
        """Store what an invoice event says is due, once per event."""
        fields = {k: v for k, v in document.items() if k != "_id"}
        return await context.apply_once(
            self._invoices, {"_id": document["_id"]}, {"$set": fields}, upsert=True
        )

    async def invoice(self, invoice_id: str) -> Document | None:
        return await self._invoices.find_one({"_id": invoice_id})

    async def first_invoice_of_session(self, session_id: str) -> Document | None:
        cursor = self._invoices.find({"session_id": session_id}).sort(
            [("created_at", 1), ("_id", 1)]
        )
        found = await cursor.limit(1).to_list()
        return found[0] if found else None
