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


class DeliveryDownloaded(_DeliveryEvent):
    event_type: ClassVar[str] = "delivery.delivery.downloaded.v1"
    delivery_id: str
    link_id: str
    file_name: str
    bytes: int
    downloaded_at: datetime


class DeliveryExpired(_DeliveryEvent):
    event_type: ClassVar[str] = "delivery.delivery.expired.v1"
    delivery_id: str
    link_id: str
    expired_at: datetime
