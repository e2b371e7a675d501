"""Staff tasks and call records: the Today screen's to-do list."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from notify.bootstrap import ServicesDep, UserDep
from notify.tasks.schemas import Task, TaskCreate, TaskDone, TaskList

router = APIRouter(prefix="/notify/tasks", tags=["tasks"])


@router.get("", response_model=TaskList)
async def list_tasks(
    services: ServicesDep,
    state: Literal["open", "done", "all"] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> TaskList:
    """Open tasks by due date (default), done ones latest first, or all."""
    done = {"open": False, "done": True, "all": None}[state]
    return TaskList(items=await services.tasks.listing(done=done, limit=limit, offset=offset))


@router.post("", response_model=Task, status_code=status.HTTP_201_CREATED)
async def create_task(request: TaskCreate, services: ServicesDep, user: UserDep) -> Task:
    """A task or call record made by hand."""
    return await services.tasks.create(request, user)


@router.post("/{task_id}/done", response_model=Task)
async def complete_task(
    task_id: str, request: TaskDone, services: ServicesDep, user: UserDep
) -> Task:
    """Done, by the caller, with what came of it; a task done already is a 409 naming who."""
    return await services.tasks.complete(task_id, request, user)


@router.post("/{task_id}/reopen", response_model=Task)
async def reopen_task(task_id: str, services: ServicesDep) -> Task:
    return await services.tasks.reopen(task_id)
