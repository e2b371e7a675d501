"""The message log: what is scheduled, sent, missed, failed or skipped, and why."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from kit.errors import NotFound
from notify.bootstrap import ServicesDep
from notify.schedule.schemas import Action, ActionList, ActionState

router = APIRouter(prefix="/notify/actions", tags=["actions"])


@router.get("", response_model=ActionList)
async def list_actions(
    services: ServicesDep,
    state: Annotated[list[ActionState] | None, Query(max_length=7)] = None,
    entity_id: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ActionList:
    """Actions, latest due first; filtered by state (repeatable) or by a record (a session's
    id matches every action about it)."""
    documents = await services.actions.listing(
        states=list(state) if state else None, entity_id=entity_id, limit=limit, offset=offset
    )
    return ActionList(items=[Action.model_validate({**d, "id": d["_id"]}) for d in documents])


@router.get("/{action_id}", response_model=Action)
async def get_action(action_id: str, services: ServicesDep) -> Action:
    document = await services.actions.get(action_id)
    if document is None:
        raise NotFound(f"No action {action_id}.")
    return Action.model_validate({**document, "id": document["_id"]})
