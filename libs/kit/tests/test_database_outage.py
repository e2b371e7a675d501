"""With the database away, every service and the gateway answer 503 `database_unavailable` in
the one error shape with `Retry-After`, within the driver's server-selection timeout, and serve
again by themselves once the database is back (issue 14).

The MongoDB-wire server stopped and started here is a private one (its own port and data folder,
started by `infra/local/servers.sh`), so the shared test servers are never touched and the test
needs no `disruptive` mark.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from kit.errors import DATABASE_RETRY_AFTER_SECONDS
from kit.settings import InfraSettings
from kit.testing import build_app, running

SERVERS_SH = Path(__file__).resolve().parents[3] / "infra" / "local" / "servers.sh"
SHAPE = {"error", "message", "detail", "request_id"}
OWNER = {"email": "owner@outage.test", "password": "the owner's long password"}

# One read (or, for the gateway, a login) per process that needs its database to answer.
PROBES: dict[str, tuple[str, str]] = {
    "booking": ("GET", "/clients"),
    "workflow": ("GET", "/workflow/price-lists"),
    "render": ("GET", "/profiles"),
    "delivery": ("GET", "/deliveries"),
    "maps": ("GET", "/usage"),
    "notify": ("GET", "/notify/tasks"),
    "gateway": ("POST", "/auth/login"),
}


@dataclass
class PrivateMongo:
    state: Path
    port: int

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}"

    def servers(self, command: str) -> None:
        env = {
            **os.environ,
            "STUDIO_PROFILE": "test",
            "STUDIO_STATE_DIR": str(self.state),
            "STUDIO_MONGO_PORT": str(self.port),
        }
        done = subprocess.run(
            [str(SERVERS_SH), command, "mongo"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr + done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def private_mongo(tmp_path: Path) -> AsyncIterator[PrivateMongo]:
    mongo = PrivateMongo(tmp_path / "servers", _free_port())
    await asyncio.to_thread(mongo.servers, "start")
    try:
        yield mongo
    finally:
        await asyncio.to_thread(mongo.servers, "stop")


async def probe(service: str, client: httpx.AsyncClient) -> httpx.Response:
    method, path = PROBES[service]
    body = OWNER if service == "gateway" else None
    return await client.request(method, path, json=body, headers={"X-Request-ID": f"r-{service}"})


async def wait_for(service: str, client: httpx.AsyncClient, status: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while (answer := await probe(service, client)).status_code != status:
        assert time.monotonic() < deadline, f"{service}: {answer.status_code} {answer.text}"
        await asyncio.sleep(0.5)


async def test_every_service_answers_503_with_retry_after_while_the_database_is_away_and_recovers(
    private_mongo: PrivateMongo,
) -> None:
    infra = InfraSettings(environment="test", mongo_url=private_mongo.url)
    extra = {"gateway": {"owner_email": OWNER["email"], "owner_password": OWNER["password"]}}
    async with contextlib.AsyncExitStack() as stack:
        clients = {}
        for service in PROBES:
            app = build_app(
                service, database=f"outage_{service}", infra=infra, **extra.get(service, {})
            )
            clients[service] = await stack.enter_async_context(running(app))
        for service, client in clients.items():
            answer = await probe(service, client)
            assert answer.status_code == 200, f"{service}: {answer.text}"

        await asyncio.to_thread(private_mongo.servers, "stop")
        timings = {}
        for service, client in clients.items():
            started = time.monotonic()
            answer = await probe(service, client)
            timings[service] = round(time.monotonic() - started, 2)
            assert answer.status_code == 503, f"{service}: {answer.status_code} {answer.text}"
            assert set(answer.json()) == SHAPE
            assert answer.json()["error"] == "database_unavailable"
            assert answer.json()["request_id"] == f"r-{service}"
            assert answer.headers["retry-after"] == str(DATABASE_RETRY_AFTER_SECONDS)
            assert answer.headers["x-request-id"] == f"r-{service}"
            # the process itself is up, and says so
            assert (await client.get("/healthz")).status_code == 200
        print(f"\nseconds to the 503, per service: {timings}")
        assert max(timings.values()) < 10

        await asyncio.to_thread(private_mongo.servers, "start")
        started = time.monotonic()
        for service, client in clients.items():
            await wait_for(service, client, 200, timeout=60)
        print(f"seconds until all served again: {time.monotonic() - started:.1f}")
