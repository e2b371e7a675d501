"""Factories for the delivery tests: the service in-process on a database and buckets of its
own, images in S3, a real SMTP server, and the service's events read back from Kafka."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from aiosmtpd.controller import Controller
from pymongo import AsyncMongoClient

from delivery.context import DeliveryContext, context_of
from kit.events.contracts.delivery import TOPIC
from kit.mongo import Document
from kit.settings import InfraSettings
from kit.testing import build_app, eventually, running

# The tests import their workflow peer from this folder (pytest runs in importlib mode).
sys.path.insert(0, str(Path(__file__).parent))


@dataclass
class Inbox:
    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on loopback; its inbox collects what the service sends."""
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


@dataclass
class Service:
    http: httpx.AsyncClient
    ctx: DeliveryContext
    infra: InfraSettings

    async def upload(self, session_id: str, count: int, *, size: int = 200_000) -> dict[str, bytes]:
        """`count` JPEG-sized random images of a session in the images bucket: key -> bytes."""
        images = {
            f"sessions/{session_id}/hires/IMG_{i:04d}.jpg": os.urandom(size + i)
            for i in range(count)
        }
        for key, body in images.items():
            await self.ctx.storage.put(
                self.infra.images_bucket, key, body, content_type="image/jpeg"
            )
        return images

    async def deliver(self, session_id: str, keys: list[str], **request: Any) -> Document:
        """Request a delivery of `keys` and wait until it is ready or failed."""
        answer = await self.http.post(
            "/deliveries", json={"session_id": session_id, "keys": keys, **request}
        )
        assert answer.status_code == 202, answer.text
        return await self.settled(answer.json()["id"])

    async def settled(self, delivery_id: str) -> Document:
        async def done() -> bool:
            answer = await self.http.get(f"/deliveries/{delivery_id}")
            return answer.status_code == 200 and answer.json()["status"] in ("ready", "failed")

        await eventually(done, timeout=60, what=f"delivery {delivery_id} to settle")
        body: Document = (await self.http.get(f"/deliveries/{delivery_id}")).json()
        return body

    async def issue(self, delivery_id: str, **request: Any) -> Document:
        """A further link; its answer carries the URL (shown once)."""
        answer = await self.http.post(f"/deliveries/{delivery_id}/links", json=request)
        assert answer.status_code == 201, answer.text
        link: Document = answer.json()
        return link

    async def drain_outbox(self) -> None:
        """Wait until the relay published every event, so it is idle when the app stops.

        Python 3.11's `asyncio.wait_for` can swallow a cancellation that arrives as its inner
        wait completes; the kit relay's wait after a `notify()` then never ends at shutdown.
        """

        async def drained() -> bool:
            for name in ("deliveries", "links", "downloads"):
                if await self.ctx.db[name].count_documents({"_outbox.0": {"$exists": True}}):
                    return False
            return True

        await eventually(drained, timeout=30, what="the outbox to drain")
        await asyncio.sleep(0.2)

    @staticmethod
    def path_of(url: str) -> str:
        """The public path of a link URL (the gateway proxies /d/<token> unchanged)."""
        return "/d/" + url.rsplit("/d/", 1)[1]

    async def events(self, delivery_id: str, event_type: str, wanted: int = 1) -> list[Document]:
        """The delivery's events of `event_type` (waits for `wanted` of them, at most 30 s)."""
        return await delivery_events(self.infra.kafka_bootstrap, delivery_id, event_type, wanted)


ServiceFactory = Callable[..., contextlib.AbstractAsyncContextManager[Service]]


@pytest.fixture
def delivery_service(unique: str) -> ServiceFactory:
    """`async with delivery_service(**setting_overrides) as service: ...`"""
    return functools.partial(open_delivery_service, unique)


@contextlib.asynccontextmanager
async def open_delivery_service(
    unique: str, *, keep_database: bool = False, **overrides: Any
) -> AsyncIterator[Service]:
    """The delivery service with its lifespan (packaging queue and sweeps included);
    `keep_database` leaves its database for a later instance (a process that is restarted)."""
    infra = InfraSettings(
        environment="test",
        images_bucket=f"t-{unique}-images",
        deliveries_bucket=f"t-{unique}-deliveries",
    )
    settings: dict[str, Any] = {
        "database": f"t_{unique}",
        "infra": infra,
        "studio_name": "Lumen Portraits",
        "public_base_url": "https://photos.example.com",
        "packaging_poll_seconds": 0.2,
        **overrides,
    }
    app = build_app("delivery", **settings)
    try:
        async with running(app) as http:
            service = Service(http, context_of(app.state.platform), infra)
            yield service
            await service.drain_outbox()
    finally:
        if not keep_database:
            client: AsyncMongoClient[Document] = AsyncMongoClient(infra.mongo_url)
            await client.drop_database(f"t_{unique}")
            await client.close()


async def delivery_events(
    bootstrap: str, delivery_id: str, event_type: str, wanted: int, *, timeout: float = 30
) -> list[Document]:
    """One delivery's events of one type on delivery.events (keyed by delivery id)."""
    reader = AIOKafkaConsumer(
        TOPIC,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=f"t-{uuid.uuid4().hex[:8]}",
    )
    await reader.start()
    found: list[Document] = []
    deadline = time.monotonic() + timeout
    try:
        while len(found) < wanted and time.monotonic() < deadline:
            for batch in (await reader.getmany(timeout_ms=300)).values():
                found.extend(
                    event
                    for event in (
                        json.loads(r.value)
                        for r in batch
                        if r.key == delivery_id.encode() and r.value is not None
                    )
                    if event["type"] == event_type
                )
            await asyncio.sleep(0)
    finally:
        await reader.stop()
    return found
