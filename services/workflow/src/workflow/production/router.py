"""Production orders: split invoices by vendor, read, notes, status, history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from workflow.context import ActorDep, ContextDep, Offset
from workflow.production.schemas import (
    ProductionOrder,
    ProductionOrderCreate,
    ProductionOrderNotes,
    ProductionSplit,
)
from workflow.production.service import ProductionService
from workflow.tracking.schemas import HistoryEntry, StatusChangeRequest

router = APIRouter(prefix="/workflow/production-orders", tags=["production orders"])


@router.post("", status_code=status.HTTP_201_CREATED, summary="Send invoices to production")
async def create_production_orders(
    request: ProductionOrderCreate, context: ContextDep, actor: ActorDep
) -> ProductionSplit:
    """One production order per preferred vendor across the given invoices; lines without a
    vendor (and digital products) are reported in `unassigned_lines`."""
    return await ProductionService(context).create(request, by=actor.user_id)


@router.get("", summary="Production orders, newest first")
async def list_production_orders(
    context: ContextDep,
    vendor: Annotated[str | None, Query(min_length=1, max_length=120)] = None,
    invoice_id: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> list[ProductionOrder]:
    return await ProductionService(context).search(
        vendor=vendor, invoice_id=invoice_id, limit=limit, offset=offset
    )


@router.get("/{order_id}", summary="A production order")
async def get_production_order(order_id: str, context: ContextDep) -> ProductionOrder:
    return await ProductionService(context).get(order_id)


@router.patch("/{order_id}", summary="Set the vendor's or the studio's notes")
async def set_production_notes(
    order_id: str, request: ProductionOrderNotes, context: ContextDep
) -> ProductionOrder:
    return await ProductionService(context).set_notes(order_id, request)


@router.post("/{order_id}/status", summary="Change a production order's status")
async def change_production_status(
    order_id: str, request: StatusChangeRequest, context: ContextDep, actor: ActorDep
) -> ProductionOrder:
    return await ProductionService(context).change_status(order_id, request, by=actor.user_id)


@router.get("/{order_id}/history", summary="A production order's status history")
async def production_history(order_id: str, context: ContextDep) -> list[HistoryEntry]:
    history = await ProductionService(context).history(order_id)
    return [HistoryEntry.model_validate(h) for h in history]
