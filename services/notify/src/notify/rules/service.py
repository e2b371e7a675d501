"""Trigger rules: the studio's own, and the defaults seeded at start."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from kit.errors import Conflict, NotFound
from kit.mongo import Document
from notify.rules.defaults import DEFAULT_RULES
from notify.rules.repository import RuleRepository
from notify.rules.schemas import Rule, RuleCreate, RuleFields, RuleUpdate


def rule_of(document: Document) -> Rule:
    return Rule.model_validate({**document, "id": document["_id"]})


def _stored(fields: RuleFields) -> Document:
    # JSON mode: a time of day is kept as text ("09:00:00"), which BSON can hold.
    return fields.model_dump(mode="json", exclude={"version"})


class RuleService:
    def __init__(self, repository: RuleRepository) -> None:
        self._repository = repository

    async def seed_defaults(self) -> int:
        """Insert each default rule that is not there yet; how many were inserted."""
        now = datetime.now(UTC)
        inserted = 0
        for key, fields in DEFAULT_RULES.items():
            document = {
                "_id": key,
                **_stored(fields),
                "default_key": key,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            inserted += await self._repository.insert(document)
        return inserted

    async def create(self, request: RuleCreate) -> Rule:
        now = datetime.now(UTC)
        document = {
            "_id": f"rule_{uuid.uuid4().hex[:16]}",
            **_stored(request),
            "default_key": None,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        await self._repository.insert(document)
        return rule_of(document)

    async def listing(self) -> list[Rule]:
        return [rule_of(d) for d in await self._repository.listing()]

    async def get(self, rule_id: str) -> Rule:
        document = await self._repository.get(rule_id)
        if document is None:
            raise NotFound(f"No rule {rule_id}.")
        return rule_of(document)

    async def update(self, rule_id: str, request: RuleUpdate) -> Rule:
        current = await self.get(rule_id)
        if current.trigger != request.trigger and current.default_key is not None:
            raise Conflict("A default rule keeps its trigger; make a new rule instead.")
        document = await self._repository.replace(
            rule_id, request.version, _stored(request), datetime.now(UTC)
        )
        if document is None:
            raise Conflict(
                f"Rule {rule_id} was changed by someone else (now version "
                f"{current.version}); reload it and edit again.",
                detail={"version": current.version},
            )
        return rule_of(document)

    async def delete(self, rule_id: str) -> None:
        rule = await self.get(rule_id)
        if rule.default_key is not None:
            raise Conflict("A default rule cannot be deleted (it would come back); disable it.")
        await self._repository.delete(rule_id)
