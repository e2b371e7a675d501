"""Small factories of the events notify consumes, as their producers make them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kit.events.contracts import booking, delivery, workflow
from kit.events.envelope import Envelope, EventPayload, source_of

NOW = datetime.now(UTC).replace(microsecond=0)


def envelope(
    payload: EventPayload, subject: str, *, service: str = "booking", at: datetime | None = None
) -> Envelope:
    event = Envelope.wrap(payload, subject=subject, source=source_of(service))
    return event.model_copy(update={"time": at}) if at is not None else event


def client(
    client_id: str,
    *,
    email: str | None = None,
    sms: str | None = None,
    consent: bool | None = None,
    first_name: str = "Ada",
    at: datetime | None = None,
    updated: bool = False,
) -> Envelope:
    kind = booking.ClientUpdated if updated else booking.ClientCreated
    phones = [booking.PhoneNumber(number=sms, sms=True)] if sms else []
    return envelope(
        kind(
            client_id=client_id,
            first_name=first_name,
            last_name="Lovelace",
            email=email,
            phone=sms,
            phones=phones,
            marketing_consent=consent,
        ),
        client_id,
        at=at,
    )


def booked(
    session_id: str,
    client_id: str,
    starts_at: datetime,
    *,
    at: datetime | None = None,
    session_type_id: str = "portrait",
    rescheduled: bool = False,
) -> Envelope:
    kind = booking.SessionRescheduled if rescheduled else booking.SessionBooked
    return envelope(
        kind(
            session_id=session_id,
            session_number=f"S-{session_id[-4:]}",
            client_id=client_id,
            session_type_id=session_type_id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=1),
            location="Studio A",
        ),
        session_id,
        at=at or NOW,
    )


def cancelled(session_id: str, *, at: datetime | None = None) -> Envelope:
    return envelope(
        booking.SessionCancelled(session_id=session_id, session_number=f"S-{session_id[-4:]}"),
        session_id,
        at=at or NOW,
    )


def deposit(session_id: str, client_id: str, amount_minor: int = 5000) -> Envelope:
    return envelope(
        booking.PaymentSucceeded(
            payment_id=f"pay_{session_id}",
            client_id=client_id,
            amount_minor=amount_minor,
            currency="usd",
            session_id=session_id,
        ),
        f"pay_{session_id}",
    )


def status_changed(
    session_id: str, status: str, *, at: datetime | None = None, version: int = 2
) -> Envelope:
    moment = at or NOW
    return envelope(
        workflow.SessionStatusChanged(
            entity_kind="session",
            entity_id=session_id,
            session_id=session_id,
            from_status="st_1",
            to_status="st_2",
            to_status_name=status,
            changed_by="user_1",
            changed_at=moment,
            version=version,
        ),
        session_id,
        service="workflow",
        at=moment,
    )


def delivery_ready(
    link_id: str, session_id: str, *, email: str | None = None, title: str = "Portraits"
) -> Envelope:
    return envelope(
        delivery.DeliveryReady(
            delivery_id=f"dlv_{link_id}",
            session_id=session_id,
            link_id=link_id,
            link_url=f"https://studio.test/d/token-of-{link_id}",
            recipient_email=email,
            expires_at=NOW + timedelta(days=30),
            file_count=12,
            title=title,
        ),
        f"dlv_{link_id}",
        service="delivery",
    )
