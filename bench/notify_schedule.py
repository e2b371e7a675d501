"""Notify's schedule at studio scale: 10,000 booked sessions planned through the real handlers,
the dispatcher's due-action scan on that schedule, mails sent per second through a local SMTP
server next to a bare aiosmtplib send loop in the same run, and the delay from a published
SessionBooked event to its email through Kafka and the consumer process's path.

    make bench-notify_schedule        (python bench/notify_schedule.py --sessions N to scale)

1. Scheduling: N clients (with email) and N SessionBooked events through notify's own handlers,
   three at a time (like a consumer's three partitions), sessions spread over the next 2-60 days.
   Each booking schedules a confirmation (due now) and a day-before reminder; the confirmations
   are then marked sent in one update, so that nothing is due.
2. Due scan: `ActionRepository.due(now, 200)` and `Dispatcher.run_due()` on that schedule (2N
   actions, none due), alternating with the anchor, a `find_one` by `_id` on the same collection.
3. Sending: SEND_COUNT confirmations sent by `run_due` (on a database of their own holding only
   those bookings) vs `aiosmtplib.send` of as many equivalent EmailMessages (the mail notify sent,
   readdressed), one connection per mail as notify's Mailer does, alternating, medians.
4. Event to email: notify's consumer (`kit.consumers.consume`, the dispatcher with it, default
   `dispatch_seconds`) in this process; LATENCY_EVENTS SessionBooked events published to Kafka at
   PUBLISH_RATE a second; the delay is from just before each publish to the SMTP server's receipt
   of its confirmation (matched by recipient).

The SMTP server is aiosmtpd on loopback in a thread of this process (it takes the GIL from the
sender alike in both send measurements). MongoDB here is FerretDB on SQLite (see
/work/shared/INFRA-NOTES.md): most reads decode every document of the collection.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from typing import Any

import aiosmtplib
from _harness import percentile, report, summary
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from kit.app import Platform
from kit.consumers import consume
from kit.events.consumer import HandlerContext, Subscription
from kit.events.contracts import booking
from kit.events.envelope import Envelope, source_of
from kit.events.kafka import EventPublisher, ensure_topics
from kit.mongo import Document, connect_mongo
from kit.settings import InfraSettings
from kit.testing import build_app, running
from notify import consumers as notify_consumers
from notify.bootstrap import NotifyServices, services_of
from notify.config import NotifySettings
from notify.main import service_spec

SESSIONS = 10_000
PARTITIONS = 3
SCAN_REPEATS = 5
SEND_COUNT = 500
SEND_REPEATS = 3
LATENCY_EVENTS = 200
PUBLISH_RATE = 20.0
SENDER = "studio@studio.bench"
CONFIRMATION = "booking-confirmation"

infra = InfraSettings()
_HEADERS = BytesHeaderParser()


@dataclass
class Received:
    at: float  # time.perf_counter() when the server had the whole mail
    to: str
    subject: str
    raw: bytes


@dataclass
class Inbox:
    """aiosmtpd's handler: keeps each mail with the moment it arrived."""

    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        at = time.perf_counter()
        headers = _HEADERS.parsebytes(envelope.content)
        self.received.append(
            Received(at, str(headers["To"]), str(headers["Subject"]), envelope.content)
        )
        return "250 OK"


@contextlib.contextmanager
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- events, as booking makes them ----------------------------------------------------------


def client_created(client_id: str) -> Envelope:
    return Envelope.wrap(
        booking.ClientCreated(
            client_id=client_id,
            first_name="Ada",
            last_name="Lovelace",
            email=f"{client_id}@example.com",
        ),
        subject=client_id,
        source=source_of("booking"),
    )


def session_booked(session_id: str, client_id: str, starts_at: datetime) -> Envelope:
    return Envelope.wrap(
        booking.SessionBooked(
            session_id=session_id,
            session_number=f"S-{session_id[-5:]}",
            client_id=client_id,
            session_type_id="portrait",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=1),
            location="Studio A",
        ),
        subject=session_id,
        source=source_of("booking"),
    )


