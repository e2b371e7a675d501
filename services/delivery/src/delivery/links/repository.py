"""Every database call about links and the download log (both carry outbox events)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kit.events.envelope import Envelope
from kit.events.outbox import new_document_with_events, with_events
from kit.mongo import Document, IndexSpec

LINKS = "links"
DOWNLOADS = "downloads"
# Numbered uses of a limited thing (downloads of a limited link, wrong PINs): one document per
# use under a unique id. FerretDB 1.24 loses concurrent `$inc`s and runs findAndModify's
# condition and update apart, so a counter in the link could not hold a limit; a unique index can.
SLOTS = "link_slots"
GRANTS_KEPT = 20
RESUMES_KEPT = 20  # the latest resumes kept on a download (all are counted)

INDEXES = [
    IndexSpec(LINKS, [("token_hash", 1)], name="by_token", unique=True),
    IndexSpec(LINKS, [("delivery_id", 1), ("created_at", 1)], name="by_delivery"),
    IndexSpec(LINKS, [("expired_notified", 1), ("expires_at", 1)], name="expiry_sweep"),
    IndexSpec(DOWNLOADS, [("delivery_id", 1), ("at", -1)], name="by_delivery"),
    IndexSpec(DOWNLOADS, [("link_id", 1)], name="by_link"),
    IndexSpec(SLOTS, [("link_id", 1), ("kind", 1)], name="by_link"),
]

SlotKind = Literal["download", "wrong_pin"]

_NO_OUTBOX = {"_outbox": 0}


class LinkRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._links = db[LINKS]
        self._downloads = db[DOWNLOADS]
        self._slots = db[SLOTS]

    async def insert(self, document: Document, events: list[Envelope]) -> None:
        await self._links.insert_one(new_document_with_events(document, *events))

    async def delete_unpublished(self, delivery_id: str, claim: str) -> None:
        """Remove links an earlier packaging attempt wrote but could not publish (it died, or
        lost its claim, between writing them and making the delivery ready)."""
        await self._links.delete_many({"delivery_id": delivery_id, "claim": {"$ne": claim}})

    async def delete_attempt(self, delivery_id: str, claim: str) -> None:
        """Remove the links one packaging attempt wrote, when it could not publish them."""
        await self._links.delete_many({"delivery_id": delivery_id, "claim": claim})

    async def insert_many(self, documents: list[Document]) -> None:
        if documents:
            await self._links.insert_many(documents)

    async def _with_counts(self, link: Document | None) -> Document | None:
        """The link with `downloads` and `pin_failures` counted from their records."""
        if link is None:
            return None
        link["downloads"] = await self._downloads.count_documents({"link_id": link["_id"]})
        link["pin_failures"] = await self._slots.count_documents(
            {"link_id": link["_id"], "kind": "wrong_pin"}
        )
        return link

    async def by_token_hash(self, token_hash: str) -> Document | None:
        return await self._with_counts(
            await self._links.find_one({"token_hash": token_hash}, _NO_OUTBOX)
        )

    async def get(self, delivery_id: str, link_id: str) -> Document | None:
        return await self._with_counts(
            await self._links.find_one({"_id": link_id, "delivery_id": delivery_id}, _NO_OUTBOX)
        )

    async def for_delivery(self, delivery_id: str) -> list[Document]:
        cursor = self._links.find({"delivery_id": delivery_id}, _NO_OUTBOX).sort("created_at", 1)
        return [
            link
            for link in [await self._with_counts(d) for d in await cursor.to_list()]
            if link is not None
        ]

    async def take_slot(self, link_id: str, kind: SlotKind, limit: int) -> int | None:
        """The number of the use this call took (1..limit), or None when all are taken."""
        used = await self._slots.count_documents({"link_id": link_id, "kind": kind})
        for number in range(used + 1, limit + 1):
            try:
                await self._slots.insert_one(
                    {"_id": f"{link_id}:{kind}:{number}", "link_id": link_id, "kind": kind}
                )
            except DuplicateKeyError:
                continue  # taken by a concurrent request: try the next one
            return number
        return None

    async def update(self, link_id: str, selector: Document, update: Document) -> Document | None:
        """Apply `update` if the link still matches `selector`; the link after, or None."""
        # No projection: FerretDB 1.24's findAndModify does not implement `fields`.
        return await self._with_counts(
            await self._links.find_one_and_update(
                {"_id": link_id, **selector}, update, return_document=ReturnDocument.AFTER
            )
        )

    async def add_grant(self, link_id: str, grant_hash: str) -> None:
        await self._links.update_one(
            {"_id": link_id},
            {"$push": {"grants": {"$each": [grant_hash], "$slice": -GRANTS_KEPT}}},
        )

    async def release_slot(self, link_id: str, kind: SlotKind, number: int) -> None:
        """Give back a use taken by a request that turned out not to need it."""
        await self._slots.delete_one({"_id": f"{link_id}:{kind}:{number}"})

    async def log_download(self, document: Document, events: list[Envelope]) -> bool:
        """Count a download (its id names the link, the file and the visit); False if that
        visit's download of the file was counted already."""
        try:
            await self._downloads.insert_one(new_document_with_events(document, *events))
        except DuplicateKeyError:
            return False
        return True

    async def download(self, download_id: str) -> Document | None:
        return await self._downloads.find_one({"_id": download_id}, _NO_OUTBOX)

    async def last_download_by(
        self, link_id: str, kind: str, file_name: str, client_hash: str, *, since: datetime
    ) -> Document | None:
        """The latest download of one file of a link by one client address, since `since`."""
        cursor = self._downloads.find(
            {
                "link_id": link_id,
                "kind": kind,
                "file_name": file_name,
                "client_hash": client_hash,
                "at": {"$gte": since},
            },
            _NO_OUTBOX,
        ).sort("at", -1)
        found = await cursor.limit(1).to_list()
        return found[0] if found else None

    async def record_resume(self, download_id: str, resume: Document) -> None:
        """A later request of a counted download (a resume): logged on it, never counted."""
        await self._downloads.update_one(
            {"_id": download_id},
            {
                "$inc": {"resumes": 1},
                "$set": {"last_resumed_at": resume["at"]},
                "$push": {"resumed": {"$each": [resume], "$slice": -RESUMES_KEPT}},
            },
        )

    async def downloads_of(self, delivery_id: str, limit: int) -> list[Document]:
        cursor = self._downloads.find({"delivery_id": delivery_id}, _NO_OUTBOX).sort("at", -1)
        return await cursor.limit(limit).to_list()

    async def due_for_expiry(self, now: datetime, limit: int) -> list[Document]:
        cursor = self._links.find(
            {"expired_notified": False, "revoked_at": None, "expires_at": {"$lte": now}},
            _NO_OUTBOX,
        )
        return await cursor.limit(limit).to_list()

    async def mark_expired(self, link: Document, now: datetime, events: list[Envelope]) -> bool:
        result = await self._links.update_one(
            {"_id": link["_id"], "expired_notified": False, "expires_at": {"$lte": now}},
            with_events({"$set": {"expired_notified": True}}, *events),
        )
        return result.modified_count == 1

    # --- the link mail outbox: `mail_pending` links, due at `mail_due_at` ---

    async def due_mails(self, now: datetime, limit: int) -> list[Document]:
        cursor = self._links.find(
            {"mail_pending": True, "mail_due_at": {"$lte": now}},
            {"_id": 1, "delivery_id": 1},
        )
        return await cursor.limit(limit).to_list()

    async def claim_mail(self, link_id: str, now: datetime, until: datetime) -> Document | None:
        """The link, when this caller may send its mail now (until `until`); else None."""
        result = await self._links.update_one(
            {"_id": link_id, "mail_pending": True, "mail_due_at": {"$lte": now}},
            {"$set": {"mail_due_at": until}},
        )
        if result.modified_count != 1:
            return None
        return await self._links.find_one({"_id": link_id}, _NO_OUTBOX)

    async def mail_done(self, link_id: str, fields: dict[str, Any]) -> None:
        """Sent (or given up): the URL is forgotten."""
        await self._links.update_one(
            {"_id": link_id}, {"$set": {**fields, "mail_pending": False, "mail_url": None}}
        )

    async def mail_retry(self, link_id: str, due_at: datetime, attempts: int, error: str) -> None:
        await self._links.update_one(
            {"_id": link_id, "mail_pending": True},
            {"$set": {"mail_due_at": due_at, "mail_attempts": attempts, "mail_error": error}},
        )

    async def set_fields(
        self, link_id: str, selector: Document, fields: dict[str, Any]
    ) -> Document | None:
        return await self.update(link_id, selector, {"$set": fields})
