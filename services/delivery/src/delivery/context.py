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

PRESIGNER = "delivery_presigner"


@dataclass(frozen=True)
class DeliveryContext:
    db: AsyncDatabase[Document]
    storage: S3Storage
    settings: DeliverySettings
    platform: Platform

    @property
    def presigner(self) -> S3Storage:
        """Signs the download URLs clients follow: for the public S3 endpoint when one is set
        (SigV4 signs the host, so a URL signed for the internal address fails at the public
        one)."""
        return presigner_of(self.platform)

    def event(self, payload: EventPayload, *, delivery_id: str) -> Envelope:
        """An event keyed by its delivery, so one delivery's events stay in order."""
        return Envelope.wrap(payload, subject=delivery_id, source=source_of("delivery"))

    def events_written(self, collection: str, *document_ids: str) -> None:
        """Wake the outbox relay after a write that gave events to these documents of
        `collection`: it reads just those (a scan of every outbox collection is left to its
        start and its periodic pass, which find what a crash left)."""
        if self.platform.relay is not None:
            self.platform.relay.notify(collection, *document_ids)


def presigner_of(platform: Platform) -> S3Storage:
    """The storage client that signs download URLs: the service's own one, or (made once per
    process) one configured for `DELIVERY_PUBLIC_S3_ENDPOINT_URL`."""
    settings = platform.settings
    assert isinstance(settings, DeliverySettings)
    if not settings.public_s3_endpoint_url:
        return platform.storage
    presigner = platform.extras.get(PRESIGNER)
    if not isinstance(presigner, S3Storage):
        public = settings.infra.model_copy(
            update={"s3_endpoint_url": settings.public_s3_endpoint_url}
        )
        presigner = S3Storage(public)
        platform.extras[PRESIGNER] = presigner
    return presigner


async def open_presigner(platform: Platform) -> None:
    presigner_of(platform)  # made at start rather than on the first download


async def close_presigner(platform: Platform) -> None:
    presigner = platform.extras.pop(PRESIGNER, None)
    if isinstance(presigner, S3Storage):
        presigner.close()


def context_of(platform: Platform) -> DeliveryContext:
    settings = platform.settings
    assert isinstance(settings, DeliverySettings)
    return DeliveryContext(platform.db, platform.storage, settings, platform)


def get_context(platform: PlatformDep) -> DeliveryContext:
    return context_of(platform)


ContextDep = Annotated[DeliveryContext, Depends(get_context)]
