"""What the delivery service's code reaches: its database, S3, settings and the outbox relay."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from pymongo.asynchronous.database import AsyncDatabase

from delivery.config import DeliverySettings
from kit.app import Platform, PlatformDep
from kit.events.envelope import Envelope, EventPayload, source_of
from kit.mongo import Document
from kit.storage import S3Storage


@dataclass(frozen=True)
class DeliveryContext:
    db: AsyncDatabase[Document]
    storage: S3Storage
    settings: DeliverySettings
    platform: Platform

    def event(self, payload: EventPayload, *, delivery_id: str) -> Envelope:
        """An event keyed by its delivery, so one delivery's events stay in order."""
        return Envelope.wrap(payload, subject=delivery_id, source=source_of("delivery"))

    def events_written(self, collection: str, *document_ids: str) -> None:
        """Wake the outbox relay after a write that gave events to these documents of
        `collection`: it reads just those (a scan of every outbox collection is left to its
        start and its periodic pass, which find what a crash left)."""
        if self.platform.relay is not None:
            self.platform.relay.notify(collection, *document_ids)


def context_of(platform: Platform) -> DeliveryContext:
    settings = platform.settings
    assert isinstance(settings, DeliverySettings)
    return DeliveryContext(platform.db, platform.storage, settings, platform)


def get_context(platform: PlatformDep) -> DeliveryContext:
    return context_of(platform)


ContextDep = Annotated[DeliveryContext, Depends(get_context)]
