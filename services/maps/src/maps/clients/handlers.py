"""booking's client and session events, translated into the client projection."""

from __future__ import annotations

from typing import Any

from kit.events.consumer import HandlerContext, Subscription
from kit.events.contracts.booking import (
    ClientCreated,
    ClientDeleted,
    ClientRecord,
    ClientUpdated,
    SessionBooked,
    SessionCancelled,
    SessionRecord,
    SessionRescheduled,
)
from maps.clients.repository import ClientProjection
from maps.geocoding.address import normalise


class ProjectionHandlers:
    def __init__(self, projection: ClientProjection, *, default_country: str) -> None:
        self._projection = projection
        self._default_country = default_country

    async def client_changed(self, event: ClientRecord, ctx: HandlerContext) -> None:
        postal_code = normalise(event.address, default_country=self._default_country).postal_code
        await self._projection.apply_client(ctx, event, postal_code)

    async def client_deleted(self, event: ClientDeleted, ctx: HandlerContext) -> None:
        await self._projection.apply_deleted(ctx, event.client_id)

    async def session_changed(self, event: SessionRecord, ctx: HandlerContext) -> None:
        # The summary is recomputed even when the event was seen before: it is idempotent, and
        # it repairs a client document rebuilt after the sessions were already projected.
        for client_id in await self._projection.apply_session(ctx, event):
            await self._projection.refresh_session_summary(client_id)

    async def session_cancelled(self, event: SessionCancelled, ctx: HandlerContext) -> None:
        for client_id in await self._projection.apply_cancelled(ctx, event.session_id):
            await self._projection.refresh_session_summary(client_id)

    def subscriptions(self) -> list[Subscription[Any]]:
        return [
            Subscription(ClientCreated, self.client_changed),
            Subscription(ClientUpdated, self.client_changed),
            Subscription(ClientDeleted, self.client_deleted),
            Subscription(SessionBooked, self.session_changed),
            Subscription(SessionRescheduled, self.session_changed),
            Subscription(SessionCancelled, self.session_cancelled),
        ]