def session_start(index: int, count: int, now: datetime) -> datetime:
    """Sessions spread evenly from 2 to 60 days ahead, so every reminder is in the future."""
    first = now + timedelta(days=2)
    return (first + timedelta(seconds=index * 58 * 86400 // max(count, 1))).replace(
        second=0, microsecond=0
    )


def bookings(count: int, tag: str, now: datetime) -> tuple[list[Envelope], list[Envelope]]:
    clients = [client_created(f"cli_{tag}_{i:05d}") for i in range(count)]
    sessions = [
        session_booked(f"ses_{tag}_{i:05d}", f"cli_{tag}_{i:05d}", session_start(i, count, now))
        for i in range(count)
    ]
    return clients, sessions


# --- notify in-process, events through its own handlers -------------------------------------


def notify_settings(database: str, smtp_port: int, **overrides: Any) -> dict[str, Any]:
    return {
        "database": database,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "smtp_sender": SENDER,
        "studio_name": "Bench Studio",
        "public_base_url": "https://studio.bench",
        "unsubscribe_secret": "unsubscribe-secret-for-the-bench",
        "quiet_hours_sms": "",
        "dispatcher": False,  # phases 1-3 call it themselves, with the moment they mean
        **overrides,
    }


class Handlers:
    """The events through notify's handlers, as its consumer calls them."""

    def __init__(self, services: NotifyServices) -> None:
        self._by_type: dict[str, Subscription[Any]] = {
            s.contract.event_type: s for s in services.handlers.subscriptions()
        }

    async def deliver(self, event: Envelope) -> None:
        subscription = self._by_type[event.type]
        await subscription.handler(event.payload(subscription.contract), HandlerContext(event))

    async def partitioned(self, events: Sequence[Envelope], label: str) -> float:
        """All events, PARTITIONS at a time (each partition in order); the seconds it took."""
        done = 0
        started = time.perf_counter()
        step = max(100, len(events) // 10)

        async def partition(part: Sequence[Envelope]) -> None:
            nonlocal done
            for event in part:
                await self.deliver(event)
                done += 1
                if done % step == 0:
                    elapsed = time.perf_counter() - started
                    progress(f"  {label}: {done}/{len(events)} in {elapsed:.0f} s")

        async with asyncio.TaskGroup() as group:
            for n in range(PARTITIONS):
                group.create_task(partition(events[n::PARTITIONS]))
        return time.perf_counter() - started


@contextlib.asynccontextmanager
async def notify_app(
    settings: dict[str, Any],
) -> AsyncIterator[tuple[NotifyServices, AsyncDatabase[Document]]]:
    app: FastAPI = build_app("notify", **settings)
    async with running(app):
        platform: Platform = app.state.platform
        yield services_of(platform), platform.db


async def states(db: AsyncDatabase[Document]) -> dict[str, int]:
    cursor = await db["actions"].aggregate([{"$group": {"_id": "$state", "n": {"$sum": 1}}}])
    counted = await cursor.to_list()
    return {str(row["_id"]): int(row["n"]) for row in counted}


# --- 1 and 2: the schedule and its due scan ---------------------------------------------------


async def timed(call: Awaitable[Any]) -> tuple[float, Any]:
    """Milliseconds from the first await of `call` to its result, and the result."""
    started = time.perf_counter()
    result = await call
    return (time.perf_counter() - started) * 1000, result


async def schedule_and_scan(sessions: int, smtp_port: int, tag: str) -> dict[str, Any]:
    database = f"bench_notify_schedule_{tag}"
    async with notify_app(notify_settings(database, smtp_port)) as (services, db):
        handlers = Handlers(services)
        now = datetime.now(UTC)
        clients, booked = bookings(sessions, tag, now)
        progress(f"scheduling {sessions} clients and sessions through the handlers ...")
        clients_s = await handlers.partitioned(clients, "clients")
        sessions_s = await handlers.partitioned(booked, "sessions")
        progress(f"  clients {clients_s:.1f} s, sessions {sessions_s:.1f} s")

        marked_ms, marked = await timed(
            db["actions"].update_many(
                {"rule_id": CONFIRMATION, "state": "scheduled"},
                {"$set": {"state": "sent", "reason": "marked sent by the bench"}},
            )
        )
        counts = await states(db)
        progress(f"actions by state: {counts}; scanning ...")

        collection = db["actions"]
        some = await collection.find_one({"rule_id": "session-reminder"}, {"_id": 1})
        assert some is not None
        anchor, due, run_due = [], [], []
        for _ in range(SCAN_REPEATS):  # alternating, so drift hits each alike
            ms, found = await timed(collection.find_one({"_id": some["_id"]}))
            assert found is not None
            anchor.append(ms)
            scan_at = datetime.now(UTC)
            ms, listed = await timed(services.actions.due(scan_at, 200))
            due.append(ms)
            ms, passed = await timed(services.dispatcher.run_due())
            run_due.append(ms)
        return {
            "sessions": sessions,
            "clients_seconds": clients_s,
            "sessions_seconds": sessions_s,
            "clients_per_s": sessions / clients_s,
            "sessions_per_s": sessions / sessions_s,
            "mark_confirmations_ms": marked_ms,
            "confirmations_marked": marked.modified_count,
            "actions": sum(counts.values()),
            "actions_by_state": counts,
            "due_found": len(listed),
            "run_due_sent": passed.sent,
            "find_one_id_ms": anchor,
            "due_ms": due,
            "run_due_ms": run_due,
            "drop_database": database,
        }


# --- 3: sending throughput ----------------------------------------------------------------------


async def notify_round(
    services: NotifyServices,
    db: AsyncDatabase[Document],
    handlers: Handlers,
    inbox: Inbox,
    booked: list[Envelope],
) -> tuple[float, list[Received]]:
    """Fresh bookings planned (untimed), then run_due until all their confirmations went."""
    await db["actions"].delete_many({})
    planned = await handlers.partitioned(booked, "bookings to send")
    progress(f"  planned {len(booked)} bookings to send in {planned:.1f} s")
    before = len(inbox.received)
    started = time.perf_counter()
    sent = 0
    while sent < len(booked):
        passed = await services.dispatcher.run_due()
        if passed.sent == 0:
            raise RuntimeError(f"run_due sent nothing with {len(booked) - sent} to go: {passed}")
        sent += passed.sent
    elapsed = time.perf_counter() - started
    mails = inbox.received[before:]
    if len(mails) != len(booked):
        raise RuntimeError(f"the SMTP server got {len(mails)} mails, not {len(booked)}")
    return len(booked) / elapsed, mails


def readdressed(mail: Received, count: int) -> list[EmailMessage]:
    """`count` copies of a mail notify sent, each to its own recipient with its own id."""
    messages = []
    for i in range(count):
        message = message_from_bytes(mail.raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        del message["To"], message["Message-ID"]
        message["To"] = f"bare_{i:05d}@example.com"
        message["Message-ID"] = f"<bare_{uuid.uuid4().hex}@studio.bench>"
        messages.append(message)
    return messages


async def bare_round(messages: list[EmailMessage], inbox: Inbox, port: int) -> float:
    """The anchor: aiosmtplib as it comes, one connection per mail (as notify's Mailer)."""
    before = len(inbox.received)
    started = time.perf_counter()
    for message in messages:
        await aiosmtplib.send(message, hostname="127.0.0.1", port=port, timeout=10)
    elapsed = time.perf_counter() - started
    if len(inbox.received) - before != len(messages):
        raise RuntimeError("the SMTP server did not get every bare mail")
    return len(messages) / elapsed


async def sending(count: int, inbox: Inbox, port: int, tag: str) -> dict[str, Any]:
    database = f"bench_notify_send_{tag}"
    async with notify_app(notify_settings(database, port)) as (services, db):
        handlers = Handlers(services)
        now = datetime.now(UTC)
        clients, _ = bookings(count, f"{tag}s", now)
        await handlers.partitioned(clients, "clients to send to")

        def fresh() -> list[Envelope]:  # new events: new occurrences, new actions
            return bookings(count, f"{tag}s", datetime.now(UTC))[1]

        _, warm = await notify_round(services, db, handlers, inbox, fresh()[:20])
        messages = readdressed(warm[0], count)
        rates: dict[str, list[float]] = {"notify": [], "bare": []}
        for repeat in range(SEND_REPEATS):
            order = ("bare", "notify") if repeat % 2 == 0 else ("notify", "bare")
            for which in order:
                if which == "bare":
                    rates["bare"].append(await bare_round(messages, inbox, port))
                else:
                    rate, _ = await notify_round(services, db, handlers, inbox, fresh())
                    rates["notify"].append(rate)
                progress(f"  send round {repeat + 1} {which}: {rates[which][-1]:.1f} mails/s")
        return {"count": count, **rates, "drop_database": database}


# --- 4: from a published event to its email ---------------------------------------------------


async def event_to_email(count: int, inbox: Inbox, port: int, tag: str) -> dict[str, Any]:
    prefix = f"bench-{tag}."
    database = f"bench_notify_e2e_{tag}"
    topic_infra = infra.model_copy(update={"topic_prefix": prefix})
    settings = NotifySettings(
        **notify_settings(database, port, dispatcher=True, consumer_group=f"notify-{tag}"),
        infra=topic_infra,
    )
    await ensure_topics(infra.kafka_bootstrap, [settings.booking_topic], prefix=prefix)
    publisher = EventPublisher(infra.kafka_bootstrap, client_id="bench", topic_prefix=prefix)
    mongo = connect_mongo(infra.mongo_url, app_name="bench")
    stop = asyncio.Event()
    consumer = asyncio.create_task(
        consume(
            settings,
            service_spec(api=False),
            group_id=settings.consumer_group,
            topics=[settings.booking_topic, settings.workflow_topic, settings.delivery_topic],
            subscriptions=notify_consumers.subscriptions,
            stop=stop,
        )
    )

    async def wait_for(check: Callable[[], Awaitable[bool]], what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not await check():
            if consumer.done():
                consumer.result()  # its error, if it failed
                raise RuntimeError("the consumer stopped")
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting for {what}")
            await asyncio.sleep(0.1)

    try:
        clients, booked = bookings(count, f"{tag}e", datetime.now(UTC))
        await publisher.publish_many(settings.booking_topic, clients)

        async def known() -> bool:
            return await mongo[database]["contacts"].count_documents({}) >= count

        await wait_for(known, "the consumer to record the clients", 180)
        recipients = {
            e.subject: f"{e.payload(booking.SessionBooked).client_id}@example.com" for e in booked
        }
        before = len(inbox.received)
        published: dict[str, float] = {}
        started = time.perf_counter()
        for i, event in enumerate(booked):  # a steady pace, not a burst
            await asyncio.sleep(max(0.0, started + i / PUBLISH_RATE - time.perf_counter()))
            published[recipients[event.subject]] = time.perf_counter()
            await publisher.publish(settings.booking_topic, event)
        publish_seconds = time.perf_counter() - started

        def confirmations() -> dict[str, float]:
            return {
                m.to: m.at
                for m in inbox.received[before:]
                if m.to in published and "is booked" in m.subject
            }

        async def all_arrived() -> bool:
            return len(confirmations()) == count

        await wait_for(all_arrived, "every confirmation to reach the SMTP server", 180)
        arrived = confirmations()
        delays = [(arrived[to] - at) * 1000 for to, at in published.items()]
        return {
            "events": count,
            "publish_rate_per_s": count / publish_seconds,
            "dispatch_seconds": settings.dispatch_seconds,
            "delays_ms": delays,
            "drop_database": database,
        }
    finally:
        stop.set()
        await consumer
        await publisher.stop()
        await mongo.close()


# --- the run ----------------------------------------------------------------------------------


async def main(sessions: int, mails: int, latency_events: int) -> None:
    tag = uuid.uuid4().hex[:6]
    run_started = time.perf_counter()
    with smtp_server() as (inbox, port):
        scheduled = await schedule_and_scan(sessions, port, tag)
        progress(f"sending {mails} mails per round ...")
        sent = await sending(mails, inbox, port, tag)
        progress(f"event to email: {latency_events} events at {PUBLISH_RATE:g}/s ...")
        e2e = await event_to_email(latency_events, inbox, port, tag)
    mongo = connect_mongo(infra.mongo_url, app_name="bench")
    for result in (scheduled, sent, e2e):
        await mongo.drop_database(result.pop("drop_database"))
    await mongo.close()
    run_seconds = time.perf_counter() - run_started

    anchor, due, run_due = (
        summary(scheduled[k]) for k in ("find_one_id_ms", "due_ms", "run_due_ms")
    )
    notify_rate, bare_rate = summary(sent["notify"]), summary(sent["bare"])
    delays = e2e["delays_ms"]
    p50, p99 = percentile(delays, 50), percentile(delays, 99)
    figures: dict[str, Any] = {
        "sessions": sessions,
        "partitions": PARTITIONS,
        "scheduling": {
            "clients_seconds": round(scheduled["clients_seconds"], 1),
            "sessions_seconds": round(scheduled["sessions_seconds"], 1),
            "client_events_per_s": round(scheduled["clients_per_s"], 1),
            "session_events_per_s": round(scheduled["sessions_per_s"], 1),
            "events_per_s": round(
                2 * sessions / (scheduled["clients_seconds"] + scheduled["sessions_seconds"]), 1
            ),
            "mark_confirmations_ms": round(scheduled["mark_confirmations_ms"], 1),
            "confirmations_marked": scheduled["confirmations_marked"],
        },
        "due_scan": {
            "actions": scheduled["actions"],
            "actions_by_state": scheduled["actions_by_state"],
            "due_found": scheduled["due_found"],
            "run_due_sent": scheduled["run_due_sent"],
            "repeats": SCAN_REPEATS,
            "find_one_id_ms": {k: round(v, 2) for k, v in anchor.items()},
            "due_ms": {k: round(v, 1) for k, v in due.items()},
            "run_due_ms": {k: round(v, 1) for k, v in run_due.items()},
            "due_over_find_one": round(due["median"] / anchor["median"], 1),
            "run_due_over_find_one": round(run_due["median"] / anchor["median"], 1),
        },
        "sending": {
            "mails": mails,
            "repeats": SEND_REPEATS,
            "bare_mails_per_s": {k: round(v, 1) for k, v in bare_rate.items()},
            "notify_mails_per_s": {k: round(v, 1) for k, v in notify_rate.items()},
            "notify_over_bare": round(notify_rate["median"] / bare_rate["median"], 3),
        },
        "event_to_email": {
            "events": e2e["events"],
            "publish_rate_per_s": round(e2e["publish_rate_per_s"], 1),
            "dispatch_seconds": e2e["dispatch_seconds"],
            "p50_ms": round(p50, 1),
            "p99_ms": round(p99, 1),
            "max_ms": round(max(delays), 1),
        },
        "run_seconds": round(run_seconds, 1),
    }
    rows = [
        ("measure", "figure", "note"),
        (
            f"schedule {sessions} clients + {sessions} bookings",
            f"{figures['scheduling']['events_per_s']:.1f} events/s",
            f"clients {scheduled['clients_seconds']:.0f} s, "
            f"bookings {scheduled['sessions_seconds']:.0f} s, {PARTITIONS} at a time",
        ),
        (
            "find_one by _id (anchor)",
            f"{anchor['median']:.1f} ms",
            f"{scheduled['actions']} actions, spread {anchor['spread_pct']:.0f}%",
        ),
        (
            "due(now, 200), none due",
            f"{due['median']:.0f} ms",
            f"x{figures['due_scan']['due_over_find_one']} the anchor, "
            f"spread {due['spread_pct']:.0f}%",
        ),
        (
            "run_due(), none due",
            f"{run_due['median']:.0f} ms",
            f"x{figures['due_scan']['run_due_over_find_one']} the anchor, "
            f"spread {run_due['spread_pct']:.0f}%",
        ),
        (
            f"bare aiosmtplib, {mails} mails (anchor)",
            f"{bare_rate['median']:.0f} mails/s",
            f"spread {bare_rate['spread_pct']:.0f}%",
        ),
        (
            f"notify run_due, {mails} mails",
            f"{notify_rate['median']:.1f} mails/s",
            f"x{figures['sending']['notify_over_bare']} the anchor, "
            f"spread {notify_rate['spread_pct']:.0f}%",
        ),
        (
            f"event -> email, {latency_events} at {PUBLISH_RATE:g}/s",
            f"p50 {p50:.0f} ms, p99 {p99:.0f} ms",
            f"dispatch_seconds {e2e['dispatch_seconds']:g} (default), max {max(delays):.0f} ms",
        ),
        ("whole run", f"{run_seconds:.0f} s", ""),
    ]
    report("notify_schedule", rows, figures)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sessions", type=int, default=SESSIONS, help="bookings to schedule")
    parser.add_argument("--mails", type=int, default=SEND_COUNT, help="mails per send round")
    parser.add_argument("--latency-events", type=int, default=LATENCY_EVENTS)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.sessions, arguments.mails, arguments.latency_events))
