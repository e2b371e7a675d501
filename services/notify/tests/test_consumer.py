"""The consumer process as it runs: events from Kafka into the schedule, its dispatcher
sending what falls due, nothing sent twice when the events come again or the process
restarts; and the unsubscribe announced on Kafka, recorded by booking on the client."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from notify_events import NOW, booked, client
from notify_harness import UNSUBSCRIBE_SECRET, Inbox
from pymongo import AsyncMongoClient

from kit.consumers import consume
from kit.events.contracts.booking import TOPIC as BOOKING
from kit.events.contracts.notify import TOPIC as NOTIFY
from kit.events.kafka import EventPublisher, ensure_topics
from kit.mongo import Document
from kit.settings import InfraSettings
from kit.testing import eventually, read_topic, running
from notify.config import NotifySettings
from notify.main import service_spec
from notify.messages.unsubscribe import unsubscribe_token


def consumer_process(settings: NotifySettings) -> contextlib.AbstractAsyncContextManager[None]:
    """`python -m notify.consumers`, in this event loop: its handlers and its dispatcher."""
    from notify.consumers import subscriptions

    return consuming(settings, service_spec(api=False), [BOOKING], subscriptions)


@pytest.fixture
async def kafka_notify(
    infra: InfraSettings,
    unique: str,
    mongo: AsyncMongoClient[Document],
    smtp: tuple[Inbox, int],
) -> AsyncIterator[tuple[NotifySettings, EventPublisher, Inbox]]:
    inbox, port = smtp
    prefix = f"t{unique}."
    await ensure_topics(infra.kafka_bootstrap, [BOOKING, NOTIFY], partitions=1, prefix=prefix)
    fields: dict[str, Any] = {
        "database": f"t_notifyc_{unique}",
        "consumer_group": f"notify-{unique}",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "unsubscribe_secret": UNSUBSCRIBE_SECRET,
        "dispatch_seconds": 0.2,
        "outbox_poll_seconds": 0.1,
        "infra": infra.model_copy(update={"topic_prefix": prefix}),
    }
    publisher = EventPublisher(infra.kafka_bootstrap, client_id="notify-tests", topic_prefix=prefix)
    await publisher.start()
    try:
        yield NotifySettings(**fields), publisher, inbox
    finally:
        await publisher.stop()
        await mongo.drop_database(fields["database"])


async def test_events_from_kafka_are_confirmed_once_across_redelivery_and_restarts(
    kafka_notify: tuple[NotifySettings, EventPublisher, Inbox],
) -> None:
    settings, publisher, inbox = kafka_notify
    created = client("cli_k", email="kafka@example.com")
    session = booked("ses_k001", "cli_k", NOW + timedelta(days=4))
    async with consumer_process(settings):
        await publisher.publish(BOOKING, created)
        await publisher.publish(BOOKING, session)
        await eventually(
            lambda: _count(inbox, 1), timeout=30, what="the confirmation through Kafka"
        )
        await publisher.publish(BOOKING, session)  # the same event again (a relay's retry)
    async with consumer_process(settings):  # a restart, reading on from its commits
        await publisher.publish(BOOKING, session)
        second = booked("ses_k002", "cli_k", NOW + timedelta(days=6))
        await publisher.publish(BOOKING, second)
        await eventually(lambda: _count(inbox, 2), timeout=30, what="the second confirmation")
        await asyncio.sleep(1.0)  # time for a wrongly repeated send to show
    subjects = [m["Subject"] for m in inbox.to("kafka@example.com")]
    assert len(subjects) == 2, subjects
    sent = await read_topic(
        settings.infra.kafka_bootstrap, settings.infra.topic_prefix + NOTIFY, 2, timeout=15
    )
    assert [r.value and b"notify.message.sent.v1" in r.value for r in sent] == [True, True]


@contextlib.asynccontextmanager
async def consuming(
    settings: Any, spec: Any, topics: list[str], subscriptions: Any
) -> AsyncIterator[None]:
    """A service's consumer process in this event loop, until the block ends."""
    stop = asyncio.Event()
    task = asyncio.create_task(
        consume(
            settings,
            spec,
            group_id=settings.consumer_group,
            topics=topics,
            subscriptions=subscriptions,
            stop=stop,
        )
    )
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


async def test_booking_withdraws_consent_when_notify_announces_an_unsubscribe(
    infra: InfraSettings, unique: str, mongo: AsyncMongoClient[Document]
) -> None:
    """The whole way: booking's client, notify's projection of it, the link used, notify's
    event on Kafka, booking's consumer, the client's consent history."""
    from booking.config import BookingSettings
    from booking.consumers import subscriptions as booking_subscriptions
    from booking.main import service_spec as booking_spec
    from notify.consumers import subscriptions as notify_subscriptions

    prefix = f"t{unique}."
    await ensure_topics(
        infra.kafka_bootstrap, [BOOKING, NOTIFY, "workflow.events"], partitions=1, prefix=prefix
    )
    here = infra.model_copy(update={"topic_prefix": prefix})
    bookings_settings = BookingSettings(
        database=f"t_bk_{unique}",
        infra=here,
        consumer_group=f"booking-{unique}",
        outbox_poll_seconds=0.1,
    )
    notify_settings = NotifySettings(
        database=f"t_nt_{unique}",
        infra=here,
        consumer_group=f"notify-{unique}",
        unsubscribe_secret=UNSUBSCRIBE_SECRET,
        outbox_poll_seconds=0.1,
        dispatcher=False,
    )
    from booking.main import create_app as booking_app
    from notify.main import create_app as notify_app

    try:
        async with (
            running(booking_app(bookings_settings)) as bookings,
            running(notify_app(notify_settings)) as notify,
            consuming(notify_settings, service_spec(api=False), [BOOKING], notify_subscriptions),
            consuming(
                bookings_settings,
                booking_spec().background_only(),
                [NOTIFY],
                booking_subscriptions,
            ),
        ):
            made = await bookings.post(
                "/clients",
                json={
                    "first_name": "Ada",
                    "email": "ada@example.com",
                    "marketing_consent": True,
                    "marketing_consent_method": "web_form",
                },
            )
            assert made.status_code == 201, made.text
            client_id = made.json()["id"]

            async def projected() -> bool:
                contact = await mongo[notify_settings.database]["contacts"].find_one(
                    {"_id": client_id}
                )
                return contact is not None and contact.get("marketing_consent") is True

            await eventually(projected, timeout=30, what="notify's projection of the client")
            token = unsubscribe_token(UNSUBSCRIBE_SECRET.encode(), client_id)
            assert (await notify.post(f"/u/{token}")).status_code == 200

            async def withdrawn() -> bool:
                record = (await bookings.get(f"/clients/{client_id}")).json()
                return record["marketing_consent"] is False

            await eventually(withdrawn, timeout=30, what="booking withdrawing consent")
            record = (await bookings.get(f"/clients/{client_id}")).json()
            last = record["marketing_consent_history"][-1]
            assert (last["given"], last["method"], last["by"]) == (False, "unsubscribe", "notify")
    finally:
        await mongo.drop_database(bookings_settings.database)
        await mongo.drop_database(notify_settings.database)


async def _count(inbox: Inbox, count: int) -> bool:
    return len(inbox.messages) >= count
