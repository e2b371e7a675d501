"""Factories for the render tests: seeded photos, the service in-process on its own database."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import json
import random
import struct
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from PIL import Image
from pymongo import AsyncMongoClient

from kit.app import Platform
from kit.events.consumer import EventConsumer
from kit.events.contracts.booking import SessionBooked
from kit.events.contracts.render import TOPIC
from kit.events.envelope import Envelope, source_of
from kit.events.kafka import EventPublisher, ensure_topics
from kit.mongo import Document
from kit.settings import InfraSettings
from kit.testing import build_app, eventually, running
from render.consumers import subscriptions
from render.context import RenderContext, context_of
from render.runs.render_sets import CALLER, HTTP_KEY
from render.worker import TaskMember
from workflow.consumers import subscriptions as workflow_subscriptions


def photo(
    width: int = 1200, height: int = 800, *, seed: int = 1, icc: bytes | None = None
) -> bytes:
    """A seeded JPEG 'photo' (gradients and noise), optionally tagged with an ICC profile."""
    rng = random.Random(seed)
    base = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 40 + rng.randint(0, 20))
    image = Image.merge("RGB", (base, noise, base.rotate(180)))
    buffer = io.BytesIO()
    extra: dict[str, Any] = {"icc_profile": icc} if icc else {}
    image.save(buffer, "JPEG", quality=90, **extra)
    return buffer.getvalue()


def adobe_rgb_icc() -> bytes:
    """A minimal ICC v2 matrix/TRC profile with Adobe RGB (1998) primaries: a real non-sRGB
    RGB profile (Pillow can author only sRGB, and the machine has no ICC files)."""

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ " + bytes(4) + s15(x) + s15(y) + s15(z)

    name = b"Adobe RGB (1998) compatible\0"
    desc = b"desc" + bytes(4) + struct.pack(">I", len(name)) + name + bytes(4 + 4 + 2 + 1 + 67)
    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, 563) + bytes(2)  # gamma 563/256 = 2.2
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.6097, 0.3111, 0.0195)),
        (b"gXYZ", xyz(0.2053, 0.6257, 0.0609)),
        (b"bXYZ", xyz(0.1492, 0.0632, 0.7446)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        body += bytes(-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = (
        struct.pack(">I", size)
        + bytes(4)
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + bytes(12)
        + b"acsp"
        + bytes(4 + 4 + 4 + 4 + 8 + 4)
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
        + bytes(4 + 44)
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data


def open_output(body: bytes) -> Image.Image:
    return Image.open(io.BytesIO(body))


PhotoFactory = Callable[..., bytes]


@pytest.fixture
def make_photo() -> PhotoFactory:
    """`make_photo(width, height, seed=...)`: a seeded JPEG photo."""
    return photo


@pytest.fixture
def adobe_rgb() -> bytes:
    return adobe_rgb_icc()


@dataclass
class WorkflowSide:
    """The real workflow service in-process (its own database, the images bucket of the test):
    render reads its render sets over HTTP, as from RENDER_WORKFLOW_URL."""

    http: httpx.AsyncClient
    platform: Platform

    async def book(self, session_id: str) -> None:
        """The session as booking announces it, handed to workflow's own consumer."""
        starts_at = datetime(2026, 12, 1, 10, tzinfo=UTC)
        booked = SessionBooked(
            session_id=session_id,
            session_number=f"N-{session_id[-6:]}",
            client_id="client-1",
            session_type_id="portrait",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=1),
        )
        envelope = Envelope.wrap(booked, subject=session_id, source=source_of("booking"))
        consumer = EventConsumer(
            bootstrap=self.platform.settings.infra.kafka_bootstrap,
            group_id="render-tests-workflow",
            topics=["t.in"],
            subscriptions=workflow_subscriptions(self.platform),
            db=self.platform.db,
            publisher=self.platform.publisher,
        )
        await consumer.handle_batch([record_of(envelope)])

    async def session_with_photos(self, session_id: str, photos: list[bytes]) -> list[Document]:
        """Book the session and import `photos` as IMG_0000.jpg...; their image ids and keys."""
        await self.book(session_id)
        answer = await self.http.post(
            f"/workflow/sessions/{session_id}/imports",
            files=[
                ("files", (f"IMG_{i:04d}.jpg", body, "image/jpeg")) for i, body in enumerate(photos)
            ],
            data={"options": '{"image_folders": ["hires"], "raw_folder": "raw"}'},
        )
        assert answer.status_code == 201, answer.text
        files: list[Document] = answer.json()["files"]
        assert all(f["outcome"] == "stored" for f in files), files
        listed = await self.http.get(f"/workflow/sessions/{session_id}/images")
        assert listed.status_code == 200, listed.text
        return [{"image_id": i["image_id"], "key": i["keys"]["hires"]} for i in listed.json()]

    async def put(self, path: str, body: Document) -> None:
        answer = await self.http.put(f"/workflow{path}", json=body)
        assert answer.status_code == 200, answer.text


def record_of(envelope: Envelope) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic="t.in",
        partition=0,
        offset=0,
        timestamp=0,
        timestamp_type=0,
        key=envelope.subject.encode(),
        value=envelope.to_bytes(),
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=0,
        headers=[],
    )


