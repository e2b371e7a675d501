"""The payment rules: starting a payment, Stripe's verdict through the webhook, refunds.

A payment document is written `pending` before Stripe is called (so the idempotency key,
derived from its id, exists first), then gets Stripe's ids. Stripe's verdict arrives through
the webhook: the status change, its event and the Stripe event id are one conditional write,
so an event delivered twice changes nothing the second time. A refund reserves its amount in
the payment first (no two refunds can exceed what was paid), then calls Stripe, then writes
the outcome with its event.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

import stripe

from booking.payments import schemas
from booking.payments.repository import PaymentRepository
from booking.payments.stripe_gateway import StripeGateway, verify_webhook
from booking.scheduling.service import SchedulingService
from kit.errors import BadGateway, BadRequest, Conflict, InvalidTransition, NotFound, Unprocessable
from kit.events.contracts.booking import (
    PaymentFailed,
    PaymentRecord,
    PaymentRefunded,
    PaymentSucceeded,
)
from kit.events.envelope import Envelope, source_of
from kit.events.outbox import new_document_with_events
from kit.mongo import Document

SOURCE = source_of("booking")
Outcome = Literal["applied", "duplicate", "ignored"]
WEBHOOK_TOLERANCE_SECONDS = 300
PAID = ("succeeded",)
SUCCESS_EVENTS = {
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "payment_intent.succeeded",
}
FAILURE_EVENTS = {
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "payment_intent.payment_failed",
}


def now() -> datetime:
    """Milliseconds, as BSON stores them, so what is answered equals what is read back."""
    at = datetime.now(UTC)
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def new_payment_id() -> str:
    return f"pay_{uuid.uuid4().hex}"


class PaymentService:
    def __init__(
        self,
        repository: PaymentRepository,
        stripe_gateway: StripeGateway,
        scheduling: SchedulingService,
        *,
        webhook_secret: str,
        public_base_url: str,
        clock: Callable[[], datetime] = now,
    ) -> None:
        self.repo = repository
        self.stripe = stripe_gateway
        self.scheduling = scheduling
        self.webhook_secret = webhook_secret
        self.public_base_url = public_base_url.rstrip("/")
        self.clock = clock

    # --- starting a payment --------------------------------------------------------

    async def start(self, data: schemas.PaymentIn, *, email: str | None = None) -> Document:
        if data.session_id is not None:
            if data.amount_minor is not None:
                raise Unprocessable("A deposit is the session type's; leave amount_minor out.")
            return await self.start_deposit(data.session_id, method=data.method, email=email)
        assert data.invoice_id is not None
        return await self.start_invoice_payment(
            data.invoice_id, amount_minor=data.amount_minor, method=data.method
        )

    async def start_deposit(
        self, session_id: str, *, method: schemas.PaymentMethod, email: str | None = None
    ) -> Document:
        """The deposit of a held or booked session, through Stripe."""
        document, description = await self._deposit(session_id, method)
        return await self._open_with_stripe(document, description=description, email=email)

    async def _deposit(
        self, session_id: str, method: schemas.PaymentMethod
    ) -> tuple[Document, str]:
        """A new deposit payment of a held or booked session, and what it is for."""
        try:
            session = await self.scheduling.session(session_id)
        except NotFound as exc:
            raise Unprocessable(exc.message, detail={"session_id": session_id}) from exc
        if session.state not in ("held", "booked"):
            raise InvalidTransition(f"A {session.state} session takes no deposit.")
        stype = await self.scheduling.session_type(session.session_type_id)
        if stype.deposit_minor <= 0:
            raise Unprocessable(f"Sessions of type {stype.name} take no deposit.")
        for existing in await self.repo.find({"session_id": session_id}, limit=50):
            if existing["purpose"] == "deposit" and existing["status"] in ("pending", "succeeded"):
                raise Conflict(
                    "This session's deposit is already paid or being paid.",
                    detail={"payment_id": existing["_id"], "status": existing["status"]},
                )
        document = self._new_payment(
            purpose="deposit",
            method=method,
            client_id=session.client_id,
            session_id=session_id,
            invoice_id=None,
            amount_minor=stype.deposit_minor,
            currency=stype.currency,
        )
        return document, f"Deposit: {stype.name} ({session.number})"

    async def start_invoice_payment(
        self, invoice_id: str, *, amount_minor: int | None, method: schemas.PaymentMethod
    ) -> Document:
        """All or part of what is still open on an invoice that workflow published."""
        document = await self._invoice_payment(invoice_id, amount_minor, method)
        return await self._open_with_stripe(document, description=f"Invoice {invoice_id}")

    async def _invoice_payment(
        self, invoice_id: str, amount_minor: int | None, method: schemas.PaymentMethod
    ) -> Document:
        """A new payment of all or part of what is open on an invoice."""
        invoice = await self.repo.invoice(invoice_id)
        if invoice is None:
            raise Unprocessable(
                "No such invoice (yet): workflow has not published it.",
                detail={"invoice_id": invoice_id},
            )
        taken = 0
        for payment in await self.repo.find({"invoice_id": invoice_id}, limit=1000):
            if payment["status"] in ("pending", "succeeded"):
                taken += payment["amount_minor"] - payment["refunded_minor"]
        credit = await self.deposit_credit(invoice)
        open_minor = invoice["amount_due_minor"] - taken - credit
        if open_minor <= 0:
            raise Conflict(
                "Nothing is open on this invoice (paid, or a payment is under way).",
                detail={"invoice_id": invoice_id},
            )
        amount = open_minor if amount_minor is None else amount_minor
        if amount > open_minor:
            raise Unprocessable(
                "That is more than is open on the invoice.",
                detail={"open_minor": open_minor, "amount_minor": amount},
            )
        document = self._new_payment(
            purpose="invoice",
            method=method,
            client_id=invoice["client_id"],
            session_id=invoice.get("session_id"),
            invoice_id=invoice_id,
            amount_minor=amount,
            currency=invoice["currency"],
        )
        return document

    async def record(self, data: schemas.RecordedPaymentIn, *, by: str | None) -> Document:
        """Money the studio took itself: paid at once, written with its
        `booking.payment.succeeded.v1` in one insert; a held session's deposit books it."""
        if data.session_id is not None:
            if data.amount_minor is not None:
                raise Unprocessable("A deposit is the session type's; leave amount_minor out.")
            document, _ = await self._deposit(data.session_id, data.method)
        else:
            assert data.invoice_id is not None
            document = await self._invoice_payment(data.invoice_id, data.amount_minor, data.method)
        document |= {
            "status": "succeeded",
            "recorded_by": by or "studio",
            "reference": data.reference,
        }
        event = _event(PaymentSucceeded, document)
        await self.repo.insert(new_document_with_events(document, event))
        await self._settle(document)
        return await self._load(document["_id"])

    async def deposit_credit(self, invoice: Document) -> int:
        """What the session's paid deposit takes off this invoice (net of refunds).

        The deposit counts toward the session's first invoice (by creation, then id), as in
        workflow, so a client is never asked to pay it twice, nor is it counted twice."""
        session_id = invoice.get("session_id")
        if not session_id:
            return 0
        first = await self.repo.first_invoice_of_session(session_id)
        if first is None or first["_id"] != invoice["_id"]:
            return 0
        return sum(
            p["amount_minor"] - p["refunded_minor"]
            for p in await self.repo.find({"session_id": session_id}, limit=50)
            if p["purpose"] == "deposit"
            and p["status"] == "succeeded"
            and p["currency"] == invoice["currency"]
        )

    async def record_cancellation(
        self, payment_id: str, session_id: str, outcome: Document
    ) -> None:
        """Note on the deposit what its session's cancellation did with it."""
        await self.repo.update(
            payment_id,
            expect={},
            changes={
                "cancellation": {
                    "session_id": session_id,
                    "outcome": outcome["outcome"],
                    "reason": outcome["reason"],
                    "refund_id": outcome.get("refund_id"),
                    "at": outcome["decided_at"],
                },
                "updated_at": self.clock(),
            },
        )

    def _new_payment(self, **fields: Any) -> Document:
        at = self.clock()
        return {
            "_id": new_payment_id(),
            **fields,
            "currency": str(fields["currency"]).lower(),
            "status": "pending",
            "refunded_minor": 0,
            "refunds": {},
            "checkout_url": None,
            "client_secret": None,
            "stripe_checkout_session": None,
            "stripe_payment_intent": None,
            "failure_reason": None,
            "stripe_events": [],
            "settled": False,
            "version": 0,
            "created_at": at,
            "updated_at": at,
        }

    async def _open_with_stripe(
        self, document: Document, *, description: str, email: str | None = None
    ) -> Document:
        await self.repo.insert(document)
        metadata = {
            k: document[k] for k in ("session_id", "invoice_id", "client_id") if document.get(k)
        }
        changes: Document
        try:
            if document["method"] == "checkout":
                page = await self.stripe.checkout(
                    payment_id=document["_id"],
                    amount_minor=document["amount_minor"],
                    currency=document["currency"],
                    description=description,
                    email=email,
                    success_url=f"{self.public_base_url}/booking/paid?payment={document['_id']}",
                    cancel_url=f"{self.public_base_url}/booking/unpaid?payment={document['_id']}",
                    metadata=metadata,
                )
                changes = {"stripe_checkout_session": page.id, "checkout_url": page.url}
            else:
                intent = await self.stripe.payment_intent(
                    payment_id=document["_id"],
                    amount_minor=document["amount_minor"],
                    currency=document["currency"],
                    metadata=metadata,
                )
                changes = {
                    "stripe_payment_intent": intent.id,
                    "client_secret": intent.client_secret,
                }
        except BadGateway as exc:
            await self.repo.update(
                document["_id"],
                expect={"status": "pending"},
                changes={"status": "failed", "failure_reason": exc.message},
            )
            raise
        updated = await self.repo.update(
            document["_id"],
            expect={"version": 0},
            changes={**changes, "updated_at": self.clock()},
        )
        if updated is None:  # a webhook got there first; what it wrote stands
            updated = await self._load(document["_id"])
        return updated

    # --- reading ---------------------------------------------------------------------

    async def get(self, payment_id: str) -> Document:
        return await self._load(payment_id)

    async def find(
        self,
        *,
        session_id: str | None,
        invoice_id: str | None,
        client_id: str | None,
        limit: int,
    ) -> list[Document]:
        selector = {
            k: v
            for k, v in (
                ("session_id", session_id),
                ("invoice_id", invoice_id),
                ("client_id", client_id),
            )
            if v is not None
        }
        if not selector:
            raise Unprocessable("Filter by session_id, invoice_id or client_id.")
        return await self.repo.find(selector, limit)

    # --- the webhook -------------------------------------------------------------------

    async def handle_webhook(self, payload: bytes, signature: str | None) -> schemas.WebhookReceipt:
        if not signature:
            raise BadRequest("The Stripe-Signature header is missing.")
        try:
            verify_webhook(payload, signature, self.webhook_secret, WEBHOOK_TOLERANCE_SECONDS)
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise BadRequest(
                "The Stripe signature does not match this body, or it is too old.",
                detail={"reason": str(exc)},
            ) from exc
        event = json.loads(payload)
        event_id: str = event["id"]
        event_type: str = event.get("type", "")
        obj: dict[str, Any] = event.get("data", {}).get("object", {}) or {}
        payment_id = (obj.get("metadata") or {}).get("payment_id") or obj.get("client_reference_id")
        outcome: Outcome = "ignored"
        payment = await self.repo.get(payment_id) if payment_id else None
        if payment is not None and event_type in SUCCESS_EVENTS | FAILURE_EVENTS:
            outcome = await self._apply(payment, event_id, event_type, obj)
        first = await self.repo.record_stripe_event(
            {
                "_id": event_id,
                "type": event_type,
                "payment_id": payment_id if payment is not None else None,
                "outcome": outcome,
                "received_at": self.clock(),
            }
        )
        if not first and outcome != "applied":
            outcome = "duplicate"
        return schemas.WebhookReceipt(event_id=event_id, outcome=outcome)

    async def _apply(
        self, payment: Document, event_id: str, event_type: str, obj: dict[str, Any]
    ) -> Outcome:
        if event_id in payment["stripe_events"]:
            await self._settle(payment)  # finish what a crash may have left
            return "duplicate"
        if event_type in SUCCESS_EVENTS:
            if event_type == "checkout.session.completed" and obj.get("payment_status") != "paid":
                return "ignored"  # a delayed method: its own success or failure event follows
            intent = obj.get("id") if event_type.startswith("payment_intent.") else None
            intent = intent or obj.get("payment_intent") or payment["stripe_payment_intent"]
            changed = {**payment, "status": "succeeded", "stripe_payment_intent": intent}
            updated = await self.repo.update(
                payment["_id"],
                expect={"status": {"$in": ["pending", "failed"]}},
                changes={
                    "status": "succeeded",
                    "stripe_payment_intent": intent,
                    "failure_reason": None,
                    "updated_at": self.clock(),
                },
                stripe_event=event_id,
                events=[_event(PaymentSucceeded, changed)],
            )
        else:
            reason = _failure_reason(event_type, obj)
            changed = {**payment, "status": "failed"}
            updated = await self.repo.update(
                payment["_id"],
                expect={"status": "pending"},
                changes={"status": "failed", "failure_reason": reason, "updated_at": self.clock()},
                stripe_event=event_id,
                events=[_event(PaymentFailed, changed, failure_reason=reason)],
            )
            if updated is not None and event_type == "checkout.session.expired":
                await self._free_unpaid_hold(updated)
        if updated is None:
            current = await self._load(payment["_id"])
            await self._settle(current)
            return "duplicate" if event_id in current["stripe_events"] else "ignored"
        await self._settle(updated)
        return "applied"

    async def _settle(self, payment: Document) -> None:
        """After a paid deposit, the held session becomes booked; if it lapsed, refund."""
        if payment["status"] != "succeeded" or payment["settled"]:
            return
        if payment["purpose"] == "deposit" and payment["session_id"]:
            try:
                await self.scheduling.confirm_hold(payment["session_id"])
            except (InvalidTransition, NotFound):
                # Paid after the hold expired or was cancelled: the slot is gone, so is the money.
                await self.refund(
                    payment["_id"],
                    schemas.RefundIn(reason="The booking was no longer held when paid."),
                    refund_id=f"{payment['_id']}-unheld",
                )
        await self.repo.update(payment["_id"], expect={}, changes={"settled": True})

    async def _free_unpaid_hold(self, payment: Document) -> None:
        if payment["purpose"] != "deposit" or not payment["session_id"]:
            return
        try:
            session = await self.scheduling.session(payment["session_id"])
            if session.state == "held":
                await self.scheduling.cancel(session.id, "The deposit was not paid.")
        except (InvalidTransition, Conflict, NotFound):
            pass  # booked meanwhile, or already gone: nothing to free

    # --- refunds -----------------------------------------------------------------------

    async def refund(
        self, payment_id: str, data: schemas.RefundIn, *, refund_id: str | None = None
    ) -> Document:
        payment = await self._load(payment_id)
        if refund_id is not None and refund_id in payment["refunds"]:
            return payment
        if payment["status"] not in PAID:
            raise InvalidTransition(f"A {payment['status']} payment cannot be refunded.")
        recorded = payment["method"] in schemas.RECORDED_METHODS
        if not recorded and not payment["stripe_payment_intent"]:
            raise Conflict("Stripe has not told us the payment's PaymentIntent yet.")
        open_minor = payment["amount_minor"] - payment["refunded_minor"]
        amount = open_minor if data.amount_minor is None else data.amount_minor
        if open_minor <= 0:
            raise InvalidTransition("This payment is refunded in full already.")
        if amount > open_minor:
            raise Unprocessable(
                "That is more than is left to refund.",
                detail={"refundable_minor": open_minor, "amount_minor": amount},
            )
        refund_id = refund_id or f"rf_{uuid.uuid4().hex}"
        key = f"refunds.{refund_id}"
        reserved = await self.repo.update(
            payment_id,
            expect={"version": payment["version"], "status": "succeeded"},
            changes={
                key: {
                    "id": refund_id,
                    "amount_minor": amount,
                    "status": "pending",
                    "reason": data.reason,
                    "stripe_refund": None,
                    "created_at": self.clock(),
                },
                "updated_at": self.clock(),
            },
            inc={"refunded_minor": amount},
        )
        if reserved is None:
            raise Conflict("The payment changed meanwhile; try again.")
        try:
            # Money the studio took itself goes back the same way: the refund is recorded.
            stripe_refund = (
                None
                if recorded
                else await self.stripe.refund(
                    refund_id=refund_id,
                    payment_intent=payment["stripe_payment_intent"],
                    amount_minor=amount,
                    payment_id=payment_id,
                )
            )
        except BadGateway:
            await self.repo.update(
                payment_id,
                expect={f"{key}.status": "pending"},
                changes={f"{key}.status": "failed"},
                inc={"refunded_minor": -amount},
            )
            raise
        event = _event(
            PaymentRefunded,
            reserved,
            refund_id=refund_id,
            refund_minor=amount,
            refunded_total_minor=reserved["refunded_minor"],
        )
        done = await self.repo.update(
            payment_id,
            expect={f"{key}.status": "pending"},
            changes={f"{key}.status": "succeeded", f"{key}.stripe_refund": stripe_refund},
            events=[event],
        )
        return done if done is not None else await self._load(payment_id)

    async def _load(self, payment_id: str) -> Document:
        document = await self.repo.get(payment_id)
        if document is None:
            raise NotFound(f"No payment {payment_id}.")
        return document


