"""Render sets: the files render works from (internal reads; contract A with render)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from workflow.context import ContextDep
from workflow.render_sets.schemas import FolderChoice, RenderSet, SessionFilter
from workflow.render_sets.service import RenderSetService

router = APIRouter(prefix="/workflow", tags=["render sets"])
FolderQuery = Annotated[
    FolderChoice, Query(description="originals from this folder (hi-res = hires)")
]


@router.get("/sessions/{session_id}/render-set", summary="What to render for a session")
async def session_render_set(
    session_id: str, context: ContextDep, chosen: Annotated[SessionFilter, Query()]
) -> RenderSet:
    """The session's images (by number, or in the group's order with `group_id`), filtered by
    `selection` and `min_stars`; each as its retouched file when it has one, else its original
    in `folder`, with its current recipe."""
    return await RenderSetService(context).of_session(session_id, chosen)


@router.get("/invoices/{invoice_id}/render-set", summary="What to render for an invoice")
async def invoice_render_set(
    invoice_id: str, context: ContextDep, folder: FolderQuery = "hi-res"
) -> RenderSet:
    """One item per (line, image) in line order, with the line's product, quantity and crop."""
    return await RenderSetService(context).of_invoice(invoice_id, folder)


@router.get(
    "/production-orders/{order_id}/render-set", summary="What to render for a production order"
)
async def production_order_render_set(
    order_id: str, context: ContextDep, folder: FolderQuery = "hi-res"
) -> RenderSet:
    """One item per (line, image) of the order's lines, as for an invoice."""
    return await RenderSetService(context).of_production_order(order_id, folder)
