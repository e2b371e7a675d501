"""Every database call about render runs and their outputs.

`render_runs` (outbox-carrying): one document per run. A status-fired run's `_id` is
`<event id>:<job id>`, so an event that arrives twice creates it once. The run is inserted with
its task messages in its outbox (one atomic write); the relay puts them on `render.tasks`,
where the render workers share them. A task's result is recorded in its run with a guard on the
task id, so a task rendered twice (redelivered after a worker died) counts once.
`render_outputs`: every rendered file by its fingerprint.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kit.events.envelope import Envelope
from kit.events.outbox import new_document_with_events, with_events
from kit.mongo import Document, IndexSpec

RUNS = "render_runs"
OUTPUTS = "render_outputs"

INDEXES = [IndexSpec(RUNS, [("session_id", 1), ("created_at", -1)], name="by_session")]

# What a worker reads of a run for each task: never its (long) lists of outputs.
PROGRESS = {"status": 1, "done": 1, "total": 1, "profiles": 1, "session_id": 1}


def _now() -> datetime:
    at = datetime.now(UTC)
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


class RunRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._runs = db[RUNS]

    async def insert(self, document: Document, events: list[Envelope]) -> bool:
        """The run with its task messages; False if a run with this id exists already."""
        try:
            await self._runs.insert_one(new_document_with_events(document, *events))
        except DuplicateKeyError:
            return False
        return True

    async def get(self, run_id: str) -> Document | None:
        return await self._runs.find_one({"_id": run_id}, {"_outbox": 0, "tasks": 0})

    async def progress(self, run_id: str) -> Document | None:
        return await self._runs.find_one({"_id": run_id}, PROGRESS)

    async def recorded(self, run_id: str, task_id: str) -> bool:
        """Whether this task's result is in its run already."""
        found = await self._runs.find_one({"_id": run_id, "finished_tasks": task_id}, {"_id": 1})
        return found is not None

    async def recent(self, *, session_id: str | None, limit: int) -> list[Document]:
        selector: Document = {} if session_id is None else {"session_id": session_id}
        cursor = self._runs.find(selector, {"_outbox": 0, "tasks": 0}).sort("created_at", -1)
        return await cursor.limit(limit).to_list()

    async def record_result(
        self, run_id: str, task_id: str, field: str, result: dict[str, Any]
    ) -> bool:
        """Add one task's output or failure to its run, once; False if it was recorded before."""
        outcome = await self._runs.update_one(
            {"_id": run_id, "status": "rendering", "finished_tasks": {"$ne": task_id}},
            {
                "$push": {"finished_tasks": task_id, field: result},
                "$inc": {"done": 1},
                "$set": {"progressed_at": _now()},
            },
        )
        return outcome.modified_count == 1

    async def stalled(self, before: datetime, limit: int) -> list[Document]:
        """Runs still rendering whose last recorded task (or start) is older than `before`;
        their task messages and what they recorded, not their outputs."""
        cursor = self._runs.find(
            {
                "status": "rendering",
                "$or": [
                    {"progressed_at": {"$lt": before}},
                    {"progressed_at": None, "started_at": {"$lt": before}},
                ],
            },
            {"tasks": 1, "finished_tasks": 1, "done": 1, "total": 1, "redriven_at": 1},
        )
        return await cursor.limit(limit).to_list()

    async def redrive(self, run_id: str, at: datetime, events: list[Envelope]) -> bool:
        """Mark a stalled run asked again (once) with its unfinished tasks' messages."""
        result = await self._runs.update_one(
            {"_id": run_id, "status": "rendering", "redriven_at": None},
            with_events({"$set": {"redriven_at": at, "progressed_at": at}}, *events),
        )
        return result.modified_count == 1

    async def finish_run(self, run_id: str, fields: dict[str, Any], events: list[Envelope]) -> bool:
        """Close a run that is still rendering (one writer wins), with its event."""
        result = await self._runs.update_one(
            {"_id": run_id, "status": "rendering"}, with_events({"$set": fields}, *events)
        )
        return result.modified_count == 1


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
