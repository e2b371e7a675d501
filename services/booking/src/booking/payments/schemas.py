"""What the payment routes take and answer."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PaymentStatus = Literal["pending", "succeeded", "failed", "partially_refunded", "refunded"]
PaymentPurpose = Literal["deposit", "invoice"]
# Stripe's (`checkout`, `payment_intent`), and money the studio took itself and records.
RecordedMethod = Literal["cash", "card_terminal", "bank_transfer", "cheque", "other"]
PaymentMethod = Literal[
    "checkout", "payment_intent", "cash", "card_terminal", "bank_transfer", "cheque", "other"
]
RECORDED_METHODS: frozenset[str] = frozenset(
    ("cash", "card_terminal", "bank_transfer", "cheque", "other")
)
RefundStatus = Literal["pending", "succeeded", "failed"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PaymentIn(Strict):
    """A payment for a session's deposit or for an invoice (exactly one of the two)."""

    session_id: str | None = Field(default=None, min_length=1)
    invoice_id: str | None = Field(default=None, min_length=1)
    # Invoices: part of the amount due (default all of what is still open). Deposits: fixed.
    amount_minor: int | None = Field(default=None, gt=0)
    # `checkout`: a hosted Stripe Checkout page; `payment_intent`: the client secret for
    # an embedded form.
    method: Literal["checkout", "payment_intent"] = "checkout"

    @model_validator(mode="after")
    def _one_target(self) -> PaymentIn:
        if (self.session_id is None) == (self.invoice_id is None):
            raise ValueError("give exactly one of session_id and invoice_id")
        return self


class RecordedPaymentIn(Strict):
    """Money the studio took itself (cash, its card terminal, a transfer, a cheque): recorded
    as paid at once, for a session's deposit or an invoice (exactly one of the two)."""

    session_id: str | None = Field(default=None, min_length=1)
    invoice_id: str | None = Field(default=None, min_length=1)
    # Invoices: part of what is open (default all of it). Deposits: the session type's.
    amount_minor: int | None = Field(default=None, gt=0)
    method: RecordedMethod
    # A receipt number, the transfer's reference, the cheque's number.
    reference: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _one_target(self) -> RecordedPaymentIn:
        if (self.session_id is None) == (self.invoice_id is None):
            raise ValueError("give exactly one of session_id and invoice_id")
        return self


class RefundIn(Strict):
    # Default: everything not refunded yet.
    amount_minor: int | None = Field(default=None, gt=0)
    reason: str | None = Field(default=None, max_length=500)


class Refund(BaseModel):
    id: str
    amount_minor: int
    status: RefundStatus
    reason: str | None
    stripe_refund: str | None
    created_at: datetime


class CancellationNote(BaseModel):
    """What a deposit's session cancellation did with it: kept, refunded, or a failed refund."""

    session_id: str
    outcome: str
    reason: str
    refund_id: str | None
    at: datetime


class Payment(BaseModel):
    id: str
    purpose: PaymentPurpose
    method: PaymentMethod
    client_id: str
    session_id: str | None
    invoice_id: str | None
    amount_minor: int
    currency: str
    status: PaymentStatus
    refunded_minor: int
    checkout_url: str | None
    client_secret: str | None
    stripe_checkout_session: str | None
    stripe_payment_intent: str | None
    failure_reason: str | None
    refunds: list[Refund]
    cancellation: CancellationNote | None = None
    # Recorded payments: who recorded it and its reference.
    recorded_by: str | None = None
    reference: str | None = None
    created_at: datetime
    updated_at: datetime


class WebhookReceipt(BaseModel):
    received: bool = True
    event_id: str
    outcome: Literal["applied", "duplicate", "ignored"]
