"""Invoices: lines from a price list, discounts, tax, totals in minor units; paid by events."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from kit.errors import Conflict, Unprocessable
from kit.events.consumer import HandlerContext
from kit.events.contracts.booking import (
    PaymentFailed,
    PaymentRecord,
    PaymentRefunded,
    PaymentSucceeded,
)
from kit.events.contracts.workflow import InvoiceCreated
from kit.events.envelope import Envelope, source_of
from kit.mongo import Document
from workflow.context import WorkflowContext
from workflow.invoices.repository import InvoiceRepository
from workflow.invoices.schemas import Invoice, InvoiceCreate
from workflow.invoices.totals import Discount, compute_totals
from workflow.pricing.service import PricingService
from workflow.tracking.schemas import StatusChangeRequest
from workflow.tracking.service import StatusChanger, current_status

log = logging.getLogger(__name__)
SIGNS = {"succeeded": 1, "refunded": -1, "failed": 0}


def invoice_view(document: Document, payments: list[Document]) -> Invoice:
    paid = sum(SIGNS[p["outcome"]] * p["amount_minor"] for p in payments)
    return Invoice.model_validate(
        {
            **document,
            "invoice_id": document["_id"],
            "tax_rate_percent": Decimal(document["tax_rate_percent"]),
            "discounts": [
                {**d, "percent": Decimal(d["percent"]) if d["percent"] else None}
                for d in document["discounts"]
            ],
            "paid_minor": paid,
            "balance_minor": document["total_minor"] - paid,
            "payments": payments,
            "status": current_status(document),
        }
    )


class InvoiceService:
    def __init__(self, context: WorkflowContext) -> None:
        self._context = context
        self._repository = InvoiceRepository(context.db)
        self._changer = StatusChanger(context, "invoice")
        self._pricing = PricingService(context.db)

    async def create(self, request: InvoiceCreate, *, by: str) -> Invoice:
        price_list = await self._pricing.get_or_none(request.price_list_id)
        if price_list is None:
            raise Unprocessable(
                f"No price list {request.price_list_id}.",
                detail={"price_list_id": request.price_list_id},
            )
        products = {p.id: p for p in price_list.products}
        missing = [line.product_id for line in request.lines if line.product_id not in products]
        if missing:
            raise Unprocessable(
                f"These products are not on price list {price_list.name!r}: {', '.join(missing)}.",
                detail={"product_ids": missing},
            )
        retired = [
            line.product_id for line in request.lines if not products[line.product_id].active
        ]
        if retired:
            raise Unprocessable(
                f"These products are retired: {', '.join(retired)}.",
                detail={"product_ids": retired},
            )
        prices = [
            line.unit_price_minor
            if line.unit_price_minor is not None
            else products[line.product_id].price_minor
            for line in request.lines
        ]
        discounts = [Discount(d.description, d.percent, d.amount_minor) for d in request.discounts]
        totals = compute_totals(
            [(line.quantity, price) for line, price in zip(request.lines, prices, strict=True)],
            discounts,
            request.tax_rate_percent,
        )
        invoice_id = f"inv-{uuid.uuid4().hex[:12]}"
        now = datetime.now(UTC)
        document: Document = {
            "_id": invoice_id,
            "client_id": request.client_id,
            "session_id": request.session_id,
            "session_type_id": None,
            "price_list_id": price_list.id,
            "currency": price_list.currency,
            "lines": [
                {
                    "line_id": f"{invoice_id}-{position}",
                    "product_id": line.product_id,
                    "product_name": products[line.product_id].name,
                    "product_kind": products[line.product_id].kind,
                    "vendor": products[line.product_id].vendor,
                    "image_ids": line.image_ids,
                    "quantity": line.quantity,
                    "unit_price_minor": price,
                    "total_minor": total,
                    "crop": line.crop.model_dump() if line.crop else None,
                    "adjustments": line.adjustments,
                    "retouch_notes": line.retouch_notes,
                }
                for position, (line, price, total) in enumerate(
                    zip(request.lines, prices, totals.line_totals, strict=True), start=1
                )
            ],
            "discounts": [
                {
                    "description": d.description,
                    "percent": str(d.percent) if d.percent is not None else None,
                    "amount_minor": d.amount_minor,
                    "applied_minor": applied,
                }
                for d, applied in zip(request.discounts, totals.discount_amounts, strict=True)
            ],
            "subtotal_minor": totals.subtotal_minor,
            "discount_minor": totals.discount_minor,
            "tax_rate_percent": str(request.tax_rate_percent),
            "tax_minor": totals.tax_minor,
            "total_minor": totals.total_minor,
            "created_at": now,
        }
        created = Envelope.wrap(
            InvoiceCreated(
                invoice_id=invoice_id,
                client_id=request.client_id,
                session_id=request.session_id,
                currency=price_list.currency,
                total_minor=totals.total_minor,
                amount_due_minor=totals.total_minor,
                created_at=now,
            ),
            subject=invoice_id,
            source=source_of("workflow"),
        )
        pipeline = await self._changer.statuses.pipeline("invoice")
        fields = await self._changer.open(
            invoice_id,
            pipeline.initial(),
            by=by,
            session_id=request.session_id,
            session_type_id=None,
            extra_events=(created,),
            snapshot=document,
        )
        if fields is None:
            raise Conflict(f"Invoice {invoice_id} exists already.")  # a uuid collision
        document = {**document, **fields}
        await self._repository.insert(document)
        credited = await self.payments_of(document)
        if credited:  # the session's deposit may pay it in full already
            await self._move_to_paid_when_settled(invoice_id, None)
            return await self.get(invoice_id)
        return invoice_view(document, credited)

    async def get(self, invoice_id: str) -> Invoice:
        document = await self._changer.load(invoice_id)
        return invoice_view(document, await self.payments_of(document))

    async def payments_of(self, invoice: Document) -> list[Document]:
        """The invoice's payments, and the session's deposit if this is its first invoice."""
        payments = await self._repository.payments(invoice["_id"])
        session_id = invoice.get("session_id")
        if session_id:
            first = await self._repository.first_of_session(session_id)
            if first is not None and first["_id"] == invoice["_id"]:
                credited = [
                    d
                    for d in await self._repository.deposits(session_id)
                    if d["outcome"] != "failed" and d["currency"] == invoice["currency"]
                ]
                payments = sorted([*credited, *payments], key=lambda p: p["recorded_at"])
        return payments

    async def search(
        self, *, client_id: str | None, session_id: str | None, limit: int, offset: int
    ) -> list[Invoice]:
        query: dict[str, Any] = {}
        if client_id:
            query["client_id"] = client_id
        if session_id:
            query["session_id"] = session_id
        documents = await self._repository.find(query, limit=limit, skip=offset)
        return [invoice_view(d, await self.payments_of(d)) for d in documents]

    async def change_status(
        self, invoice_id: str, request: StatusChangeRequest, *, by: str
    ) -> Invoice:
        await self._changer.change(invoice_id, request, by=by)
        return await self.get(invoice_id)

    async def history(self, invoice_id: str) -> list[Document]:
        return await self._changer.history(invoice_id)

    async def documents(self, invoice_ids: list[str]) -> list[Document]:
        return await self._repository.many(invoice_ids)

    # Booking's payment events ---------------------------------------------------------

    async def payment_succeeded(self, payload: PaymentSucceeded, context: HandlerContext) -> None:
        await self._record(payload, "succeeded", context)

    async def payment_refunded(self, payload: PaymentRefunded, context: HandlerContext) -> None:
        await self._record(payload, "refunded", context)

    async def payment_failed(self, payload: PaymentFailed, context: HandlerContext) -> None:
        await self._record(payload, "failed", context)

    async def _record(self, payload: PaymentRecord, outcome: str, context: HandlerContext) -> None:
        if payload.invoice_id is None:
            if payload.session_id is not None:
                await self._record_deposit(payload, payload.session_id, outcome, context)
            return
        invoice = await self._changer.repository.get(payload.invoice_id)
        if invoice is None:
            raise Unprocessable(f"Payment {payload.payment_id} names no known invoice.")
        if payload.currency.upper() != invoice["currency"]:
            raise Unprocessable(
                f"Payment {payload.payment_id} is in {payload.currency}, "
                f"invoice {payload.invoice_id} in {invoice['currency']}."
            )
        record_id, amount = _record_id_and_amount(payload, outcome)
        await self._repository.record_payment(
            {
                "_id": record_id,
                "payment_id": payload.payment_id,
                "kind": "payment",
                "invoice_id": payload.invoice_id,
                "session_id": invoice.get("session_id"),
                "outcome": outcome,
                "amount_minor": amount,
                "currency": invoice["currency"],
                "event_id": context.event_id,
                "recorded_at": datetime.now(UTC),
            }
        )
        if outcome == "succeeded":
            await self._move_to_paid_when_settled(payload.invoice_id, context.event_id)

    async def _record_deposit(
        self, payload: PaymentRecord, session_id: str, outcome: str, context: HandlerContext
    ) -> None:
        """A session's deposit: kept for the session's first invoice, whenever it comes."""
        record_id, amount = _record_id_and_amount(payload, outcome)
        await self._repository.record_payment(
            {
                "_id": record_id,
                "payment_id": payload.payment_id,
                "kind": "deposit",
                "invoice_id": None,
                "session_id": session_id,
                "outcome": outcome,
                "amount_minor": amount,
                "currency": payload.currency.upper(),
                "event_id": context.event_id,
                "recorded_at": datetime.now(UTC),
            }
        )
        invoice = await self._repository.first_of_session(session_id)
        if outcome == "succeeded" and invoice is not None:
            await self._move_to_paid_when_settled(invoice["_id"], context.event_id)

    async def _move_to_paid_when_settled(self, invoice_id: str, event_id: str | None) -> None:
        for _ in range(3):
            invoice = await self._changer.load(invoice_id)
            view = invoice_view(invoice, await self.payments_of(invoice))
            if view.balance_minor > 0 or invoice.get("closed"):
                return
            pipeline = await self._changer.pipeline_of(invoice)
            paid = pipeline.with_role("paid")
            current = await self._changer.statuses.find(invoice["status_id"])
            if paid is None or (current is not None and current.sort_order >= paid.sort_order):
                return  # no paid status, or the invoice is past it already
            written = await self._changer.apply(
                invoice, paid, by="booking", result="paid in full", event_id=event_id
            )
            if written is not None:
                return
        raise Conflict(f"Invoice {invoice_id} kept changing while being marked paid.")


def _record_id_and_amount(payload: PaymentRecord, outcome: str) -> tuple[str, int]:
    """One record per payment and outcome; each partial refund is its own record of its own
    amount (amount_minor is the whole payment's); a refund event without refund_id is the old
    shape: a full refund."""
    record_id = f"{payload.payment_id}:{outcome}"
    amount = payload.amount_minor
    if isinstance(payload, PaymentRefunded) and payload.refund_id is not None:
        record_id = f"{record_id}:{payload.refund_id}"
        amount = payload.refund_minor if payload.refund_minor is not None else amount
    return record_id, amount
