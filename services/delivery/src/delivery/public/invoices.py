"""The session's invoices on its delivery page, as PDFs workflow prints, when the studio said so.

A delivery asked for with `include_invoices` lists the invoices workflow holds for its session
on the client's page, each downloadable as the PDF workflow prints (read through workflow's API,
never its database). Workflow away leaves the page without them; a download then answers 503.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from delivery.context import DeliveryContext
from delivery.deliveries.workflow_images import workflow_http
from kit.errors import NotFound, ServiceUnavailable
from kit.mongo import Document

log = logging.getLogger(__name__)
INVOICES = "/workflow/invoices"


async def session_invoices(ctx: DeliveryContext, delivery: Document) -> list[dict[str, Any]] | None:
    """The invoices of the delivery's session (newest first), or None if they cannot be read
    now; [] when the delivery does not offer them."""
    session_id = delivery.get("session_id")
    if not delivery.get("include_invoices") or not session_id:
        return []
    try:
        answer = await workflow_http(ctx).get(INVOICES, params={"session_id": session_id})
        answer.raise_for_status()
    except httpx.HTTPError as exc:
        log.warning("delivery %s: workflow's invoices unreadable (%s)", delivery["_id"], exc)
        return None
    return [
        {
            "invoice_id": i["invoice_id"],
            "created_at": str(i["created_at"])[:10],
            "total_minor": i["total_minor"],
            "balance_minor": i["balance_minor"],
            "currency": i["currency"],
        }
        for i in answer.json()
    ]


async def invoice_pdf(ctx: DeliveryContext, delivery: Document, invoice_id: str) -> bytes:
    """One invoice of the delivery's session as workflow prints it."""
    session_id = delivery.get("session_id")
    if not delivery.get("include_invoices") or not session_id:
        raise NotFound("This delivery offers no invoices.")
    client = workflow_http(ctx)
    try:
        record = await client.get(f"{INVOICES}/{invoice_id}")
        if record.status_code == 404 or (
            record.is_success and record.json().get("session_id") != session_id
        ):
            raise NotFound("No such invoice in this delivery.", detail={"invoice_id": invoice_id})
        record.raise_for_status()
        pdf = await client.get(f"{INVOICES}/{invoice_id}/invoice.pdf")
        pdf.raise_for_status()
    except httpx.HTTPError as exc:
        raise ServiceUnavailable(
            "The invoice cannot be fetched right now; try again shortly."
        ) from exc
    return pdf.content
