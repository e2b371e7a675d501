"""Every database call about invoices (`invoices`) and their payments (`invoice_payments`).

A session's deposit is recorded there too (`kind: deposit`, the session and no invoice); it
counts toward the session's first invoice.

Payments are inserted, one document per payment id and outcome, never updated: the paid
amount is their sum, so two payments recorded at once cannot overwrite each other.
"""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kit.mongo import Document, IndexSpec
from workflow.tracking.repository import COLLECTIONS

INVOICES = COLLECTIONS["invoice"]
PAYMENTS = "invoice_payments"
INDEXES = [
    IndexSpec(INVOICES, [("client_id", 1)], "by_client"),
    IndexSpec(INVOICES, [("session_id", 1)], "by_session"),
    IndexSpec(PAYMENTS, [("invoice_id", 1)], "by_invoice"),
    IndexSpec(PAYMENTS, [("session_id", 1), ("kind", 1)], "by_session_kind"),
]


class InvoiceRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._invoices = db[INVOICES]
        self._payments = db[PAYMENTS]

    async def insert(self, document: Document) -> None:
        await self._invoices.insert_one(document)

    async def find(self, query: Document, *, limit: int, skip: int) -> list[Document]:
        cursor = self._invoices.find(query).sort("created_at", -1).skip(skip).limit(limit)
        return [d async for d in cursor]

    async def many(self, invoice_ids: list[str]) -> list[Document]:
        return [d async for d in self._invoices.find({"_id": {"$in": invoice_ids}})]

    async def record_payment(self, document: Document) -> bool:
        """False if this payment outcome was recorded already."""
        try:
            await self._payments.insert_one(document)
        except DuplicateKeyError:
            return False
        return True

    async def payments(self, invoice_id: str) -> list[Document]:
        cursor = self._payments.find({"invoice_id": invoice_id}).sort("recorded_at", 1)
        return [d async for d in cursor]

    async def deposits(self, session_id: str) -> list[Document]:
        """A session's deposit records (payments naming the session and no invoice)."""
        cursor = self._payments.find({"session_id": session_id, "kind": "deposit"})
        return [d async for d in cursor.sort("recorded_at", 1)]

    async def first_of_session(self, session_id: str) -> Document | None:
        """The session's first invoice (by creation, then id): its deposit counts there."""
        cursor = self._invoices.find({"session_id": session_id}, {"_outbox": 0})
        found = [d async for d in cursor.sort([("created_at", 1), ("_id", 1)]).limit(1)]
        return found[0] if found else None
