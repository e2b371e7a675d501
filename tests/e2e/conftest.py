"""The whole platform as separate processes, started the way `make run` starts it
(`infra/local/services.sh`), on ports, databases and Kafka topics of its own beside the test
servers; the tests talk to the gateway alone.

Its own topics (`STUDIO_TOPIC_PREFIX`) keep the consumers from replaying what every other test
published; its own databases are dropped afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from kit.mongo import connect_mongo
from kit.settings import InfraSettings
from kit.testing import (
    platform_env,
    platform_logs,
    platform_ports,
    services_sh,
    write_platform_env,
)

# Below the ephemeral port range, apart from `make run` (8000-8007), `make fuzz` (18100-18107)
# and the test servers.
PORTS = platform_ports(18000)
OWNER_EMAIL = "owner@e2e.studio.test"
OWNER_PASSWORD = "the e2e owner's long password"


@dataclass
class Inbox:
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


@dataclass
class Platform:
    gateway: str
    topic_prefix: str
    databases: dict[str, str]
    inbox: Inbox
    state: Path

    def logs(self, lines: int = 30) -> str:
        """The last lines of every process's log, for a failure's message."""
        return platform_logs(self.state, lines)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failing end-to-end test carries the tail of every process's log."""
    report = yield
    platform = getattr(item, "funcargs", {}).get("platform")
    if report.failed and isinstance(platform, Platform):
        report.sections.append(("platform logs", platform.logs()))
    return report


@pytest.fixture(scope="module")
def smtp_inbox() -> Iterator[tuple[Inbox, int]]:
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


def e2e_env(unique: str, smtp_port: int) -> dict[str, str]:
    """The platform's own ports, databases and topics, an owner, and mail to the test inbox."""
    return platform_env(f"e2e{unique}", PORTS) | {
        "GATEWAY_OWNER_EMAIL": OWNER_EMAIL,
        "GATEWAY_OWNER_PASSWORD": OWNER_PASSWORD,
        "DELIVERY_STUDIO_NAME": "Lakeside Portraits",
        "DELIVERY_SMTP_HOST": "127.0.0.1",
        "DELIVERY_SMTP_PORT": str(smtp_port),
        "DELIVERY_PACKAGING_POLL_SECONDS": "0.5",
    }


@pytest.fixture(scope="module")
async def platform(
    infra: InfraSettings, smtp_inbox: tuple[Inbox, int], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Platform]:
    unique = uuid.uuid4().hex[:8]
    state = tmp_path_factory.mktemp("e2e-platform")
    env = e2e_env(unique, smtp_inbox[1])
    write_platform_env(state, env)
    platform = Platform(
        gateway=f"http://127.0.0.1:{PORTS['gateway']}",
        topic_prefix=env["STUDIO_TOPIC_PREFIX"],
        databases={name: env[f"{name.upper()}_DATABASE"] for name in PORTS},
        inbox=smtp_inbox[0],
        state=state,
    )
    started = await asyncio.to_thread(services_sh, "start", state, timeout=240)
    try:
        if started.returncode != 0:
            pytest.fail(
                f"the platform did not start:\n{started.stderr}\n{platform.logs()}", pytrace=False
            )
        yield platform
    finally:
        await asyncio.to_thread(services_sh, "stop", state, timeout=120)
        mongo = connect_mongo(infra.mongo_url, app_name="e2e-cleanup")
        with contextlib.suppress(Exception):
            for database in platform.databases.values():
                await mongo.drop_database(database)
        await mongo.close()


@pytest.fixture(scope="module")
async def front_door(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the gateway only: the studio's front end and its clients' browsers."""
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=60) as client:
        yield client
