"""Invoices: create, read, list, change status, history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from workflow.context import ActorDep, ContextDep, Offset
from workflow.invoices.schemas import Invoice, InvoiceCreate
from workflow.invoices.service import InvoiceService
from workflow.tracking.schemas import HistoryEntry, StatusChangeRequest

router = APIRouter(prefix="/workflow/invoices", tags=["invoices"])


@router.post("", status_code=status.HTTP_201_CREATED, summary="Enter an invoice (an order)")
async def create_invoice(request: InvoiceCreate, context: ContextDep, actor: ActorDep) -> Invoice:
    """Totals are computed here in minor units; the amount due is announced in an event."""
    return await InvoiceService(context).create(request, by=actor.user_id)


@router.get("", summary="Invoices, newest first")
async def list_invoices(
    context: ContextDep,
    client_id: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    session_id: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> list[Invoice]:
    return await InvoiceService(context).search(
        client_id=client_id, session_id=session_id, limit=limit, offset=offset
    )


@router.get("/{invoice_id}", summary="An invoice with its payments")
async def get_invoice(invoice_id: str, context: ContextDep) -> Invoice:
    return await InvoiceService(context).get(invoice_id)


@router.post("/{invoice_id}/status", summary="Change an invoice's status")
async def change_invoice_status(
    invoice_id: str, request: StatusChangeRequest, context: ContextDep, actor: ActorDep
) -> Invoice:
    return await InvoiceService(context).change_status(invoice_id, request, by=actor.user_id)


@router.get("/{invoice_id}/history", summary="An invoice's status history")
async def invoice_history(invoice_id: str, context: ContextDep) -> list[HistoryEntry]:
    return [
        HistoryEntry.model_validate(h) for h in await InvoiceService(context).history(invoice_id)
    ]
