"""booking's client and session events reach the maps projection through Kafka, exactly as the
consumer process runs them; an emptied projection is rebuilt from the topic."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from kit.consumers import consume
from kit.events.contracts.booking import (
    ClientCreated,
    ClientDeleted,
    ClientUpdated,
    PostalAddress,
    SessionBooked,
    SessionCancelled,
)
from kit.events.envelope import Envelope, EventPayload, source_of
from kit.events.kafka import EventPublisher, ensure_topics
from kit.settings import InfraSettings
from kit.testing import eventually
from maps.config import MapsSettings
from maps.consumers import group_id, subscriptions
from maps.main import service_spec

MAY = datetime(2026, 5, 2, 15, tzinfo=UTC)


def event(payload: EventPayload, subject: str) -> Envelope:
    return Envelope.wrap(payload, subject=subject, source=source_of("booking"))


def session(session_id: str, client_id: str, type_id: str, at: datetime) -> SessionBooked:
    return SessionBooked(
        session_id=session_id,
        session_number=session_id,
        client_id=client_id,
        session_type_id=type_id,
        starts_at=at,
        ends_at=at,
    )


@contextlib.asynccontextmanager
async def consumer(settings: MapsSettings) -> AsyncIterator[str]:
    """`python -m maps.consumers`, in-process: the group it chose, while it runs."""
    group = await group_id(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(
        consume(
            settings,
            service_spec(api=False),
            group_id=group,
            topics=[settings.booking_topic],
            subscriptions=subscriptions,
            stop=stop,
        )
    )
    try:
        yield group
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_client_and_session_events_build_the_projection_and_an_emptied_one_is_rebuilt(
    maps: Any, infra: InfraSettings, unique: str
) -> None:
    topic = f"t.{unique}.booking.events"
    settings = MapsSettings(
        database=maps.db.name, booking_topic=topic, consumer_group=f"maps-{unique}"
    )
    await ensure_topics(infra.kafka_bootstrap, [topic])
    old_address = PostalAddress(street="1 Elm St", postal_code="14623")
    new_address = PostalAddress(street="9 Beacon St", postal_code="02134")
    events = [
        event(ClientCreated(client_id="ann", first_name="Ann", address=old_address), "ann"),
        event(
            ClientUpdated(
                client_id="ann",
                first_name="Ann",
                address=new_address,
                tags=["senior"],
                organization="Lincoln High",
            ),
            "ann",
        ),
        event(ClientCreated(client_id="bob", address=old_address), "bob"),
        event(ClientCreated(client_id="cy", address=old_address), "cy"),
        event(ClientDeleted(client_id="cy"), "cy"),
        event(session("s1", "ann", "senior-portrait", MAY), "s1"),
        event(session("s2", "bob", "family", MAY), "s2"),
        event(SessionCancelled(session_id="s2", session_number="s2"), "s2"),
        event(session("s3", "cy", "family", MAY), "s3"),  # late, for a deleted client
    ]
    publisher = EventPublisher(infra.kafka_bootstrap, client_id="test-booking")
    try:
        await publisher.publish_many(topic, events)
    finally:
        await publisher.stop()

    async def projected() -> bool:
        ann = await maps.http.get("/clients/ann")
        bob = await maps.http.get("/clients/bob")
        return (
            ann.status_code == 200
            and ann.json()["session_type_ids"] == ["senior-portrait"]
            and bob.status_code == 200
            and await maps.db["sessions"].count_documents({"cancelled": True}) == 1
            and await maps.db["sessions"].count_documents({}) == 3
        )

    async def check_projection() -> None:
        ann = (await maps.http.get("/clients/ann")).json()
        assert (ann["postal_code"], ann["street"], ann["tags"]) == (
            "02134",
            "9 Beacon St",
            ["senior"],
        )
        assert ann["organization"] == "Lincoln High"
        assert ann["last_session_at"].startswith("2026-05-02T15:00")
        bob = (await maps.http.get("/clients/bob")).json()
        assert (bob["session_type_ids"], bob["last_session_at"]) == ([], None)
        assert (await maps.http.get("/clients/cy")).status_code == 404
        summary = await maps.drawn("heat", {"selection": {"filter": {}}})
        assert summary["clients_selected"] == 2

    async with consumer(settings) as first_group:
        await eventually(projected, timeout=60, what="the events projected")
    await check_projection()

    # The projection is lost (a wiped database, a dropped collection): a new start rebuilds it.
    await maps.db["clients"].drop()
    await maps.db["sessions"].drop()
    assert (await maps.http.get("/clients/ann")).status_code == 404
    async with consumer(settings) as second_group:
        assert second_group != first_group
        await eventually(projected, timeout=60, what="the projection rebuilt from the topic")
    await check_projection()

    # With a projection in place, a restart keeps its group (and its committed offsets).
    assert await group_id(settings) == second_group
