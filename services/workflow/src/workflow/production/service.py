"""Production orders: split by preferred vendor, combined across invoices, own pipeline."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from kit.errors import Conflict, Unprocessable
from kit.mongo import Document
from workflow.context import WorkflowContext
from workflow.invoices.service import InvoiceService
from workflow.production.repository import ProductionRepository
from workflow.production.schemas import (
    ProductionOrder,
    ProductionOrderCreate,
    ProductionOrderNotes,
    ProductionSplit,
    UnassignedLine,
)
from workflow.tracking.schemas import StatusChangeRequest
from workflow.tracking.service import StatusChanger, current_status

LINE_FIELDS = (
    "line_id",
    "product_id",
    "product_name",
    "image_ids",
    "quantity",
    "crop",
    "adjustments",
    "retouch_notes",
)


def order_view(document: Document) -> ProductionOrder:
    return ProductionOrder.model_validate(
        {
            **document,
            "production_order_id": document["_id"],
            "status": current_status(document),
        }
    )


class ProductionService:
    def __init__(self, context: WorkflowContext) -> None:
        self._repository = ProductionRepository(context.db)
        self._changer = StatusChanger(context, "production_order")
        self._invoices = InvoiceService(context)

    async def create(self, request: ProductionOrderCreate, *, by: str) -> ProductionSplit:
        invoice_ids = list(dict.fromkeys(request.invoice_ids))
        invoices = {d["_id"]: d for d in await self._invoices.documents(invoice_ids)}
        missing = [i for i in invoice_ids if i not in invoices]
        if missing:
            raise Unprocessable(
                f"No invoice {', '.join(missing)}.", detail={"invoice_ids": missing}
            )
        by_vendor: dict[str, list[Document]] = {}
        unassigned: list[UnassignedLine] = []
        for invoice_id in invoice_ids:
            for line in invoices[invoice_id]["lines"]:
                if line.get("product_kind") == "digital":
                    unassigned.append(self._unassigned(invoice_id, line, "digital product"))
                elif not line.get("vendor"):
                    unassigned.append(self._unassigned(invoice_id, line, "no preferred vendor"))
                else:
                    by_vendor.setdefault(line["vendor"], []).append(
                        {"invoice_id": invoice_id, **{k: line.get(k) for k in LINE_FIELDS}}
                    )
        if not by_vendor:
            raise Unprocessable(
                "None of these invoices' lines has a vendor to send it to.",
                detail={"unassigned_lines": [u.model_dump() for u in unassigned]},
            )
        batch_id = uuid.uuid4().hex[:12]
        await self._claim(invoice_ids, batch_id)
        pipeline = await self._changer.statuses.pipeline("production_order")
        orders = []
        for position, (vendor, lines) in enumerate(sorted(by_vendor.items()), start=1):
            order_id = f"po-{batch_id}-{position}"
            document: dict[str, Any] = {
                "_id": order_id,
                "batch_id": batch_id,
                "vendor": vendor,
                "invoice_ids": sorted({line["invoice_id"] for line in lines}),
                "lines": lines,
                "vendor_notes": None,
                "studio_notes": request.studio_notes,
                "session_id": None,
                "session_type_id": None,
                "created_at": datetime.now(UTC),
            }
            fields = await self._changer.open(
                order_id,
                pipeline.initial(),
                by=by,
                session_id=None,
                session_type_id=None,
                snapshot=document,
            )
            if fields is None:
                raise Conflict(f"Production order {order_id} exists already.")
            document = {**document, **fields}
            await self._repository.insert(document)
            orders.append(order_view(document))
        return ProductionSplit(production_orders=orders, unassigned_lines=unassigned)

    async def _claim(self, invoice_ids: list[str], batch_id: str) -> None:
        """Each invoice goes to production once: claim them all, or none."""
        now = datetime.now(UTC)
        taken: dict[str, str] = {}
        for invoice_id in invoice_ids:
            holder = await self._repository.claim(invoice_id, batch_id, {"claimed_at": now})
            if holder is not None:
                taken[invoice_id] = holder
        if taken:
            await self._repository.release(batch_id)
            raise Conflict(
                f"Already in production: {', '.join(taken)}.",
                detail={"invoice_ids": list(taken)},
            )

    @staticmethod
    def _unassigned(invoice_id: str, line: Document, reason: str) -> UnassignedLine:
        return UnassignedLine(
            invoice_id=invoice_id,
            line_id=line["line_id"],
            product_name=line["product_name"],
            reason=reason,
        )

    async def get(self, order_id: str) -> ProductionOrder:
        return order_view(await self._changer.load(order_id))

    async def search(
        self, *, vendor: str | None, invoice_id: str | None, limit: int, offset: int
    ) -> list[ProductionOrder]:
        query: dict[str, Any] = {}
        if vendor:
            query["vendor"] = vendor
        if invoice_id:
            query["invoice_ids"] = invoice_id
        return [order_view(d) for d in await self._repository.find(query, limit=limit, skip=offset)]

    async def set_notes(self, order_id: str, request: ProductionOrderNotes) -> ProductionOrder:
        notes = request.model_dump(exclude_unset=True)
        await self._changer.load(order_id)
        if notes:
            await self._repository.set_notes(order_id, notes)
        return await self.get(order_id)

    async def change_status(
        self, order_id: str, request: StatusChangeRequest, *, by: str
    ) -> ProductionOrder:
        return order_view(await self._changer.change(order_id, request, by=by))

    async def history(self, order_id: str) -> list[Document]:
        return await self._changer.history(order_id)
