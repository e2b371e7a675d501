"""`GET /workflow/invoices/{id}/invoice.pdf` and `.../detail-sheet.pdf`, a production order's
`.../order-summary.pdf`, and the record of the documents made."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel

from workflow.context import ContextDep
from workflow.documents.service import DocumentService, MadeDocument

router = APIRouter(prefix="/workflow", tags=["documents"])

PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The PDF"}
}


class MadeDocumentRecord(BaseModel):
    kind: str
    sha256: str
    bytes: int
    record_version: int
    made_at: datetime


def _pdf(made: MadeDocument) -> Response:
    return Response(
        made.body,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{made.file_name}"',
            "X-Document-SHA256": made.sha256,
            "Cache-Control": "private, no-store",
        },
    )


@router.get(
    "/invoices/{invoice_id}/invoice.pdf",
    summary="The invoice as PDF",
    response_class=Response,
    responses=PDF,
)
async def invoice_pdf(invoice_id: str, context: ContextDep) -> Response:
    """Studio, client, lines with their images' thumbnails (cropped as they will print),
    discounts, tax, payments and balance, the studio's terms and copyright, a signature line.
    The same invoice gives the same bytes; `X-Document-SHA256` is their hash, recorded."""
    return _pdf(await DocumentService(context).invoice_document(invoice_id, "invoice"))


@router.get(
    "/invoices/{invoice_id}/detail-sheet.pdf",
    summary="The image detail sheet as PDF",
    response_class=Response,
    responses=PDF,
)
async def detail_sheet_pdf(invoice_id: str, context: ContextDep) -> Response:
    """For each line: the product, the cropped thumbnail and number of each image, and the notes
    for the retoucher."""
    return _pdf(await DocumentService(context).invoice_document(invoice_id, "detail-sheet"))


@router.get("/invoices/{invoice_id}/documents", summary="The documents made for an invoice")
async def made_documents(
    invoice_id: str, context: ContextDep, kind: Literal["invoice", "detail-sheet"] | None = None
) -> list[MadeDocumentRecord]:
    """Each PDF made for the invoice (by kind and SHA-256, newest first), so a document sent to
    a client can be checked against the record."""
    return await _made(context, invoice_id, kind)


@router.get(
    "/production-orders/{order_id}/order-summary.pdf",
    summary="A production order's summary for its lab, as PDF",
    response_class=Response,
    responses=PDF,
)
async def order_summary_pdf(order_id: str, context: ContextDep) -> Response:
    """The lab, the invoices it comes from, each line's product, quantity, files (thumbnails
    cropped as ordered, with their file names), crop and retouch notes, the studio's and the
    lab's notes; the summary file a lab gets with the order."""
    return _pdf(await DocumentService(context).order_summary(order_id))


@router.get("/production-orders/{order_id}/documents", summary="The documents made for an order")
async def made_order_documents(order_id: str, context: ContextDep) -> list[MadeDocumentRecord]:
    return await _made(context, order_id, None)


async def _made(context: ContextDep, record_id: str, kind: str | None) -> list[MadeDocumentRecord]:
    made = await DocumentService(context).made_for(record_id)
    return [MadeDocumentRecord.model_validate(d) for d in made if kind in (None, d["kind"])]
