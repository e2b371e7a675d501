"""What one action says and to whom: the record's fields for the templates, the channel the
client can be reached on (the rule's, else its fallbacks in order), and whether it may go at
all (marketing needs consent). Used to send, and to preview without sending."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from kit.mongo import Document
from notify.config import NotifySettings
from notify.contacts.repository import ContactBook
from notify.messages.templates import RenderedMessage, render
from notify.messages.unsubscribe import unsubscribe_token


@dataclass(frozen=True)
class Composed:
    channel: str
    # An email address, an SMS number, or None for a staff task or call record.
    recipient: str | None
    rendered: RenderedMessage
    unsubscribe_url: str | None
    client: Document | None
    fields: dict[str, Any]
    # The invoice to attach (emails of invoice rules that ask for it).
    attach_invoice_id: str | None = None


@dataclass(frozen=True)
class NotSent:
    reason: str


def _local(value: datetime, zone: ZoneInfo) -> datetime:
    return value.astimezone(zone)


def _day(value: datetime) -> str:
    return f"{value:%A} {value.day} {value:%B %Y}"


class Composer:
    def __init__(
        self,
        settings: NotifySettings,
        contacts: ContactBook,
        *,
        can_email: bool,
        can_sms: bool,
    ) -> None:
        self._settings = settings
        self._contacts = contacts
        self._can_email = can_email
        self._can_sms = can_sms

    async def compose(self, rule: Document, action: Document) -> Composed | NotSent:
        settings = self._settings
        client = await self._contacts.contact(action.get("client_id"))
        facts: dict[str, Any] = action.get("facts") or {}
        if client is not None and client.get("deleted"):
            return NotSent("the client was deleted")
        marketing = rule["purpose"] == "marketing"
        if marketing:
            if client is None or client.get("marketing_consent") is not True:
                return NotSent("the client has not agreed to marketing messages")
            if settings.unsubscribe_secret is None:
                return NotSent("marketing needs unsubscribe links (NOTIFY_UNSUBSCRIBE_SECRET)")
        channel, recipient = self._reach(rule, action, client, facts)
        if channel is None:
            return NotSent("no way to reach the client (no email or SMS number, or none set up)")
        unsubscribe_url = None
        if channel == "email" and client is not None and settings.unsubscribe_secret:
            token = unsubscribe_token(
                settings.unsubscribe_secret.get_secret_value().encode(), client["_id"]
            )
            unsubscribe_url = f"{settings.public_base_url.rstrip('/')}/u/{token}"
        fields = await self.fields(action, client, facts, unsubscribe_url)
        rendered = render(rule.get("subject", ""), rule["body"], fields)
        attach = (
            action["entity_id"]
            if channel == "email"
            and rule.get("attach_invoice")
            and action["entity_kind"] == "invoice"
            else None
        )
        return Composed(channel, recipient, rendered, unsubscribe_url, client, fields, attach)

    def _reach(
        self, rule: Document, action: Document, client: Document | None, facts: dict[str, Any]
    ) -> tuple[str | None, str | None]:
        for channel in (rule["channel"], *rule.get("fallbacks", [])):
            if channel == "email" and self._can_email:
                address = facts.get("recipient_email") or (client or {}).get("email")
                if address:
                    return channel, address
            elif channel == "sms" and self._can_sms:
                number = (client or {}).get("sms_phone")
                if number:
                    return channel, number
            elif channel in ("task", "call"):
                return channel, None
        return None, None

    async def fields(
        self,
        action: Document,
        client: Document | None,
        facts: dict[str, Any],
        unsubscribe_url: str | None,
    ) -> dict[str, Any]:
        zone = self._settings.zone
        fields: dict[str, Any] = {
            "studio": {"name": self._settings.studio_name},
            "client": {
                "first_name": (client or {}).get("first_name") or facts.get("recipient_name"),
                "last_name": (client or {}).get("last_name"),
                "name": (client or {}).get("name") or facts.get("recipient_name") or "",
                "email": (client or {}).get("email"),
                "phone": (client or {}).get("phone"),
            },
            "unsubscribe_url": unsubscribe_url,
        }
        if action.get("session_id"):
            session = await self._contacts.get("session", action["session_id"])
            if session is not None:
                starts = _local(session["starts_at"], zone)
                fields["session"] = {
                    "number": session.get("session_number"),
                    "starts_at": f"{_day(starts)} at {starts:%H:%M}",
                    "date": _day(starts),
                    "time": f"{starts:%H:%M}",
                    "location": session.get("location"),
                }
        if action["entity_kind"] == "invoice":
            invoice = await self._contacts.get("invoice", action["entity_id"]) or {}
            fields["invoice"] = {
                "id": action["entity_id"],
                "total": invoice.get("total"),
                "amount_due": invoice.get("amount_due"),
            }
        if "amount" in facts:
            fields["payment"] = {"amount": facts["amount"]}
        if "status" in facts:
            fields["status"] = {"name": facts["status"]}
        if action["entity_kind"] == "delivery":
            expires = facts.get("expires_at")
            fields["delivery"] = {
                "title": facts.get("title"),
                "link_url": facts.get("link_url"),
                "expires": _day(_local(expires, zone)) if isinstance(expires, datetime) else None,
                "file_count": facts.get("file_count"),
            }
        return fields
