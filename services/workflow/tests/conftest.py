"""Fixtures of the workflow tests: the service with its own database and topics."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pymongo import AsyncMongoClient

from kit.app import Platform
from kit.events.consumer import EventConsumer
from kit.events.envelope import Envelope
from kit.events.kafka import EventPublisher, ensure_topics
from kit.mongo import Document
from kit.settings import InfraSettings
from kit.testing import build_app, running

# The tests import their harness module from this folder (pytest runs in importlib mode).
sys.path.insert(0, str(Path(__file__).parent))

from workflow_harness import Workflow, watching

from workflow.consumers import subscriptions
from workflow.context import context_of


@pytest.fixture
async def workflow(
    infra: InfraSettings, unique: str, mongo: AsyncMongoClient[Document]
) -> AsyncIterator[Workflow]:
    database = f"t_{unique}"
    app = build_app("workflow", database=database, outbox_poll_seconds=0.1)
    topic = f"t.{unique}.in"
    await ensure_topics(infra.kafka_bootstrap, [topic], partitions=1)
    publisher = EventPublisher(infra.kafka_bootstrap, client_id="workflow-tests")
    try:
        async with running(app) as client:
            platform: Platform = app.state.platform
            consumer = EventConsumer(
                bootstrap=infra.kafka_bootstrap,
                group_id=f"workflow-{unique}",
                topics=[topic],
                subscriptions=subscriptions(platform),
                db=platform.db,
                publisher=platform.publisher,
                backoff_seconds=0.05,
            )
            await consumer.prepare()
            stop = asyncio.Event()
            task = asyncio.create_task(consumer.run(stop))
            published: list[Envelope] = []
            try:
                async with watching(infra, published):
                    yield Workflow(
                        client,
                        platform,
                        context_of(platform),
                        consumer,
                        publisher,
                        topic,
                        infra,
                        published,
                    )
            finally:
                stop.set()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(task, 15)
    finally:
        await publisher.stop()
        await mongo.drop_database(database)
