"""Forwarded headers: a service started by `kit.app.serve` believes `X-Forwarded-For` and
`X-Forwarded-Proto` only from its configured trusted proxies, so a caller cannot choose the
address that rate limits and logs see. Each test runs `serve` in a real process on a loopback
port, as the services run."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings
from kit.testing import eventually

_SERVICE = """
import sys

from fastapi import FastAPI, Request
from pydantic_settings import SettingsConfigDict

from kit.app import serve
from kit.settings import ServiceSettings


class EchoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ECHO_", extra="ignore")
    service: str = "echo"
    database: str = "echo"


app = FastAPI()


@app.get("/client")
async def client(request: Request) -> dict[str, object]:
    return {"host": request.client.host if request.client else None, "scheme": request.url.scheme}


serve(app, EchoSettings(port=int(sys.argv[1])))
"""

_SPOOFED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}


class EchoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ECHO_", extra="ignore")

    service: str = "echo"
    port: int = 8199
    database: str = "echo"


Started = tuple["subprocess.Popen[bytes]", str]
StartService = Callable[[str | None], Started]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def start_service() -> Iterator[StartService]:
    started: list[subprocess.Popen[bytes]] = []

    def start(trusted_proxies: str | None) -> Started:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ECHO_")}
        if trusted_proxies is not None:
            env["ECHO_TRUSTED_PROXIES"] = trusted_proxies
        port = _free_port()
        process = subprocess.Popen(
            [sys.executable, "-c", _SERVICE, str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        started.append(process)
        return process, f"http://127.0.0.1:{port}"

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=30)
        if process.stderr is not None:
            process.stderr.close()


async def _seen_by(process: subprocess.Popen[bytes], url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url) as client:

        async def up() -> bool:
            if process.poll() is not None:
                assert process.stderr is not None
                raise AssertionError(f"the service exited: {process.stderr.read().decode()}")
            try:
                await client.get("/client")
            except httpx.TransportError:
                return False
            return True

        await eventually(up, timeout=30, what="the service to start")
        answer = await client.get("/client", headers=_SPOOFED)
    assert answer.status_code == 200, answer.text
    seen: dict[str, Any] = answer.json()
    return seen


async def test_a_caller_on_loopback_cannot_choose_its_address_with_x_forwarded_for(
    start_service: StartService,
) -> None:
    seen = await _seen_by(*start_service(None))

    assert seen == {"host": "127.0.0.1", "scheme": "http"}


async def test_a_configured_proxy_states_the_clients_address_and_scheme(
    start_service: StartService,
) -> None:
    seen = await _seen_by(*start_service("10.0.0.0/8, 127.0.0.1"))

    assert seen == {"host": "203.0.113.9", "scheme": "https"}


def test_trusted_proxies_are_addresses_or_networks_and_none_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ECHO_TRUSTED_PROXIES", raising=False)
    assert EchoSettings().trusted_proxies == ()
    monkeypatch.setenv("ECHO_TRUSTED_PROXIES", "10.1.2.3, 192.168.0.0/16,::1")
    assert EchoSettings().trusted_proxies == ("10.1.2.3", "192.168.0.0/16", "::1")
    monkeypatch.setenv("ECHO_TRUSTED_PROXIES", "10.1.2.3,proxy.example")
    with pytest.raises(ValidationError, match=r"not an address or network: 'proxy\.example'"):
        EchoSettings()
