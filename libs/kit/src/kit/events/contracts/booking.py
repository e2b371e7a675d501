"""Events produced by the booking service on topic `booking.events`.

The Kafka key is the client, session or payment id.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, Field

from kit.events.envelope import EventPayload

TOPIC = "booking.events"


class PostalAddress(BaseModel):
    street: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None


class PhoneNumber(BaseModel):
    number: str
    sms: bool = False


class _BookingEvent(EventPayload):
    topic: ClassVar[str] = TOPIC


class ClientRecord(_BookingEvent):
    client_id: str
    first_name: str | None = None
    last_name: str | None = None
    organization: str | None = None
    email: str | None = None
    phone: str | None = None
    address: PostalAddress | None = None
    tags: list[str] = Field(default_factory=list)
    # Added by the clients feature (optional, additive): every phone with its SMS flag (`phone`
    # is the first of them) and whether the client agreed to marketing messages.
    phones: list[PhoneNumber] = Field(default_factory=list)
    marketing_consent: bool | None = None


class ClientCreated(ClientRecord):
    event_type: ClassVar[str] = "booking.client.created.v1"


class ClientUpdated(ClientRecord):
    event_type: ClassVar[str] = "booking.client.updated.v1"


class ClientDeleted(_BookingEvent):
    event_type: ClassVar[str] = "booking.client.deleted.v1"
    client_id: str
    merged_into: str | None = None


class SessionRecord(_BookingEvent):
    session_id: str
    session_number: str
    client_id: str
    session_type_id: str
    starts_at: datetime
    ends_at: datetime
    resource_ids: list[str] = Field(default_factory=list)
    location: str | None = None
    # Added for workflow's session cards (optional, additive): the client's name when the
    # event was made (first and last name, else the organization).
    client_name: str | None = None
    # Added for reopening (optional, additive; only on `booked.v1`, when the studio reopened a
    # cancelled session): who reopened it and why.
    reopened_by: str | None = None
    reopen_reason: str | None = None


class SessionBooked(SessionRecord):
    event_type: ClassVar[str] = "booking.session.booked.v1"


class SessionRescheduled(SessionRecord):
    event_type: ClassVar[str] = "booking.session.rescheduled.v1"


class SessionCancelled(_BookingEvent):
    event_type: ClassVar[str] = "booking.session.cancelled.v1"
    session_id: str
    session_number: str
    reason: str | None = None


class PaymentRecord(_BookingEvent):
    payment_id: str
    client_id: str
    amount_minor: int
    currency: str
    session_id: str | None = None
    invoice_id: str | None = None
    stripe_payment_intent: str | None = None


class PaymentSucceeded(PaymentRecord):
    event_type: ClassVar[str] = "booking.payment.succeeded.v1"


class PaymentFailed(PaymentRecord):
    event_type: ClassVar[str] = "booking.payment.failed.v1"
    failure_reason: str | None = None


class PaymentRefunded(PaymentRecord):
    event_type: ClassVar[str] = "booking.payment.refunded.v1"
    # Added by the payments feature (optional, additive): this refund and the running total.
    refund_id: str | None = None
    refund_minor: int | None = None
    refunded_total_minor: int | None = None
