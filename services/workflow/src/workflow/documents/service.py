"""Making an invoice's documents from its record, and keeping each one's SHA-256."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from kit.errors import NotFound
from kit.mongo import Document, IndexSpec
from workflow.context import WorkflowContext
from workflow.documents.render import crop_text, money_formatter, pdf_moment, render_pdf, thumbnail
from workflow.images.repository import ImageRepository
from workflow.images.service import image_view
from workflow.invoices.schemas import Invoice, InvoiceLine
from workflow.invoices.service import InvoiceService
from workflow.production.schemas import ProductionLine
from workflow.production.service import ProductionService
from workflow.sessions.schemas import SessionWorkflow
from workflow.sessions.service import SessionService

log = logging.getLogger(__name__)

COLLECTION = "documents"
INDEXES = [IndexSpec(COLLECTION, [("record_id", 1), ("made_at", -1)], "by_record")]
TEMPLATES = {
    "invoice": "invoice.html",
    "detail-sheet": "detail_sheet.html",
    "order-summary": "order_summary.html",
}
TITLES = {
    "invoice": "Invoice",
    "detail-sheet": "Image detail sheet",
    "order-summary": "Order summary",
}
PAYMENT_LABELS = {"succeeded": "Paid", "refunded": "Refunded"}


@dataclass(frozen=True)
class MadeDocument:
    kind: str
    record_id: str
    body: bytes
    sha256: str

    @property
    def file_name(self) -> str:
        return f"{self.kind}-{self.record_id}.pdf"


class DocumentService:
    def __init__(self, context: WorkflowContext) -> None:
        self._context = context
        self._documents = context.db[COLLECTION]

    async def invoice_document(self, invoice_id: str, kind: str) -> MadeDocument:
        """The invoice or its detail sheet as PDF, recorded with its SHA-256."""
        if kind not in ("invoice", "detail-sheet"):
            raise NotFound(f"No document {kind!r}.", detail={"kinds": ["invoice", "detail-sheet"]})
        invoice = await InvoiceService(self._context).get(invoice_id)
        session = await self._session(invoice.session_id)
        facts = [("Invoice", invoice.invoice_id), ("Date", invoice.created_at.date().isoformat())]
        if session is not None:
            facts.append(("Session", session.session_number))
        facts.append(("Status", invoice.status.name))
        return await self._make(
            kind,
            invoice.invoice_id,
            invoice.version,
            title=f"{TITLES[kind]} {invoice.invoice_id}",
            facts=facts,
            invoice=invoice,
            session=session,
            client_name=(session.client_name if session else None) or invoice.client_id,
            lines=await self._lines(invoice.lines),
            payments=_payments(invoice),
            money=money_formatter(invoice.currency),
            created=pdf_moment(invoice.created_at),
            modified=pdf_moment(_last_change([invoice.created_at, invoice.status.since], invoice)),
        )

    async def order_summary(self, order_id: str) -> MadeDocument:
        """A production order's summary for its lab, as PDF, recorded with its SHA-256."""
        order = await ProductionService(self._context).get(order_id)
        facts = [
            ("Order", order.production_order_id),
            ("Date", order.created_at.date().isoformat()),
            ("Lab", order.vendor),
            ("Invoices", ", ".join(order.invoice_ids)),
        ]
        return await self._make(
            "order-summary",
            order.production_order_id,
            order.version,
            title=f"{TITLES['order-summary']} {order.production_order_id}",
            facts=facts,
            order=order,
            lines=await self._lines(order.lines),
            # What the lab gets does not change with the order's status (only with its lines
            # and notes), so the same order sent again is the same order at the lab.
            created=pdf_moment(order.created_at),
            modified=pdf_moment(order.created_at),
        )

    async def _make(self, kind: str, record_id: str, version: int, **context: Any) -> MadeDocument:
        settings = self._context.settings
        studio = {
            "name": settings.studio_name,
            "address": settings.studio_address,
            "terms": settings.document_terms,
            "copyright": settings.document_copyright.format(studio=settings.studio_name),
        }
        body = await asyncio.to_thread(render_pdf, TEMPLATES[kind], studio=studio, **context)
        made = MadeDocument(kind, record_id, body, hashlib.sha256(body).hexdigest())
        await self._record(made, version=version)
        return made

    async def made_for(self, record_id: str) -> list[Document]:
        """Every document made for a record, newest first: kind, SHA-256, size, when."""
        cursor = self._documents.find({"record_id": record_id}).sort("made_at", -1).limit(500)
        return [d async for d in cursor]

    async def _record(self, made: MadeDocument, *, version: int) -> None:
        # The same bytes made before are recorded already.
        with contextlib.suppress(DuplicateKeyError):
            await self._documents.insert_one(
                {
                    "_id": f"{made.kind}:{made.record_id}:{made.sha256}",
                    "kind": made.kind,
                    "record_id": made.record_id,
                    "record_version": version,
                    "sha256": made.sha256,
                    "bytes": len(made.body),
                    "made_at": datetime.now(UTC),
                }
            )

    async def _session(self, session_id: str | None) -> SessionWorkflow | None:
        if session_id is None:
            return None
        try:
            return await SessionService(self._context).get(session_id)
        except NotFound:
            return None

    async def _lines(self, ordered: Sequence[InvoiceLine | ProductionLine]) -> list[dict[str, Any]]:
        """Each line for the templates, with its images' labels and cropped thumbnails."""
        wanted = sorted({i for line in ordered for i in line.image_ids})
        images = {
            d["_id"]: image_view(d) for d in await ImageRepository(self._context.db).many(wanted)
        }
        storage = self._context.storage
        bucket = self._context.settings.infra.images_bucket
        previews: dict[str, bytes] = {}
        keys = {
            image_id: ref.key
            for image_id in wanted
            if image_id in images and (ref := images[image_id].preview) is not None
        }
        bodies = await asyncio.gather(
            *(storage.get_bytes(bucket, key) for key in keys.values()), return_exceptions=True
        )
        for image_id, body in zip(keys, bodies, strict=True):
            if isinstance(body, bytes):
                previews[image_id] = body
            else:
                log.warning("no preview for image %s in a document: %s", image_id, body)
        lines = []
        for line in ordered:
            shown = []
            for image_id in line.image_ids:
                image = images.get(image_id)
                label = image_id
                if image is not None:
                    label = str(image.number) if image.number is not None else image.name
                preview = previews.get(image_id)
                shown.append(
                    {
                        "label": label,
                        "file": image.name if image is not None else None,
                        "thumbnail": (
                            await asyncio.to_thread(thumbnail, preview, line.crop)
                            if preview
                            else None
                        ),
                    }
                )
            lines.append(
                {
                    **line.model_dump(),
                    "crop_text": crop_text(line.crop),
                    "images": shown,
                }
            )
        return lines


def _payments(invoice: Invoice) -> list[dict[str, Any]]:
    shown = []
    for payment in invoice.payments:
        if payment.outcome not in PAYMENT_LABELS:
            continue
        label = "Deposit" if payment.kind == "deposit" else PAYMENT_LABELS[payment.outcome]
        if payment.outcome == "refunded":
            label = "Refunded"
        shown.append(
            {
                "label": label,
                "date": payment.recorded_at.date().isoformat(),
                "amount_minor": payment.amount_minor,
                "sign": "+" if payment.outcome == "refunded" else "\u2212",
            }
        )
    return shown


def _last_change(moments: list[datetime], invoice: Invoice | None = None) -> datetime:
    """The record's last change (its status, an invoice's payments): the PDF's modified date."""
    if invoice is not None:
        moments = moments + [p.recorded_at for p in invoice.payments]
    return max(m if m.tzinfo else m.replace(tzinfo=UTC) for m in moments)
