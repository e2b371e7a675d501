"""Fixtures of the gateway tests: a little real upstream service, and the gateway in-process on a
database of its own whose every service URL points at that upstream."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pymongo import AsyncMongoClient

from kit.mongo import Document
from kit.settings import InfraSettings
from kit.testing import running, served

# The tests import their harness module from this folder (pytest runs in importlib mode).
sys.path.insert(0, str(Path(__file__).parent))

from front_door_harness import Counter, gateway_app, upstream_app


@pytest.fixture
def counter() -> Counter:
    return Counter()


@pytest.fixture
async def upstream(counter: Counter) -> AsyncIterator[str]:
    async with served(upstream_app(counter)) as url:
        yield url


@pytest.fixture
async def gateway(
    infra: InfraSettings, unique: str, upstream: str, mongo: AsyncMongoClient[Document]
) -> AsyncIterator[httpx.AsyncClient]:
    app = gateway_app(unique, upstream)
    try:
        async with running(app) as client:
            yield client
    finally:
        await mongo.drop_database(f"t_{unique}")