def _failure_reason(event_type: str, obj: dict[str, Any]) -> str:
    if event_type == "checkout.session.expired":
        return "The checkout page expired unpaid."
    error = obj.get("last_payment_error") or {}
    return str(error.get("message") or "The payment failed.")


def _event(kind: type[PaymentRecord], payment: Document, **more: Any) -> Envelope:
    payload = kind(
        payment_id=payment["_id"],
        client_id=payment["client_id"],
        amount_minor=payment["amount_minor"],
        currency=payment["currency"],
        session_id=payment.get("session_id"),
        invoice_id=payment.get("invoice_id"),
        stripe_payment_intent=payment.get("stripe_payment_intent"),
        **more,
    )
    return Envelope.wrap(payload, subject=payment["_id"], source=SOURCE)


def to_schema(document: Document) -> schemas.Payment:
    status = document["status"]
    refunded = sum(
        r["amount_minor"] for r in document["refunds"].values() if r["status"] == "succeeded"
    )
    if status == "succeeded" and refunded:
        status = "refunded" if refunded >= document["amount_minor"] else "partially_refunded"
    return schemas.Payment(
        id=document["_id"],
        purpose=document["purpose"],
        method=document["method"],
        client_id=document["client_id"],
        session_id=document.get("session_id"),
        invoice_id=document.get("invoice_id"),
        amount_minor=document["amount_minor"],
        currency=document["currency"],
        status=status,
        refunded_minor=refunded,
        checkout_url=document.get("checkout_url"),
        client_secret=document.get("client_secret"),
        stripe_checkout_session=document.get("stripe_checkout_session"),
        stripe_payment_intent=document.get("stripe_payment_intent"),
        failure_reason=document.get("failure_reason"),
        refunds=sorted(
            (schemas.Refund(**r) for r in document["refunds"].values()),
            key=lambda r: r.created_at,
        ),
        cancellation=document.get("cancellation"),
        recorded_by=document.get("recorded_by"),
        reference=document.get("reference"),
        created_at=document["created_at"],
        updated_at=document["updated_at"],
    )
