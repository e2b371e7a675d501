"""Helpers for the platform's tests (never imported by service code).

Tests run services in-process with their real lifespan against the real servers, and read
Kafka topics directly to see what was published.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from fastapi import FastAPI

SERVICES = ("booking", "workflow", "render", "delivery", "maps", "gateway")


def build_app(service: str, **overrides: Any) -> FastAPI:
    """`<service>.main.create_app` with its settings read from the environment plus `overrides`."""
    config = importlib.import_module(f"{service}.config")
    main = importlib.import_module(f"{service}.main")
    settings_class = getattr(config, f"{service.capitalize()}Settings")
    app: FastAPI = main.create_app(settings_class(**overrides))
    return app


@contextlib.asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan started, and an HTTP client that talks to it over ASGI."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://studio.test") as client:
            yield client


async def read_topic(
    bootstrap: str, topic: str, count: int, *, timeout: float = 30
) -> list[ConsumerRecord[bytes, bytes]]:
    """Up to `count` records of `topic` from the beginning, waiting at most `timeout` seconds."""
    reader = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await reader.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    deadline = time.monotonic() + timeout
    try:
        while len(records) < count and time.monotonic() < deadline:
            for batch in (await reader.getmany(timeout_ms=300)).values():
                records.extend(batch)
    finally:
        await reader.stop()
    return records


async def eventually(
    check: Callable[[], Awaitable[bool]], *, timeout: float, what: str, interval: float = 0.05
) -> None:
    """Wait until `check()` holds; raise AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(interval)
