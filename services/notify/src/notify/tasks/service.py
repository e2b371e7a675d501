"""Staff tasks and call records: made by rules (a call when a client has no email, a task
on the day of a session) or by hand, done by someone, with what came of it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from kit.errors import Conflict, NotFound
from kit.mongo import Document
from notify.tasks.repository import TaskRepository
from notify.tasks.schemas import Task, TaskCreate, TaskDone


def task_of(document: Document) -> Task:
    return Task.model_validate({**document, "id": document["_id"]})


class TaskService:
    def __init__(self, repository: TaskRepository) -> None:
        self._repository = repository

    async def listing(self, *, done: bool | None, limit: int, offset: int) -> list[Task]:
        documents = await self._repository.listing(done=done, limit=limit, offset=offset)
        return [task_of(d) for d in documents]

    async def create(self, request: TaskCreate, by: str) -> Task:
        document: Document = {
            "_id": f"task_{uuid.uuid4().hex[:16]}",
            **request.model_dump(),
            "created_at": datetime.now(UTC),
            "created_by": by,
            "done_at": None,
        }
        await self._repository.insert(document)
        return task_of(document)

    async def complete(self, task_id: str, request: TaskDone, by: str) -> Task:
        document = await self._repository.complete(
            task_id, {"done_at": datetime.now(UTC), "done_by": by, "outcome": request.outcome}
        )
        if document is None:
            existing = await self._repository.get(task_id)
            if existing is None:
                raise NotFound(f"No task {task_id}.")
            raise Conflict(f"Task {task_id} was done already by {existing.get('done_by')}.")
        return task_of(document)

    async def reopen(self, task_id: str) -> Task:
        document = await self._repository.reopen(task_id, datetime.now(UTC))
        if document is None:
            if await self._repository.get(task_id) is None:
                raise NotFound(f"No task {task_id}.")
            raise Conflict(f"Task {task_id} is open.")
        return task_of(document)
