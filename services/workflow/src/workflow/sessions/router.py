"""Sessions' workflow: read, change status, bulk advance, history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from kit.errors import BadRequest
from workflow.business_days import start_of_day
from workflow.context import ActorDep, ContextDep, Offset
from workflow.sessions.filters import SessionFilterDep
from workflow.sessions.repository import SessionRepository
from workflow.sessions.schemas import (
    BulkAdvanceRequest,
    BulkAdvanceResult,
    SessionHistory,
    SessionWorkflow,
)
from workflow.sessions.service import SessionService, session_view
from workflow.tracking.schemas import HistoryEntry, StatusChangeRequest

router = APIRouter(prefix="/workflow/sessions", tags=["sessions"])


@router.get(
    "",
    summary="Sessions' workflow records, overdue first",
    responses={400: {"description": "overdue=false (use overdue=true, or leave it out)"}},
)
async def list_sessions(
    context: ContextDep,
    filters: SessionFilterDep,
    status_id: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> list[SessionWorkflow]:
    query = filters.query()
    if status_id:
        query["status_id"] = status_id
    if overdue is True:
        query["closed"] = False
        query["due_at"] = {"$lt": start_of_day(datetime.now(UTC))}
    elif overdue is False:
        raise BadRequest("Use overdue=true, or leave it out.")
    documents = await SessionRepository(context.db).find(query, limit=limit, skip=offset)
    return [session_view(d) for d in documents]


@router.post("/bulk-advance", summary="Advance many sessions of one type")
async def bulk_advance(
    request: BulkAdvanceRequest, context: ContextDep, actor: ActorDep
) -> BulkAdvanceResult:
    """All-or-report: every session that can move does; each one that cannot is named."""
    return await SessionService(context).bulk_advance(request, by=actor.user_id)


@router.get("/{session_id}", summary="A session's workflow record")
async def get_session(session_id: str, context: ContextDep) -> SessionWorkflow:
    return await SessionService(context).get(session_id)


@router.get("/{session_id}/history", summary="A session's status history, oldest first")
async def session_history(session_id: str, context: ContextDep) -> SessionHistory:
    history = await SessionService(context).history(session_id)
    return SessionHistory(
        session_id=session_id, history=[HistoryEntry.model_validate(h) for h in history]
    )


@router.post("/{session_id}/status", summary="Change a session's status")
async def change_session_status(
    session_id: str, request: StatusChangeRequest, context: ContextDep, actor: ActorDep
) -> SessionWorkflow:
    """To `to_status_id`, or to the next status by sort order; 409 if it changed meanwhile."""
    return await SessionService(context).change_status(session_id, request, by=actor.user_id)
