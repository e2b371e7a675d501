"""Every database call about render runs and their per-image tasks.

`render_runs` (outbox-carrying): one document per run. A status-fired run's `_id` is
`<event id>:<job id>`, so an event that arrives twice creates it once.
`render_tasks`: one document per (image, profile) of a run, `_id` `<run id>:<n>`; workers claim
them with a lease, so any number of workers share a run and a killed worker's tasks are taken
over when its lease lapses. A task's result is recorded in its run with a guard on the task id,
so a task rendered twice (a lapsed lease) counts once.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from kit.events.consumer import DUPLICATE_KEY
from kit.events.envelope import Envelope
from kit.events.outbox import with_events
from kit.mongo import Document, IndexSpec

RUNS = "render_runs"
TASKS = "render_tasks"
OUTPUTS = "render_outputs"

INDEXES = [
    IndexSpec(RUNS, [("session_id", 1), ("created_at", -1)], name="by_session"),
    IndexSpec(TASKS, [("status", 1), ("claimed_until", 1)], name="claimable"),
    IndexSpec(TASKS, [("run_id", 1)], name="by_run"),
]


class RunRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._runs = db[RUNS]
        self._tasks = db[TASKS]

    async def insert(self, document: Document) -> bool:
        """False if a run with this id exists already."""
        try:
            await self._runs.insert_one(document)
        except DuplicateKeyError:
            return False
        return True

    async def get(self, run_id: str) -> Document | None:
        return await self._runs.find_one({"_id": run_id}, {"_outbox": 0})

    async def recent(self, *, session_id: str | None, limit: int) -> list[Document]:
        selector: Document = {} if session_id is None else {"session_id": session_id}
        cursor = self._runs.find(selector, {"_outbox": 0}).sort("created_at", -1)
        return await cursor.limit(limit).to_list()

    async def add_tasks(self, tasks: list[Document]) -> None:
        """Insert the tasks; those inserted before (a replanned run) are left as they are."""
        if not tasks:
            return
        try:
            await self._tasks.insert_many(tasks, ordered=False)
        except BulkWriteError as exc:
            if any(e.get("code") != DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
                raise

    async def start_rendering(self, run_id: str, total: int, now: datetime) -> bool:
        result = await self._runs.update_one(
            {"_id": run_id, "status": "planning"},
            {"$set": {"status": "rendering", "total": total, "started_at": now}},
        )
        return result.modified_count == 1

    async def claim_task(self, worker: str, now: datetime, lease: timedelta) -> Document | None:
        """The next pending task, or one whose worker's lease lapsed (it died)."""
        return await self._tasks.find_one_and_update(
            {
                "$or": [
                    {"status": "pending"},
                    {"status": "claimed", "claimed_until": {"$lt": now}},
                ]
            },
            {
                "$set": {"status": "claimed", "claimed_by": worker, "claimed_until": now + lease},
                "$inc": {"attempts": 1},
            },
            sort=[("_id", 1)],
            return_document=ReturnDocument.AFTER,
        )

    async def record_result(
        self, run_id: str, task_id: str, field: str, result: dict[str, Any]
    ) -> Document | None:
        """Add one task's output or failure to its run, once; the run after, or None if this
        task was recorded before."""
        return await self._runs.find_one_and_update(
            {"_id": run_id, "finished_tasks": {"$ne": task_id}},
            {"$push": {"finished_tasks": task_id, field: result}, "$inc": {"done": 1}},
            return_document=ReturnDocument.AFTER,
        )

    async def finish_task(self, task_id: str, worker: str, now: datetime) -> None:
        await self._tasks.update_one(
            {"_id": task_id}, {"$set": {"status": "done", "done_by": worker, "done_at": now}}
        )

    async def finish_run(self, run_id: str, fields: dict[str, Any], events: list[Envelope]) -> bool:
        """Close a run that is still rendering (one writer wins), with its event."""
        result = await self._runs.update_one(
            {"_id": run_id, "status": "rendering"}, with_events({"$set": fields}, *events)
        )
        return result.modified_count == 1

    async def unfinished_complete(self) -> list[Document]:
        """Runs whose every task is recorded but that were not closed (a worker died between)."""
        runs = await self._runs.find({"status": "rendering"}, {"_outbox": 0}).to_list()
        return [r for r in runs if r.get("done", 0) >= r.get("total", 0)]


class OutputRepository:
    """`render_outputs`: every rendered file by its fingerprint (`_id`: source SHA-256, recipe,
    profile version, name), so an identical render is found instead of made again."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._outputs = db[OUTPUTS]

    async def get(self, print_id: str) -> Document | None:
        return await self._outputs.find_one({"_id": print_id})

    async def get_many(self, print_ids: list[str]) -> list[Document]:
        if not print_ids:
            return []
        return await self._outputs.find({"_id": {"$in": print_ids}}).to_list()

    async def remember(self, print_id: str, output: Document) -> None:
        """Record an output (the first one rendered stays if two raced)."""
        with contextlib.suppress(DuplicateKeyError):
            await self._outputs.insert_one({"_id": print_id, **output})
