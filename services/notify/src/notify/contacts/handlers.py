"""Other services' events, translated at the edge: the projection is kept, then the rules
the event triggers are planned. Every write is idempotent (apply-once records, derived
action ids), so a redelivered event changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from kit.events.consumer import HandlerContext, Subscription
from kit.events.contracts import booking, delivery, workflow
from notify.contacts.repository import ContactBook
from notify.schedule.planner import Occurrence, Planner


def _money(minor: int | None, currency: str | None) -> str | None:
    if minor is None:
        return None
    return f"{minor / 100:.2f} {(currency or '').upper()}".strip()


def _client_fields(event: booking.ClientRecord) -> dict[str, Any]:
    sms = next((p.number for p in event.phones if p.sms), None)
    name = " ".join(n for n in (event.first_name, event.last_name) if n) or event.organization
    fields: dict[str, Any] = {
        "client_id": event.client_id,
        "first_name": event.first_name,
        "last_name": event.last_name,
        "name": name,
        "email": event.email,
        "phone": event.phone,
        "sms_phone": sms,
        "marketing_consent": event.marketing_consent,
        "deleted": False,
    }
    if event.marketing_consent:
        fields["unsubscribed_at"] = None  # consented again: a later unsubscribe counts
    return fields


class EventHandlers:
    def __init__(
        self, contacts: ContactBook, planner: Planner, woken: Callable[[list[str]], None]
    ) -> None:
        self._contacts = contacts
        self._planner = planner
        # Told of actions due at once, so the dispatcher sends them without waiting a poll.
        self._woken = woken

    async def _plan(self, occurrence: Occurrence) -> None:
        due = await self._planner.plan(occurrence)
        if due:
            self._woken(due)

    async def on_client(self, event: booking.ClientRecord, context: HandlerContext) -> None:
        await self._contacts.record_client(context, _client_fields(event))
        if isinstance(event, booking.ClientCreated):
            await self._plan(
                Occurrence(
                    trigger="client.created",
                    entity_kind="client",
                    entity_id=event.client_id,
                    occurrence=context.event_id,
                    at=context.envelope.time,
                    client_id=event.client_id,
                )
            )

    async def on_client_deleted(
        self, event: booking.ClientDeleted, context: HandlerContext
    ) -> None:
        await self._contacts.forget_client(context, event.client_id)
        await self._planner.cancel_client(event.client_id, context.envelope.time)

    async def on_session(self, event: booking.SessionRecord, context: HandlerContext) -> None:
        await self._contacts.record(
            context,
            "session",
            event.session_id,
            {
                "client_id": event.client_id,
                "session_id": event.session_id,
                "session_number": event.session_number,
                "session_type_id": event.session_type_id,
                "starts_at": event.starts_at,
                "ends_at": event.ends_at,
                "location": event.location,
                "cancelled": False,
            },
        )
        rescheduled = isinstance(event, booking.SessionRescheduled)
        if rescheduled:
            await self._planner.move_session(
                event.session_id, event.starts_at, context.envelope.time
            )
        await self._plan(
            Occurrence(
                trigger="session.rescheduled" if rescheduled else "session.booked",
                entity_kind="session",
                entity_id=event.session_id,
                occurrence=context.event_id,
                at=context.envelope.time,
                client_id=event.client_id,
                session_id=event.session_id,
                session_type_id=event.session_type_id,
            )
        )

    async def on_session_cancelled(
        self, event: booking.SessionCancelled, context: HandlerContext
    ) -> None:
        await self._contacts.record(context, "session", event.session_id, {"cancelled": True})
        # Cancel first: the rules this cancellation triggers are planned after it.
        await self._planner.cancel_session(event.session_id, context.envelope.time)
        session = await self._contacts.get("session", event.session_id)
        await self._plan(
            Occurrence(
                trigger="session.cancelled",
                entity_kind="session",
                entity_id=event.session_id,
                occurrence=context.event_id,
                at=context.envelope.time,
                client_id=session.get("client_id") if session else None,
                session_id=event.session_id,
                session_type_id=session.get("session_type_id") if session else None,
                facts={"reason": event.reason},
            )
        )

    async def on_payment(self, event: booking.PaymentSucceeded, context: HandlerContext) -> None:
        facts = {"amount": _money(event.amount_minor, event.currency)}
        if event.invoice_id is not None:
            invoice = await self._contacts.get("invoice", event.invoice_id)
            trigger, kind, entity_id = "invoice.paid", "invoice", event.invoice_id
            session_id = event.session_id or (invoice or {}).get("session_id")
        elif event.session_id is not None:
            trigger, kind, entity_id = "deposit.paid", "session", event.session_id
            session_id = event.session_id
        else:
            return
        session = await self._contacts.get("session", session_id) if session_id else None
        await self._plan(
            Occurrence(
                trigger=trigger,
                entity_kind=kind,
                entity_id=entity_id,
                occurrence=context.event_id,
                at=context.envelope.time,
                client_id=event.client_id,
                session_id=session_id,
                session_type_id=session.get("session_type_id") if session else None,
                facts=facts,
            )
        )

    async def on_invoice_created(
        self, event: workflow.InvoiceCreated, context: HandlerContext
    ) -> None:
        await self._contacts.record(
            context,
            "invoice",
            event.invoice_id,
            {
                "client_id": event.client_id,
                "session_id": event.session_id,
                "total": _money(event.total_minor, event.currency),
                "amount_due": _money(event.amount_due_minor, event.currency),
            },
        )
        await self._plan(
            Occurrence(
                trigger="invoice.created",
                entity_kind="invoice",
                entity_id=event.invoice_id,
                occurrence=context.event_id,
                at=context.envelope.time,
                client_id=event.client_id,
                session_id=event.session_id,
            )
        )

    async def on_status(self, event: workflow.StatusChange, context: HandlerContext) -> None:
        session_id = event.session_id or (
            event.entity_id if event.entity_kind == "session" else None
        )
        if event.entity_kind != "session":
            await self._contacts.record(
                context,
                event.entity_kind,
                event.entity_id,
                {"session_id": session_id, "status": event.to_status_name or event.to_status},
            )
        session = await self._contacts.get("session", session_id) if session_id else None
        client_id = session.get("client_id") if session else None
        if event.entity_kind == "invoice":
            invoice = await self._contacts.get("invoice", event.entity_id)
            client_id = (invoice or {}).get("client_id", client_id)
        await self._plan(
            Occurrence(
                trigger=f"{event.entity_kind}.status",
                entity_kind=event.entity_kind,
                entity_id=event.entity_id,
                occurrence=context.event_id,
                at=event.changed_at,
                client_id=client_id,
                session_id=session_id,
                session_type_id=event.session_type_id
                or (session.get("session_type_id") if session else None),
                status=event.to_status_name or event.to_status,
                due_date=event.due_date,
                facts={"status": event.to_status_name or event.to_status},
            )
        )

    async def on_delivery_ready(
        self, event: delivery.DeliveryReady, context: HandlerContext
    ) -> None:
        session = (
            await self._contacts.get("session", event.session_id) if event.session_id else None
        )
        facts = {
            "delivery_id": event.delivery_id,
            "title": event.title or "your images",
            "expires_at": event.expires_at,
            "file_count": event.file_count,
            "recipient_email": event.recipient_email,
            "recipient_name": event.recipient_name,
        }
        # Kept for previews (without the link: only the message carries it).
        await self._contacts.record(
            context, "delivery", event.link_id, {"session_id": event.session_id, **facts}
        )
        await self._plan(
            Occurrence(
                trigger="delivery.ready",
                entity_kind="delivery",
                # One message per link: a delivery sent to two people is two links.
                entity_id=event.link_id,
                occurrence=context.event_id,
                at=context.envelope.time,
                client_id=session.get("client_id") if session else None,
                session_id=event.session_id,
                session_type_id=session.get("session_type_id") if session else None,
                facts={**facts, "link_url": event.link_url},
            )
        )

    def subscriptions(self) -> Sequence[Subscription[Any]]:
        return [
            Subscription(booking.ClientCreated, self.on_client),
            Subscription(booking.ClientUpdated, self.on_client),
            Subscription(booking.ClientDeleted, self.on_client_deleted),
            Subscription(booking.SessionBooked, self.on_session),
            Subscription(booking.SessionRescheduled, self.on_session),
            Subscription(booking.SessionCancelled, self.on_session_cancelled),
            Subscription(booking.PaymentSucceeded, self.on_payment),
            Subscription(workflow.InvoiceCreated, self.on_invoice_created),
            Subscription(workflow.SessionStatusChanged, self.on_status),
            Subscription(workflow.InvoiceStatusChanged, self.on_status),
            Subscription(workflow.ProductionOrderStatusChanged, self.on_status),
            Subscription(delivery.DeliveryReady, self.on_delivery_ready),
        ]
