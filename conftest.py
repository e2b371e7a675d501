"""Fixtures shared by every test: the real servers that `make test` started (.local/test/env).

Each test gets its own MongoDB database and Kafka topic names, so tests never see each
other's data and the servers need no cleaning between tests.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

import web.main  # noqa: F401  (see below)
from kit.mongo import Document, connect_mongo
from kit.settings import InfraSettings
from kit.storage import S3Storage

# pytest's importlib mode names web/tests/conftest.py "web.tests.conftest" and would put an
# empty namespace module "web" in front of the web app's own package; importing the real one
# first keeps it (gateway/tests avoids the same by being a package named "tests").

REPO = Path(__file__).resolve().parent
# tests/ (the platform-wide tests) import their shared helpers, tests/deployment_layout.py; a
# conftest.py there would collide with gateway/tests/conftest.py under the importlib mode.
sys.path.insert(0, str(REPO / "tests"))


@pytest.fixture(scope="session")
def infra() -> InfraSettings:
    if "STUDIO_KAFKA_BOOTSTRAP" not in os.environ:
        pytest.fail(
            "the test servers' addresses are not set: run the tests with `make test`, "
            "or `set -a; . .local/test/env; set +a` after `STUDIO_PROFILE=test "
            "infra/local/servers.sh start`",
            pytrace=False,
        )
    return InfraSettings(environment="test")


@pytest.fixture
def unique() -> str:
    """A short name part no other test uses."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
async def mongo(infra: InfraSettings) -> AsyncIterator[AsyncMongoClient[Document]]:
    client = connect_mongo(infra.mongo_url, app_name="tests")
    yield client
    await client.close()


@pytest.fixture
async def db(
    mongo: AsyncMongoClient[Document], unique: str
) -> AsyncIterator[AsyncDatabase[Document]]:
    name = f"t_{unique}"
    yield mongo[name]
    await mongo.drop_database(name)


@pytest.fixture
def storage(infra: InfraSettings) -> Iterator[S3Storage]:
    s3 = S3Storage(infra)
    yield s3
    s3.close()
