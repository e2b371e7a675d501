"""Helpers for the platform's tests (never imported by service code).

Tests run services in-process with their real lifespan against the real servers, and read
Kafka topics directly to see what was published.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import secrets
import shlex
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import httpx
import uvicorn
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from fastapi import FastAPI

SERVICES = ("booking", "workflow", "render", "delivery", "maps", "notify", "gateway", "web")
# infra/local/services.sh of the workspace this (editable) kit belongs to.
SERVICES_SH = Path(__file__).resolve().parents[4] / "infra" / "local" / "services.sh"


def build_app(service: str, **overrides: Any) -> FastAPI:
    """`<service>.main.create_app` with its settings read from the environment plus `overrides`."""
    config = importlib.import_module(f"{service}.config")
    main = importlib.import_module(f"{service}.main")
    settings_class = getattr(config, f"{service.capitalize()}Settings")
    app: FastAPI = main.create_app(settings_class(**overrides))
    return app


@contextlib.asynccontextmanager
async def served(
    app: Any, *, lifespan: Literal["on", "off"] = "off", config: uvicorn.Config | None = None
) -> AsyncIterator[str]:
    """`app` behind a real uvicorn on a free loopback port (with `config`, e.g. the kit's
    `server_config`, whose host and port are then ignored); yields its base URL. With
    `lifespan="on"` the app's own lifespan runs (a service with its clients)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = config or uvicorn.Config(app, lifespan=lifespan, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


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


def platform_ports(first: int) -> dict[str, int]:
    """Ports for the whole platform as processes: the gateway on `first`, the services after it
    in `SERVICES` order (keep them below the ephemeral range and apart from 8000-8007)."""
    names = ("gateway", *(name for name in SERVICES if name != "gateway"))
    return {name: first + n for n, name in enumerate(names)}


_held_blocks: list[int] = []  # lock files of the port blocks this process uses, open until exit


def free_port_block(size: int, first: int, last: int) -> int:
    """The first port of `size` consecutive free loopback ports in `first`-`last` (steps of
    10), so that two platforms started on one machine do not collide: a block is this
    process's while it lives (an exclusive lock file), so a platform starting meanwhile in
    another process skips it even before its ports are bound."""
    import fcntl
    import tempfile

    for start in range(first, last, 10):
        lock = os.open(
            os.path.join(tempfile.gettempdir(), f"studio-ports-{start}.lock"),
            os.O_CREAT | os.O_RDWR,
            0o600,
        )
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(lock)
            continue
        socks = []
        try:
            for port in range(start, start + size):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
        except OSError:
            os.close(lock)
            continue
        finally:
            for sock in socks:
                sock.close()
        _held_blocks.append(lock)
        return start
    raise RuntimeError(f"no block of {size} free ports in {first}-{last}")


def platform_env(name: str, ports: Mapping[str, int]) -> dict[str, str]:
    """What the platform's processes read: the test servers (this process's `STUDIO_*`), plus
    `ports`, databases `<name>_<service>` and a topic prefix `<name>.` of their own, so that
    its consumers never replay what the tests published; each service finds its neighbours."""
    env = {k: v for k, v in os.environ.items() if k.startswith(("STUDIO_", "BOOKING_STRIPE_"))}
    env["STUDIO_TOPIC_PREFIX"] = f"{name}."
    env["STUDIO_ENVIRONMENT"] = "test"
    for service, port in ports.items():
        env[f"{service.upper()}_PORT"] = str(port)
        env[f"{service.upper()}_DATABASE"] = f"{name}_{service}"
        if service not in ("gateway", "web"):
            env[f"GATEWAY_{service.upper()}_URL"] = f"http://127.0.0.1:{port}"
    gateway = f"http://127.0.0.1:{ports['gateway']}"
    if "web" in ports:
        env["WEB_GATEWAY_URL"] = gateway
        env["WEB_PUBLIC_URL"] = f"http://127.0.0.1:{ports['web']}"
    env |= {
        # The services refuse calls the gateway or a peer did not sign, as in `make run`.
        "STUDIO_INTERNAL_AUTH": "true",
        "STUDIO_INTERNAL_SECRET": secrets.token_urlsafe(32),
        "DELIVERY_WORKFLOW_URL": f"http://127.0.0.1:{ports['workflow']}",
        # Clients' booking links open the web app's pages when there is one.
        "BOOKING_PUBLIC_BASE_URL": env.get("WEB_PUBLIC_URL", gateway),
        "DELIVERY_PUBLIC_BASE_URL": gateway,
        "NOTIFY_PUBLIC_BASE_URL": gateway,
        "NOTIFY_WORKFLOW_URL": f"http://127.0.0.1:{ports['workflow']}",
        "NOTIFY_UNSUBSCRIBE_SECRET": secrets.token_urlsafe(32),
        "RENDER_WORKFLOW_URL": f"http://127.0.0.1:{ports['workflow']}",
        "DELIVERY_RENDER_URL": f"http://127.0.0.1:{ports['render']}",
        "RENDER_WORKER_CONCURRENCY": "1",
        "STUDIO_LOG_LEVEL": "INFO",
    }
    return env


def write_platform_env(state: Path, env: Mapping[str, str]) -> None:
    """`state/env`, which `services.sh` reads when `STUDIO_STATE_DIR` is `state`."""
    state.mkdir(parents=True, exist_ok=True)
    (state / "env").write_text("".join(f"{k}={shlex.quote(v)}\n" for k, v in env.items()))


def services_sh(command: str, state: Path, *, timeout: float) -> subprocess.CompletedProcess[str]:
    """`infra/local/services.sh <command>` for the platform whose state folder is `state`
    (its `env`, pid files and logs); blocking, so async callers run it in a thread."""
    run_env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "STUDIO_STATE_DIR": str(state),
    }
    if os.environ.get("PYTHONPATH"):  # sources of another checkout, ahead of the installed
        run_env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return subprocess.run(
        [str(SERVICES_SH), command],
        env=run_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def platform_logs(state: Path, lines: int = 30) -> str:
    """The last lines of every process's log in `state/logs`, for a failure's message."""
    parts = []
    for log in sorted((state / "logs").glob("*.log")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        parts.append(f"--- {log.name}\n" + "\n".join(tail))
    return "\n".join(parts)
