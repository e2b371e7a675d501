"""Status definitions: list the pipelines, add, rename, reorder and retire statuses."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from kit.events.contracts.workflow import EntityKind
from workflow.context import ContextDep
from workflow.statuses.schemas import StatusCreate, StatusDefinition, StatusUpdate
from workflow.statuses.service import StatusService

router = APIRouter(prefix="/workflow/statuses", tags=["statuses"])


@router.get("", summary="The statuses of a pipeline, in sort order")
async def list_statuses(
    context: ContextDep,
    kind: EntityKind | None = None,
    session_type_id: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    include_retired: bool = False,
) -> list[StatusDefinition]:
    """With `kind`, the pipeline that kind (and session type) uses; without, every status."""
    service = StatusService(context.db)
    if kind is None:
        statuses = await service.all()
    else:
        statuses = (await service.pipeline(kind, session_type_id)).statuses
    return [s for s in statuses if include_retired or s.active]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Add a status to a pipeline",
    responses={409: {"description": "An active status of the pipeline has that name"}},
)
async def create_status(request: StatusCreate, context: ContextDep) -> StatusDefinition:
    return await StatusService(context.db).create(request)


@router.get("/{status_id}", summary="One status")
async def get_status(status_id: str, context: ContextDep) -> StatusDefinition:
    return await StatusService(context.db).get(status_id)


@router.patch(
    "/{status_id}",
    summary="Rename, reorder, re-stage or retire a status",
    responses={409: {"description": "An active status of the pipeline has that name"}},
)
async def update_status(
    status_id: str, request: StatusUpdate, context: ContextDep
) -> StatusDefinition:
    """Entities that hold a retired or renamed status keep it and can move on from it."""
    return await StatusService(context.db).update(status_id, request)
