"""Every database call on trigger rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kit.mongo import Document, IndexSpec

RULES = "rules"
INDEXES = (IndexSpec(RULES, [("trigger", 1)], name="rules_by_trigger"),)


class RuleRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._rules = db[RULES]

    async def insert(self, document: Document) -> bool:
        """False when a rule with that id exists (a default already seeded)."""
        try:
            await self._rules.insert_one(document)
        except DuplicateKeyError:
            return False
        return True

    async def get(self, rule_id: str) -> Document | None:
        return await self._rules.find_one({"_id": rule_id})

    async def listing(self) -> list[Document]:
        return await self._rules.find({}).sort([("created_at", 1), ("_id", 1)]).to_list()

    async def enabled_for(self, trigger: str) -> list[Document]:
        return await self._rules.find({"trigger": trigger, "enabled": True}).to_list()

    async def replace(
        self, rule_id: str, version: int, fields: dict[str, Any], at: datetime
    ) -> Document | None:
        """The rule with `fields`, if it is still at `version`; None otherwise."""
        return await self._rules.find_one_and_update(
            {"_id": rule_id, "version": version},
            {"$set": {**fields, "updated_at": at}, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER,
        )

    async def delete(self, rule_id: str) -> bool:
        result = await self._rules.delete_one({"_id": rule_id, "default_key": None})
        return result.deleted_count == 1
