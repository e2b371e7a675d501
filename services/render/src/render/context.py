"""What the render service's code reaches: its database, S3, settings and the outbox relay."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from pymongo.asynchronous.database import AsyncDatabase

from kit.app import Platform, PlatformDep
from kit.events.envelope import Envelope, EventPayload, source_of
from kit.mongo import Document
from kit.storage import S3Storage
from render.config import RenderSettings


@dataclass(frozen=True)
class RenderContext:
    db: AsyncDatabase[Document]
    storage: S3Storage
    settings: RenderSettings
    platform: Platform

    @property
    def bucket(self) -> str:
        return self.settings.infra.images_bucket

    def event(self, payload: EventPayload, *, subject: str) -> Envelope:
        return Envelope.wrap(payload, subject=subject, source=source_of("render"))

    def events_written(self, collection: str, *document_ids: str) -> None:
        """Wake the outbox relay for the documents that just got events."""
        if self.platform.relay is not None:
            self.platform.relay.notify(collection, *document_ids)


def context_of(platform: Platform) -> RenderContext:
    settings = platform.settings
    assert isinstance(settings, RenderSettings)
    return RenderContext(platform.db, platform.storage, settings, platform)


def get_context(platform: PlatformDep) -> RenderContext:
    return context_of(platform)


ContextDep = Annotated[RenderContext, Depends(get_context)]
