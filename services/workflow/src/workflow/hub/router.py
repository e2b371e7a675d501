"""The workflow hub route."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from workflow.context import ContextDep
from workflow.hub.schemas import Hub
from workflow.hub.service import HubService
from workflow.sessions.filters import SessionFilterDep

router = APIRouter(prefix="/workflow/hub", tags=["hub"])


@router.get("", summary="Sessions grouped by stage and status, with counts, overdue first")
async def workflow_hub(
    context: ContextDep,
    filters: SessionFilterDep,
    per_status: Annotated[
        int, Query(ge=0, le=200, description="How many sessions to list per status.")
    ] = 20,
) -> Hub:
    """Filter by session type, photographer (a booked resource) and start date."""
    return await HubService(context).hub(filters, per_status=per_status)
