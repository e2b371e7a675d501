"""Events produced by the delivery service on topic `delivery.events` (key: delivery id)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from kit.events.envelope import EventPayload

TOPIC = "delivery.events"


class _DeliveryEvent(EventPayload):
    topic: ClassVar[str] = TOPIC


class DeliveryReady(_DeliveryEvent):
    event_type: ClassVar[str] = "delivery.delivery.ready.v1"
    delivery_id: str
    session_id: str | None = None
    link_id: str
    link_url: str
    recipient_email: str | None = None
    expires_at: datetime
    # Additive, optional (delivery issue): what the notification needs besides the link.
    recipient_name: str | None = None
    run_id: str | None = None
    pin_required: bool | None = None
    file_count: int | None = None
    total_bytes: int | None = None
    # Additive, optional (notify): the delivery's title, for the client's message.
    title: str | None = None


class DeliveryDownloaded(_DeliveryEvent):
    event_type: ClassVar[str] = "delivery.delivery.downloaded.v1"
    delivery_id: str
    link_id: str
    file_name: str
    bytes: int
    downloaded_at: datetime
    # Additive, optional (delivery issue).
    session_id: str | None = None
    kind: str | None = None  # "file" or "archive"


class DeliveryExpired(_DeliveryEvent):
    event_type: ClassVar[str] = "delivery.delivery.expired.v1"
    delivery_id: str
    link_id: str
    expired_at: datetime
    session_id: str | None = None


class DeliveryFailed(_DeliveryEvent):
    """Packaging failed; nothing of the delivery was published."""

    event_type: ClassVar[str] = "delivery.delivery.failed.v1"
    delivery_id: str
    session_id: str | None = None
    run_id: str | None = None
    reason: str
    failed_at: datetime
