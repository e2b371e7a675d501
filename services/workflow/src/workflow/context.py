"""What the workflow's services need from the opened platform, reached as one typed dependency."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Query
from pymongo.asynchronous.database import AsyncDatabase

from kit.app import Platform, PlatformDep
from kit.mongo import Document
from kit.storage import S3Storage
from workflow.config import WorkflowSettings


@dataclass(frozen=True)
class WorkflowContext:
    db: AsyncDatabase[Document]
    storage: S3Storage
    settings: WorkflowSettings
    platform: Platform

    def events_written(self, collection: str, *document_ids: str) -> None:
        """Wake the outbox relay after a write that gave events to these documents of
        `collection`: it reads just those (a scan of every outbox collection is left to its
        start and its periodic pass, which find what a crash left)."""
        if self.platform.relay is not None:
            self.platform.relay.notify(collection, *document_ids)


def context_of(platform: Platform) -> WorkflowContext:
    settings = platform.settings
    if not isinstance(settings, WorkflowSettings):
        raise TypeError("the workflow service runs with WorkflowSettings")
    return WorkflowContext(platform.db, platform.storage, settings, platform)


def get_context(platform: PlatformDep) -> WorkflowContext:
    return context_of(platform)


ContextDep = Annotated[WorkflowContext, Depends(get_context)]


@dataclass(frozen=True)
class Actor:
    """Who makes a request, as the gateway states it (`X-User-Id`, `X-User-Role`)."""

    user_id: str
    role: str | None

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"


def get_actor(
    x_user_id: Annotated[str | None, Header(max_length=200)] = None,
    x_user_role: Annotated[str | None, Header(max_length=50)] = None,
) -> Actor:
    return Actor(user_id=x_user_id or "anonymous", role=x_user_role)


ActorDep = Annotated[Actor, Depends(get_actor)]

# Where a listing starts; bounded, since MongoDB's skip is a 64-bit integer (a larger one was a
# 500 before the query was even sent).
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
