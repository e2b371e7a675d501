"""Trigger rules: what the studio sends automatically, and its dry run."""

from __future__ import annotations

from fastapi import APIRouter, status

from notify.bootstrap import ServicesDep
from notify.rules.schemas import (
    PreviewOutcome,
    PreviewRequest,
    Rule,
    RuleCreate,
    RuleList,
    RuleUpdate,
)

router = APIRouter(prefix="/notify/rules", tags=["rules"])


@router.get("", response_model=RuleList)
async def list_rules(services: ServicesDep) -> RuleList:
    """Every rule, the defaults first (they were there first)."""
    return RuleList(items=await services.rules.listing())


@router.post("", response_model=Rule, status_code=status.HTTP_201_CREATED)
async def create_rule(request: RuleCreate, services: ServicesDep) -> Rule:
    """A new rule. Its templates are checked now: a field messages do not have is a 422."""
    return await services.rules.create(request)


@router.get("/{rule_id}", response_model=Rule)
async def get_rule(rule_id: str, services: ServicesDep) -> Rule:
    return await services.rules.get(rule_id)


@router.put("/{rule_id}", response_model=Rule)
async def update_rule(rule_id: str, request: RuleUpdate, services: ServicesDep) -> Rule:
    """Replace a rule's settings, if it is still at `version` (409 otherwise). Actions already
    scheduled keep their time; their message is made from the rule as it is when they go."""
    return await services.rules.update(rule_id, request)


@router.delete("/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_rule(rule_id: str, services: ServicesDep) -> None:
    """Delete one of the studio's own rules (a default is disabled instead: 409)."""
    await services.rules.delete(rule_id)


@router.post("/{rule_id}/preview", response_model=PreviewOutcome)
async def preview_rule(
    rule_id: str, request: PreviewRequest, services: ServicesDep
) -> PreviewOutcome:
    """What the rule would send for this record, to whom and when, without sending it."""
    return await services.preview.preview(rule_id, request)
