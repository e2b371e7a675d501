"""Every database call of the clients feature."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from booking.clients.keys import (
    SEARCH_KEYS_VERSION,
    DuplicateKeys,
    fold_for_search,
    normalise_postal_code,
    search_keys,
)
from booking.clients.schemas import ClientFilter, ClientSort
from kit.events.envelope import Envelope
from kit.events.outbox import new_document_with_events, with_events
from kit.mongo import Document, IndexSpec

CLIENTS = "clients"
TEMPLATES = "client_import_templates"
IMPORTS = "client_imports"  # imports run in the background: progress, then the report
# The lead's collections (scheduling and payments) refer to a client by `client_id`.
SESSIONS = "sessions"
PAYMENTS = "payments"

INDEXES = [
    IndexSpec(CLIENTS, [("email_key", 1)], name="clients_email_key"),
    IndexSpec(CLIENTS, [("phone_keys", 1)], name="clients_phone_keys"),
    IndexSpec(CLIENTS, [("name_zip_key", 1)], name="clients_name_zip_key"),
    IndexSpec(CLIENTS, [("sort.last_name", 1), ("sort.first_name", 1)], name="clients_by_name"),
    IndexSpec(CLIENTS, [("created_at", 1)], name="clients_by_created_at"),
    IndexSpec(CLIENTS, [("sort.postal_code", 1)], name="clients_by_postal_code"),
    IndexSpec(CLIENTS, [("tags", 1)], name="clients_by_tag"),
]

LIVE: Document = {"deleted_at": None}

_SORT_FIELDS = {
    "last_name": "sort.last_name",
    "first_name": "sort.first_name",
    "organization": "sort.organization",
    "email": "sort.email",
    "postal_code": "sort.postal_code",
    "created_at": "created_at",
}


def _contains(text: str) -> Document:
    return {"$regex": re.escape(" ".join(text.split()).casefold())}


def _folded(text: str) -> Document:
    return {"$regex": re.escape(fold_for_search(text))}


def _any_contains(fields: Sequence[str], text: str) -> Document:
    """One of `fields` contains `text`, whatever its accents and case ("jose" finds "José").

    A client stored before the search keys existed, and not yet refolded by the backfill, is
    matched on its case-folded sort keys as before.
    """
    return {
        "$or": [
            *({f"search.{name}": _folded(text)} for name in fields),
            {
                "search": {"$exists": False},
                "$or": [{f"sort.{name}": _contains(text)} for name in fields],
            },
        ]
    }


def search_query(criteria: ClientFilter) -> Document:
    query: Document = dict(LIVE)
    clauses: list[Document] = []
    if criteria.name:
        # Every word appears in the first or the last name.
        for word in criteria.name.split():
            clauses.append(_any_contains(("first_name", "last_name"), word))
    if criteria.email:
        clauses.append(_any_contains(("email",), criteria.email))
    if criteria.phone:
        digits = "".join(ch for ch in criteria.phone if ch.isdigit())
        query["phone_keys"] = {"$regex": re.escape(digits)}
    if criteria.organization:
        clauses.append(_any_contains(("organization",), criteria.organization))
    if criteria.tags:
        query["tags"] = {"$all": list(criteria.tags)}
    if criteria.marketing_consent is not None:
        # Not given: withdrawn, refused, never asked, or a record older than the field.
        query["marketing_consent"] = True if criteria.marketing_consent else {"$ne": True}
    if criteria.postal_code:
        query["sort.postal_code"] = normalise_postal_code(criteria.postal_code)
    created: Document = {}
    if criteria.created_from:
        created["$gte"] = criteria.created_from
    if criteria.created_to:
        created["$lte"] = criteria.created_to
    if created:
        query["created_at"] = created
    if clauses:
        query["$and"] = clauses
    return query


def sort_spec(sort: ClientSort) -> list[tuple[str, int]]:
    name = sort.value.lstrip("-")
    direction = DESCENDING if sort.value.startswith("-") else ASCENDING
    return [(_SORT_FIELDS[name], direction), ("_id", direction)]


class ClientRepository:
    def __init__(self, db: AsyncDatabase[Document], notify: Callable[..., None]) -> None:
        self._clients = db[CLIENTS]
        self._templates = db[TEMPLATES]
        self._imports = db[IMPORTS]
        self._sessions = db[SESSIONS]
        self._payments = db[PAYMENTS]
        self._notify = notify

    async def insert(self, document: Document, *events: Envelope) -> None:
        await self._clients.insert_one(new_document_with_events(document, *events))
        self._notify(CLIENTS, document["_id"])

    async def insert_many(self, documents: Sequence[Document]) -> None:
        """Documents that already carry their events (`new_document_with_events`)."""
        if documents:
            await self._clients.insert_many(list(documents), ordered=False)
            self._notify(CLIENTS, *(d["_id"] for d in documents))

    async def get(self, client_id: str) -> Document | None:
        return await self._clients.find_one({"_id": client_id}, {"_outbox": 0})

    async def find_duplicate(
        self, keys: DuplicateKeys, *, excluding: str | None = None
    ) -> Document | None:
        matches = await self.find_duplicates(
            emails=[keys.email] if keys.email else [],
            phones=list(keys.phones),
            name_zips=[keys.name_zip] if keys.name_zip else [],
            limit=2,
        )
        return next((m for m in matches if m["_id"] != excluding), None)

    async def find_duplicates(
        self,
        *,
        emails: Sequence[str],
        phones: Sequence[str],
        name_zips: Sequence[str],
        limit: int = 0,
    ) -> list[Document]:
        """Live clients sharing any of these keys (only their ids and keys)."""
        alternatives: list[Document] = []
        if emails:
            alternatives.append({"email_key": {"$in": list(emails)}})
        if phones:
            alternatives.append({"phone_keys": {"$in": list(phones)}})
        if name_zips:
            alternatives.append({"name_zip_key": {"$in": list(name_zips)}})
        if not alternatives:
            return []
        cursor = self._clients.find(
            {**LIVE, "$or": alternatives},
            {"email_key": 1, "phone_keys": 1, "name_zip_key": 1, "created_at": 1},
        ).sort([("created_at", ASCENDING), ("_id", ASCENDING)])
        if limit:
            cursor = cursor.limit(limit)
        return await cursor.to_list()

    async def live_keys(self) -> AsyncIterator[Document]:
        """The duplicate keys of every live client, oldest first (ids and keys only)."""
        cursor = (
            self._clients.find(LIVE, {"email_key": 1, "phone_keys": 1, "name_zip_key": 1})
            .sort([("created_at", ASCENDING), ("_id", ASCENDING)])
            .batch_size(2000)
        )
        async for document in cursor:
            yield document

    async def replace_fields(
        self, client_id: str, version: int, fields: Document, event: Envelope
    ) -> Document | None:
        """Set `fields` if the client is live and still at `version`; None when it was not."""
        updated = await self._clients.find_one_and_update(
            {"_id": client_id, "version": version, **LIVE},
            with_events({"$set": fields, "$inc": {"version": 1}}, event),
            return_document=ReturnDocument.AFTER,
        )
        if updated is None:
            return None
        self._notify(CLIENTS, client_id)
        # FerretDB 1.24 has no projection in findAndModify: drop the outbox here.
        updated.pop("_outbox", None)
        return updated

    async def mark_deleted(
        self, client_id: str, at: datetime, event: Envelope, *, merged_into: str | None = None
    ) -> bool:
        """Soft-delete a live client with its event; False when it was not live."""
        result = await self._clients.update_one(
            {"_id": client_id, **LIVE},
            with_events(
                {
                    "$set": {"deleted_at": at, "updated_at": at, "merged_into": merged_into},
                    "$inc": {"version": 1},
                },
                event,
            ),
        )
        if result.modified_count:
            self._notify(CLIENTS, client_id)
        return result.modified_count == 1

    async def without_current_search_keys(self, after: str, limit: int) -> list[Document]:
        """Clients (deleted ones too) whose search keys are missing or of another version,
        by id after `after`: the fields the keys are made of, and the version."""
        cursor = (
            self._clients.find(
                {"_id": {"$gt": after}, "search.v": {"$ne": SEARCH_KEYS_VERSION}},
                {"first_name": 1, "last_name": 1, "organization": 1, "email": 1, "version": 1},
            )
            .sort("_id", ASCENDING)
            .limit(limit)
        )
        return await cursor.to_list()

    async def set_search_keys(self, document: Document) -> bool:
        """Store the search keys of `document` unless the client changed since it was read
        (that change stored its own keys). No event: the keys are derived, not the client's."""
        result = await self._clients.update_one(
            {"_id": document["_id"], "version": document.get("version")},
            {"$set": {"search": search_keys(document)}},
        )
        return result.modified_count == 1

    async def count(self, query: Document) -> int:
        return await self._clients.count_documents(query)

    async def search(
        self, query: Document, sort: list[tuple[str, int]], *, skip: int, limit: int
    ) -> list[Document]:
        cursor = self._clients.find(query, {"_outbox": 0}).sort(sort).skip(skip).limit(limit)
        return await cursor.to_list()

    async def stream(self, query: Document, sort: list[tuple[str, int]]) -> AsyncIterator[Document]:
        cursor = self._clients.find(query, {"_outbox": 0}).sort(sort).batch_size(500)
        async for document in cursor:
            yield document

    async def move_client_references(self, source_id: str, target_id: str) -> tuple[int, int]:
        """Point the sessions and payments of `source_id` at `target_id`; how many moved."""
        sessions = await self._sessions.update_many(
            {"client_id": source_id}, {"$set": {"client_id": target_id}}
        )
        payments = await self._payments.update_many(
            {"client_id": source_id}, {"$set": {"client_id": target_id}}
        )
        return sessions.modified_count, payments.modified_count

    # Import templates

    async def save_template(self, name: str, mapping: dict[str, str], at: datetime) -> Document:
        saved = await self._templates.find_one_and_update(
            {"_id": name},
            {"$set": {"mapping": mapping, "updated_at": at}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert saved is not None
        return saved

    async def get_template(self, name: str) -> Document | None:
        return await self._templates.find_one({"_id": name})

    async def list_templates(self) -> list[Document]:
        return await self._templates.find().sort("_id", ASCENDING).to_list()

    async def delete_template(self, name: str) -> bool:
        return (await self._templates.delete_one({"_id": name})).deleted_count == 1

    # Imports run in the background

    async def insert_import(self, document: Document) -> None:
        await self._imports.insert_one(document)

    async def update_import(self, import_id: str, fields: Document) -> None:
        await self._imports.update_one({"_id": import_id}, {"$set": fields})

    async def get_import(self, import_id: str) -> Document | None:
        return await self._imports.find_one({"_id": import_id})
