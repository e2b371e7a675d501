"""Every database call on staff tasks and call records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kit.mongo import Document, IndexSpec

TASKS = "tasks"
INDEXES = (IndexSpec(TASKS, [("done_at", 1), ("due_at", 1)], name="tasks_open"),)


class TaskRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._tasks = db[TASKS]

    async def insert(self, document: Document) -> bool:
        """False when it exists (a task made by an action that was sent again)."""
        try:
            await self._tasks.insert_one(document)
        except DuplicateKeyError:
            return False
        return True

    async def get(self, task_id: str) -> Document | None:
        return await self._tasks.find_one({"_id": task_id})

    async def listing(self, *, done: bool | None, limit: int, offset: int) -> list[Document]:
        query: Document = {}
        if done is not None:
            query["done_at"] = {"$ne": None} if done else None
        order = [("done_at", -1)] if done else [("due_at", 1)]
        return (
            await self._tasks.find(query)
            .sort([*order, ("_id", 1)])
            .skip(offset)
            .limit(limit)
            .to_list()
        )

    async def complete(self, task_id: str, fields: dict[str, Any]) -> Document | None:
        """Marks an open task done; None when it is done already (or unknown)."""
        return await self._tasks.find_one_and_update(
            {"_id": task_id, "done_at": None},
            {"$set": fields},
            return_document=ReturnDocument.AFTER,
        )

    async def reopen(self, task_id: str, at: datetime) -> Document | None:
        return await self._tasks.find_one_and_update(
            {"_id": task_id, "done_at": {"$ne": None}},
            {"$set": {"done_at": None, "done_by": None, "outcome": None, "reopened_at": at}},
            return_document=ReturnDocument.AFTER,
        )
