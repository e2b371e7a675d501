"""The rules of the clients feature: duplicates, soft deletion, merging."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from booking.clients.keys import DuplicateKeys, search_keys, sort_keys
from booking.clients.repository import ClientRepository, search_query, sort_spec
from booking.clients.schemas import (
    CONSENT_DETAILS,
    ClientCreate,
    ClientFilter,
    ClientOut,
    ClientSort,
    ClientUpdate,
    ConsentWithdrawal,
    MergeResult,
)
from kit.errors import Conflict, Gone, NotFound, Unprocessable
from kit.events.contracts.booking import (
    ClientCreated,
    ClientDeleted,
    ClientRecord,
    ClientUpdated,
    PhoneNumber,
    PostalAddress,
)
from kit.events.envelope import Envelope, source_of
from kit.mongo import Document

SOURCE = source_of("booking")
UPDATE_ATTEMPTS = 5
# The fields a caller gives; the rest of a client document is derived or bookkeeping.
CLIENT_FIELDS = (
    "first_name",
    "last_name",
    "organization",
    "email",
    "phones",
    "address",
    "tags",
    "notes",
    "marketing_consent",
)


def now() -> datetime:
    """Milliseconds, as BSON stores them, so what is answered equals what is read back."""
    at = datetime.now(UTC)
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


CONSENT_HISTORY_KEPT = 50


def consent_change(
    given: bool, details: Mapping[str, Any], at: datetime, by: str | None
) -> Document:
    """One entry of the consent history, from `ConsentFields` (validated) and defaults."""
    return {
        "given": given,
        "at": details.get("marketing_consent_at") or at,
        "method": details.get("marketing_consent_method") or "staff_entry",
        "by": by,
        "note": details.get("marketing_consent_note"),
    }


def consent_state(history: list[Document]) -> Document:
    """The consent fields of a client document: the last change says the current state."""
    last = history[-1] if history else None
    return {
        "marketing_consent": bool(last and last["given"]),
        "marketing_consent_at": last["at"] if last else None,
        "marketing_consent_method": last["method"] if last else None,
        "marketing_consent_history": history[-CONSENT_HISTORY_KEPT:],
    }


def new_client_document(fields: dict[str, Any], at: datetime, *, by: str | None = None) -> Document:
    """A client document from validated fields (`ClientCreate.model_dump()`), with its keys.
    Consent given, or refused with a method said, is the first entry of its history."""
    document: Document = {
        "_id": str(uuid.uuid4()),
        **{name: fields.get(name) for name in CLIENT_FIELDS},
        "created_at": at,
        "updated_at": at,
        "deleted_at": None,
        "merged_into": None,
        "version": 1,
    }
    document["phones"] = document["phones"] or []
    document["tags"] = list(dict.fromkeys(document["tags"] or []))
    given = bool(document["marketing_consent"])
    recorded = given or fields.get("marketing_consent_method") is not None
    document.update(consent_state([consent_change(given, fields, at, by)] if recorded else []))
    return {
        **document,
        **DuplicateKeys.of(document).stored(),
        "sort": sort_keys(document),
        "search": search_keys(document),
    }


def client_event(kind: type[ClientRecord], document: Document) -> Envelope:
    phones = [PhoneNumber(number=p["number"], sms=p["sms"]) for p in document["phones"]]
    address = document.get("address")
    payload = kind(
        client_id=document["_id"],
        first_name=document.get("first_name"),
        last_name=document.get("last_name"),
        organization=document.get("organization"),
        email=document.get("email"),
        phone=phones[0].number if phones else None,
        address=PostalAddress(**address) if address else None,
        tags=document.get("tags") or [],
        phones=phones,
        marketing_consent=document.get("marketing_consent"),
    )
    return Envelope.wrap(payload, subject=document["_id"], source=SOURCE)


def deleted_event(client_id: str, merged_into: str | None) -> Envelope:
    return Envelope.wrap(
        ClientDeleted(client_id=client_id, merged_into=merged_into),
        subject=client_id,
        source=SOURCE,
    )


def likely_duplicate(existing: Document, keys: DuplicateKeys) -> Conflict:
    return Conflict(
        "A client with the same email, phone, or name and postal code exists; "
        "send allow_duplicate=true to create it anyway.",
        detail={
            "duplicate_of": existing["_id"],
            "matched_on": keys.matched_on(DuplicateKeys.from_stored(existing)),
        },
    )


def _gone(document: Document) -> Gone:
    return Gone(
        "That client was deleted.",
        detail={"client_id": document["_id"], "merged_into": document.get("merged_into")},
    )


class ClientService:
    async def create(
        self,
        repository: ClientRepository,
        fields: ClientCreate,
        *,
        allow_duplicate: bool,
        by: str | None = None,
    ) -> Document:
        document = new_client_document(fields.model_dump(), now(), by=by)
        keys = DuplicateKeys.from_stored(document)
        if not allow_duplicate:
            existing = await repository.find_duplicate(keys)
            if existing is not None:
                raise likely_duplicate(existing, keys)
        await repository.insert(document, client_event(ClientCreated, document))
        return document

    async def get(self, repository: ClientRepository, client_id: str) -> Document:
        """A live client; 404 when it never existed, 410 when it was deleted."""
        document = await repository.get(client_id)
        if document is None:
            raise NotFound("No such client.", detail={"client_id": client_id})
        if document.get("deleted_at") is not None:
            raise _gone(document)
        return document

    async def update(
        self,
        repository: ClientRepository,
        client_id: str,
        changes: ClientUpdate,
        *,
        allow_duplicate: bool,
        by: str | None = None,
    ) -> Document:
        given = changes.model_dump(include=changes.model_fields_set)
        details = {name: given.pop(name) for name in CONSENT_DETAILS if name in given}
        for field in ("phones", "tags"):
            if field in given and given[field] is None:
                given[field] = []
        if given.get("marketing_consent", False) is None:
            given["marketing_consent"] = False
        for _ in range(UPDATE_ATTEMPTS):
            current = await self.get(repository, client_id)
            consent: Document = {}
            if "marketing_consent" in given and given["marketing_consent"] != bool(
                current.get("marketing_consent")
            ):
                history = list(current.get("marketing_consent_history") or [])
                change = consent_change(given["marketing_consent"], details, now(), by)
                consent = consent_state([*history, change])
            candidate = {**current, **given, **consent}
            if not (
                candidate.get("first_name")
                or candidate.get("last_name")
                or candidate.get("organization")
            ):
                raise Unprocessable(
                    "A client needs a first name, a last name or an organization.",
                    detail={"fields": ["first_name", "last_name", "organization"]},
                )
            if "tags" in given:
                candidate["tags"] = list(dict.fromkeys(candidate["tags"]))
            keys = DuplicateKeys.of(candidate)
            if not allow_duplicate and keys != DuplicateKeys.from_stored(current):
                existing = await repository.find_duplicate(keys, excluding=client_id)
                if existing is not None:
                    raise likely_duplicate(existing, keys)
            fields = {
                **{name: candidate[name] for name in CLIENT_FIELDS if name in given},
                **consent,
                **keys.stored(),
                "sort": sort_keys(candidate),
                "search": search_keys(candidate),
                "updated_at": now(),
            }
            updated = await repository.replace_fields(
                client_id,
                current["version"],
                fields,
                client_event(ClientUpdated, {**candidate, **fields}),
            )
            if updated is not None:
                return updated
        raise Conflict(
            "The client kept changing while this update was applied; try again.",
            detail={"client_id": client_id},
        )

    async def withdraw_consent(
        self,
        repository: ClientRepository,
        client_id: str,
        withdrawal: ConsentWithdrawal,
        *,
        by: str | None = None,
    ) -> Document:
        """The client unsubscribes: consent is withdrawn and the change recorded, with its
        `booking.client.updated.v1`. Repeating it records nothing more."""
        for _ in range(UPDATE_ATTEMPTS):
            current = await self.get(repository, client_id)
            history = list(current.get("marketing_consent_history") or [])
            if not current.get("marketing_consent") and history and not history[-1]["given"]:
                return current  # already withdrawn
            change = {
                "given": False,
                "at": withdrawal.at or now(),
                "method": withdrawal.method,
                "by": by,
                "note": withdrawal.note,
            }
            fields = {**consent_state([*history, change]), "updated_at": now()}
            updated = await repository.replace_fields(
                client_id,
                current["version"],
                fields,
                client_event(ClientUpdated, {**current, **fields}),
            )
            if updated is not None:
                return updated
        raise Conflict(
            "The client kept changing while consent was withdrawn; try again.",
            detail={"client_id": client_id},
        )

    async def delete(self, repository: ClientRepository, client_id: str) -> None:
        """Soft-delete; deleting a deleted client again changes nothing and emits nothing."""
        document = await repository.get(client_id)
        if document is None:
            raise NotFound("No such client.", detail={"client_id": client_id})
        await repository.mark_deleted(client_id, now(), deleted_event(client_id, None))

    async def search(
        self,
        repository: ClientRepository,
        criteria: ClientFilter,
        sort: ClientSort,
        *,
        page: int,
        page_size: int,
    ) -> tuple[list[Document], int]:
        query = search_query(criteria)
        items = await repository.search(
            query, sort_spec(sort), skip=(page - 1) * page_size, limit=page_size
        )
        return items, await repository.count(query)

    async def merge(
        self, repository: ClientRepository, target_id: str, source_id: str
    ) -> MergeResult:
        """Move the sessions and payments of `source_id` onto `target_id`, then delete the source.

        Idempotent: merging again the same pair moves whatever still points at the source
        (nothing, normally) and answers the same; the deletion event is emitted once.
        """
        if source_id == target_id:
            raise Unprocessable(
                "A client cannot be merged into itself.", detail={"source_id": source_id}
            )
        target = await self.get(repository, target_id)
        source = await repository.get(source_id)
        if source is None:
            raise NotFound("No such client to merge.", detail={"source_id": source_id})
        if source.get("deleted_at") is not None and source.get("merged_into") != target_id:
            raise _gone(source)
        # References first: if this stops half-way, the source is still live and a retry
        # finishes the job.
        sessions, payments = await repository.move_client_references(source_id, target_id)
        deleted = await repository.mark_deleted(
            source_id, now(), deleted_event(source_id, target_id), merged_into=target_id
        )
        if not deleted:
            again = await repository.get(source_id)
            if again is None or again.get("merged_into") != target_id:
                raise Conflict(
                    "The other client was deleted meanwhile.", detail={"source_id": source_id}
                )
        return MergeResult(
            client=ClientOut.from_document(target),
            merged_client_id=source_id,
            sessions_moved=sessions,
            payments_moved=payments,
        )


client_service = ClientService()
