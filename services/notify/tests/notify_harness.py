"""The notify tests' harness: the service in-process on a database of its own, the mails a
real SMTP server received, the fake SMS gateway, and events fed through notify's real
handlers. The dispatcher does not run by itself: tests call it with the moment they mean."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx
from fake_sms_gateway import SmsGateway, running_sms_gateway
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from kit.app import Platform
from kit.events.consumer import HandlerContext
from kit.events.envelope import Envelope
from kit.mongo import Document
from kit.testing import build_app, running
from notify.bootstrap import NotifyServices, services_of
from notify.schedule.dispatcher import DispatchReport

UNSUBSCRIBE_SECRET = "unsubscribe-secret-for-tests"


@dataclass
class Inbox:
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def plain(mail: EmailMessage) -> str:
    """A mail's text part."""
    body = mail.get_body(("plain",))
    assert body is not None, "the mail has no text part"
    return str(body.get_content())


@dataclass
class Notify:
    http: httpx.AsyncClient
    platform: Platform
    services: NotifyServices
    inbox: Inbox
    sms: SmsGateway

    @property
    def db(self) -> AsyncDatabase[Document]:
        return self.platform.db

    async def deliver(self, event: Envelope) -> None:
        """The event through notify's own handler for it, as the consumer would."""
        for subscription in self.services.handlers.subscriptions():
            if subscription.contract.event_type == event.type:
                payload = event.payload(subscription.contract)
                await subscription.handler(payload, HandlerContext(event))
                return
        raise AssertionError(f"notify does not handle {event.type}")

    async def dispatch(self, now: datetime | None = None) -> DispatchReport:
        return await self.services.dispatcher.run_due(now)

    async def actions(self, **selector: Any) -> list[Document]:
        return await self.db["actions"].find(selector).sort("due_at", 1).to_list()

    async def action_of(self, rule_id: str, **selector: Any) -> Document:
        found = await self.actions(rule_id=rule_id, **selector)
        assert len(found) == 1, found
        return found[0]


@contextlib.asynccontextmanager
async def started_notify(
    unique: str, mongo: AsyncMongoClient[Document], inbox: Inbox, port: int, **overrides: Any
) -> AsyncIterator[Notify]:
    database = f"t_notify_{unique}"
    async with running_sms_gateway() as gateway:
        settings: dict[str, Any] = {
            "database": database,
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_sender": "studio@studio.test",
            "studio_name": "Lumen Studio",
            "public_base_url": "https://studio.test",
            "unsubscribe_secret": UNSUBSCRIBE_SECRET,
            "sms_url": gateway.url,
            "sms_api_key": gateway.api_key,
            "dispatcher": False,
            "quiet_hours_sms": "",
            "outbox_poll_seconds": 0.1,
            **overrides,
        }
        app = build_app("notify", **settings)
        try:
            async with running(app) as client:
                platform: Platform = app.state.platform
                yield Notify(client, platform, services_of(platform), inbox, gateway)
        finally:
            await mongo.drop_database(database)