@dataclass
class Service:
    http: httpx.AsyncClient
    ctx: RenderContext
    infra: InfraSettings
    workflow: WorkflowSide

    async def profile(self, **overrides: Any) -> Document:
        body = {"name": "Web proof", "purpose": "proof", "size": {"long_edge_px": 400}}
        answer = await self.http.post("/profiles", json={**body, **overrides})
        assert answer.status_code == 201, answer.text
        created: Document = answer.json()
        return created

    async def upload(self, key: str, body: bytes) -> None:
        await self.ctx.storage.put(self.infra.images_bucket, key, body, content_type="image/jpeg")

    async def download(self, key: str) -> bytes:
        return await self.ctx.storage.get_bytes(self.infra.images_bucket, key)

    @contextlib.asynccontextmanager
    async def consuming(self, unique: str) -> AsyncIterator[Publisher]:
        """The service's consumers on a topic of this test's own; yields a publisher to it."""
        topic = f"t.{unique}.workflow.events"
        bootstrap = self.infra.kafka_bootstrap
        await ensure_topics(bootstrap, [topic], partitions=1)
        publisher = EventPublisher(bootstrap, client_id="test")
        await publisher.start()
        consumer = EventConsumer(
            bootstrap=bootstrap,
            group_id=f"render-{unique}",
            topics=[topic],
            subscriptions=subscriptions(self.ctx.platform),
            db=self.ctx.db,
            publisher=publisher,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(consumer.run(stop))
        try:
            yield Publisher(publisher, topic)
        finally:
            stop.set()
            await task
            await publisher.stop()

    async def job(self, **body: Any) -> Document:
        answer = await self.http.post("/jobs", json=body)
        assert answer.status_code == 201, answer.text
        created: Document = answer.json()
        return created

    @contextlib.asynccontextmanager
    async def workers(self, *names: str) -> AsyncIterator[list[TaskMember]]:
        """Render workers in this process, each its own member of the test's consumer group;
        yields once the group has shared the task topic's partitions among all of them."""
        members = [TaskMember(self.ctx, name) for name in names]
        stop = asyncio.Event()
        tasks = [asyncio.create_task(m.run(stop)) for m in members]

        async def balanced() -> bool:
            partitions = self.ctx.settings.task_partitions
            holding = [m.partitions for m in members]
            return all(holding) and sum(holding) == partitions

        try:
            await eventually(balanced, timeout=60, what="the workers to join their group")
            yield members
        finally:
            stop.set()
            await asyncio.gather(*tasks)

    async def settled(self, run_id: str) -> Document:
        async def done() -> bool:
            answer = await self.http.get(f"/runs/{run_id}")
            return answer.status_code == 200 and answer.json()["status"] in ("completed", "failed")

        await eventually(done, timeout=60, what=f"run {run_id} to settle")
        run: Document = (await self.http.get(f"/runs/{run_id}")).json()
        return run

    async def events(
        self, subject: str, event_type: str, wanted: int = 1, *, timeout: float = 30
    ) -> list[Document]:
        """The render events of one subject and type (waits for `wanted`, at most `timeout`)."""
        return await render_events(
            self.infra.kafka_bootstrap,
            self.infra.topic_prefix + TOPIC,
            subject,
            event_type,
            wanted,
            timeout=timeout,
        )

    async def drain_outbox(self) -> None:
        async def drained() -> bool:
            for name in await self.ctx.db.list_collection_names():
                if await self.ctx.db[name].count_documents({"_outbox.0": {"$exists": True}}):
                    return False
            return True

        await eventually(drained, timeout=30, what="the outbox to drain")
        await asyncio.sleep(0.2)


@dataclass
class Publisher:
    publisher: EventPublisher
    topic: str

    async def send(self, *envelopes: Envelope) -> None:
        await self.publisher.publish_many(self.topic, list(envelopes))


async def render_events(
    bootstrap: str, topic: str, subject: str, event_type: str, wanted: int, *, timeout: float = 30
) -> list[Document]:
    reader = AIOKafkaConsumer(
        topic,
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
                for record in batch:
                    if record.key != subject.encode() or record.value is None:
                        continue
                    event = json.loads(record.value)
                    if event["type"] == event_type:
                        found.append(event)
    finally:
        await reader.stop()
    return found


ServiceFactory = Callable[..., contextlib.AbstractAsyncContextManager[Service]]


@pytest.fixture
def render_service(unique: str) -> ServiceFactory:
    """`async with render_service(**setting_overrides) as service: ...`"""
    return functools.partial(open_render_service, unique)


@contextlib.asynccontextmanager
async def open_render_service(unique: str, **overrides: Any) -> AsyncIterator[Service]:
    # Topics of the test's own (the task topic, render.events), and a consumer group of its own.
    infra = InfraSettings(
        environment="test", images_bucket=f"t-{unique}-images", topic_prefix=f"t{unique}."
    )
    settings: dict[str, Any] = {
        "worker_concurrency": 1,
        "worker_group": f"render-workers-{unique}",
        "outbox_poll_seconds": 0.1,
        **overrides,
    }
    app = build_app("render", database=f"t_{unique}", infra=infra, **settings)
    workflow_app = build_app("workflow", database=f"t_{unique}_wf", infra=infra)
    try:
        async with running(workflow_app) as workflow_http, running(app) as http:
            ctx = context_of(app.state.platform)
            # Render's reads of workflow go to the in-process workflow service.
            ctx.platform.extras[HTTP_KEY] = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=workflow_app),
                base_url="http://workflow.test",
                headers=CALLER,
            )
            workflow = WorkflowSide(workflow_http, workflow_app.state.platform)
            service = Service(http, ctx, infra, workflow)
            yield service
            await service.drain_outbox()
    finally:
        client: AsyncMongoClient[Document] = AsyncMongoClient(infra.mongo_url)
        await client.drop_database(f"t_{unique}")
        await client.drop_database(f"t_{unique}_wf")
        await client.close()
