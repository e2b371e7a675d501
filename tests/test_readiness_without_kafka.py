"""/readyz answers 503 naming Kafka while the real broker is stopped, and 200 once it is back.

Stops the shared test broker, so it runs alone after every other test (`make test` runs the
`disruptive` mark last).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from pymongo import AsyncMongoClient

from kit.mongo import Document
from kit.testing import build_app, running

SERVERS = Path(__file__).resolve().parents[1] / "infra" / "local" / "servers.sh"


def servers(command: str) -> None:
    env = {**os.environ, "STUDIO_PROFILE": os.environ.get("STUDIO_PROFILE", "test")}
    subprocess.run([str(SERVERS), command, "kafka"], check=True, env=env, capture_output=True)


async def wait_for_status(client: httpx.AsyncClient, status: int, timeout: float) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        response = await client.get("/readyz")
        if response.status_code == status or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.5)


@pytest.mark.disruptive
async def test_readiness_names_kafka_while_it_is_stopped_and_recovers_when_it_is_back(
    unique: str, mongo: AsyncMongoClient[Document]
) -> None:
    database = f"t_{unique}"
    app = build_app("render", database=database)
    try:
        async with running(app) as client:
            assert (await client.get("/readyz")).status_code == 200
            await asyncio.to_thread(servers, "stop")
            try:
                down = await wait_for_status(client, 503, 30)
                assert down.status_code == 503
                assert down.json()["message"] == "Not ready: kafka unreachable."
                assert down.json()["detail"]["mongodb"] == "ok"
                assert down.json()["detail"]["s3"] == "ok"
                assert (await client.get("/healthz")).status_code == 200  # the process is still up
            finally:
                await asyncio.to_thread(servers, "start")
            back = await wait_for_status(client, 200, 60)
            assert back.status_code == 200, back.text
    finally:
        await mongo.drop_database(database)
