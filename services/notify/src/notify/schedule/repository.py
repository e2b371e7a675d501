"""Every database call on scheduled actions: what a rule will do, for which record, when.

An action's id is derived from (rule, entity, occurrence), so planning the same occurrence
twice (a redelivered event, two consumers) inserts it once. The action is also its message:
claimed before it is sent, its send recorded with the `notify.message.*` event in one write.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kit.events.envelope import Envelope
from kit.events.outbox import with_events
from kit.mongo import Document, IndexSpec

ACTIONS = "actions"
INDEXES = (
    IndexSpec(ACTIONS, [("state", 1), ("due_at", 1)], name="actions_due"),
    IndexSpec(ACTIONS, [("session_id", 1), ("state", 1)], name="actions_by_session"),
    IndexSpec(ACTIONS, [("client_id", 1), ("state", 1)], name="actions_by_client"),
)
# States an action ends in; `scheduled` and `sending` are the live ones.
FINAL = ("sent", "missed", "cancelled", "failed", "skipped")


def action_id(rule_id: str, entity_kind: str, entity_id: str, occurrence: str) -> str:
    digest = hashlib.sha256(f"{rule_id}|{entity_kind}|{entity_id}|{occurrence}".encode())
    return f"act_{digest.hexdigest()[:24]}"


def _due(now: datetime) -> Document:
    return {
        "$or": [
            {"state": "scheduled", "due_at": {"$lte": now}},
            # A sender that died mid-send: its claim lapses and another takes the action.
            {"state": "sending", "claim_until": {"$lte": now}},
        ]
    }


class ActionRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._actions = db[ACTIONS]

    async def insert(self, document: Document) -> bool:
        """False when this (rule, entity, occurrence) was planned already."""
        try:
            await self._actions.insert_one(document)
        except DuplicateKeyError:
            return False
        return True

    async def get(self, action_id: str) -> Document | None:
        return await self._actions.find_one({"_id": action_id})

    async def due(self, now: datetime, limit: int) -> list[Document]:
        return await self._actions.find(_due(now)).sort("due_at", 1).limit(limit).to_list()

    async def next_due_at(self) -> datetime | None:
        first = await self._actions.find_one(
            {"state": "scheduled"}, {"due_at": 1}, sort=[("due_at", 1)]
        )
        return first["due_at"] if first else None

    async def claim(
        self, action_id: str, now: datetime, until: datetime, token: str
    ) -> Document | None:
        return await self._actions.find_one_and_update(
            {"_id": action_id, **_due(now)},
            {
                "$set": {"state": "sending", "claim_until": until, "claim_token": token},
                "$inc": {"attempts": 1},
            },
            return_document=ReturnDocument.AFTER,
        )

    async def finish(
        self,
        action_id: str,
        token: str,
        fields: dict[str, Any],
        event: Envelope | None,
        *,
        unset: tuple[str, ...] = (),
    ) -> bool:
        """The claimed action's outcome (and its event), if the claim is still ours."""
        update: dict[str, Any] = {"$set": fields}
        if unset:
            update["$unset"] = dict.fromkeys(unset, "")
        if event is not None:
            update = with_events(update, event)
        result = await self._actions.update_one(
            {"_id": action_id, "state": "sending", "claim_token": token}, update
        )
        return result.modified_count == 1

    async def settle_scheduled(
        self, action_id: str, fields: dict[str, Any], event: Envelope | None = None
    ) -> bool:
        """An unclaimed scheduled action's outcome (missed, moved, cancelled)."""
        update: dict[str, Any] = {"$set": fields}
        if event is not None:
            update = with_events(update, event)
        result = await self._actions.update_one({"_id": action_id, "state": "scheduled"}, update)
        return result.modified_count == 1

    async def anchored_to_session(self, session_id: str) -> list[Document]:
        """The session's actions counted from its start that may still move."""
        return await self._actions.find(
            {
                "session_id": session_id,
                "anchor": "session_start",
                "$or": [{"state": "scheduled"}, {"state": "skipped", "reason_code": "too_late"}],
            }
        ).to_list()

    async def move(self, action_id: str, fields: dict[str, Any]) -> None:
        await self._actions.update_one(
            {"_id": action_id, "state": {"$in": ["scheduled", "skipped"]}}, {"$set": fields}
        )

    async def cancel_pending(self, selector: Document, reason: str, at: datetime) -> int:
        result = await self._actions.update_many(
            {**selector, "state": "scheduled"},
            {"$set": {"state": "cancelled", "reason": reason, "updated_at": at}},
        )
        return result.modified_count

    async def listing(
        self, *, states: list[str] | None, entity_id: str | None, limit: int, offset: int
    ) -> list[Document]:
        query: Document = {}
        if states:
            query["state"] = {"$in": states}
        if entity_id:
            query["$or"] = [{"entity_id": entity_id}, {"session_id": entity_id}]
        return (
            await self._actions.find(query, {"_outbox": 0, "facts.link_url": 0})
            .sort([("due_at", -1), ("_id", 1)])
            .skip(offset)
            .limit(limit)
            .to_list()
        )
