"""The booking service running in-process against the real servers, one database per test."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterable

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from kit.events.contracts.booking import TOPIC
from kit.events.envelope import Envelope
from kit.settings import InfraSettings
from kit.testing import build_app, running


@pytest.fixture
async def booking(infra: InfraSettings, unique: str) -> AsyncIterator[httpx.AsyncClient]:
    """The booking API on database `t_<unique>` (the `db` fixture's database)."""
    async with running(build_app("booking", database=f"t_{unique}")) as client:
        yield client


class BookingEvents:
    """Events published to `booking.events` after `start()`, by subject.

    The topic is shared with every other test, so only what comes after the recorded end
    offsets and is about the given subjects counts.
    """

    def __init__(self, bootstrap: str) -> None:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=f"t-watch-{uuid.uuid4().hex[:10]}",
            auto_offset_reset="latest",
            enable_auto_commit=False,
        )
        self._seen: list[Envelope] = []

    async def start(self) -> None:
        self._consumer.subscribe([TOPIC])
        deadline = time.monotonic() + 30
        while not self._consumer.assignment():
            assert time.monotonic() < deadline, f"no partitions of {TOPIC} assigned"
            await self._read(100)
        for partition in self._consumer.assignment():
            await self._consumer.position(partition)  # the end, before the test acts

    async def stop(self) -> None:
        await self._consumer.stop()

    async def about(
        self, subjects: Iterable[str], *, count: int, timeout: float = 60
    ) -> list[Envelope]:
        """Wait for `count` events about `subjects`, then a moment more to catch extra ones."""
        wanted = set(subjects)
        deadline = time.monotonic() + timeout
        while sum(e.subject in wanted for e in self._seen) < count:
            if time.monotonic() > deadline:
                break
            await self._read(300)
        await self._read(500)  # anything beyond `count` shows up too
        return [e for e in self._seen if e.subject in wanted]

    async def _read(self, timeout_ms: int) -> None:
        batches = await self._consumer.getmany(timeout_ms=timeout_ms)
        for records in batches.values():
            self._seen.extend(Envelope.from_bytes(r.value) for r in records if r.value)
        await asyncio.sleep(0)


@pytest.fixture
async def events(infra: InfraSettings, booking: httpx.AsyncClient) -> AsyncIterator[BookingEvents]:
    """Watches `booking.events` from now on (the app created the topic at start)."""
    watcher = BookingEvents(infra.kafka_bootstrap)
    await watcher._consumer.start()
    try:
        await watcher.start()
        yield watcher
    finally:
        await watcher.stop()
