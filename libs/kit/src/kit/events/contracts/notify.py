"""Events produced by the notify service on topic `notify.events`.

The Kafka key is the scheduled action's id for messages, the client id for unsubscribes.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from kit.events.envelope import EventPayload

TOPIC = "notify.events"

Channel = Literal["email", "sms", "task", "call"]


class _NotifyEvent(EventPayload):
    topic: ClassVar[str] = TOPIC


class MessageRecord(_NotifyEvent):
    action_id: str
    rule_id: str
    channel: Channel
    entity_kind: str
    entity_id: str
    client_id: str | None = None
    # The address, number, or (tasks and calls) None.
    recipient: str | None = None
    subject: str | None = None


class MessageSent(MessageRecord):
    event_type: ClassVar[str] = "notify.message.sent.v1"
    sent_at: datetime
    message_id: str | None = None
    # The SHA-256 of each document the message carried (an invoice PDF), as workflow printed it.
    attachment_sha256: list[str] = Field(default_factory=list)


class MessageFailed(MessageRecord):
    """Given up: retries spent, no way to reach the client, or too late to be useful."""

    event_type: ClassVar[str] = "notify.message.failed.v1"
    failed_at: datetime
    reason: str


class ClientUnsubscribed(_NotifyEvent):
    """The client used an unsubscribe link: no more marketing messages (booking records it)."""

    event_type: ClassVar[str] = "notify.client.unsubscribed.v1"
    client_id: str
    unsubscribed_at: datetime
    # The scheduled action whose message carried the link, when known.
    action_id: str | None = None
