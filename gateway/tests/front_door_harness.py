"""Helpers of the gateway tests: little real upstream services served by uvicorn on loopback
ports, the gateway on a database of its own with a first owner, and logins per role."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import FastAPI
from pymongo import AsyncMongoClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from kit.mongo import Document
from kit.testing import build_app, running

OWNER_EMAIL = "owner@studio.test"
OWNER_PASSWORD = "the owner's long password"
CHUNK = 1024 * 1024


def free_port_url() -> str:
    """The URL of a loopback port where nothing listens: a service that is down."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


async def _echo(request: Request) -> Response:
    body = await request.body()
    return JSONResponse(
        {
            "method": request.method,
            "path": request.url.path,
            "raw_path": request.scope["raw_path"].decode("latin-1"),
            "query": request.url.query,
            "headers": {k: v for k, v in request.headers.items()},
            "body": body.decode("latin-1"),
        },
        headers={"set-cookie": "a=1", "x-upstream": "yes"},
    )


async def _teapot(_: Request) -> Response:
    # A service's own error, in a shape that is not the platform's: passed through unchanged.
    return Response(b'{"oops": "short and stout"}', status_code=418, media_type="text/x-teapot")


async def _slow(_: Request) -> Response:
    await asyncio.sleep(5)
    return JSONResponse({"late": True})


async def _upload(request: Request) -> Response:
    digest = hashlib.sha256()
    size = 0
    largest = 0
    async for chunk in request.stream():
        digest.update(chunk)
        size += len(chunk)
        largest = max(largest, len(chunk))
    return JSONResponse({"size": size, "sha256": digest.hexdigest(), "largest_chunk": largest})


async def _download(request: Request) -> Response:
    size = int(request.query_params["size"])

    async def chunks() -> AsyncIterator[bytes]:
        sent = 0
        while sent < size:
            part = min(CHUNK, size - sent)
            yield pattern(sent // CHUNK, part)
            sent += part

    return StreamingResponse(
        chunks(), media_type="application/octet-stream", headers={"content-length": str(size)}
    )


def pattern(index: int, size: int) -> bytes:
    """Chunk `index` of a test body: different bytes per chunk, so order is checked too."""
    return bytes([index % 251]) * size


class Counter:
    def __init__(self) -> None:
        self.calls = 0


def upstream_app(counter: Counter) -> Starlette:
    async def counted(request: Request) -> Response:
        counter.calls += 1
        return await _echo(request)

    return Starlette(
        routes=[
            Route("/teapot", _teapot, methods=["GET", "POST"]),
            Route("/slow", _slow, methods=["GET", "POST"]),
            Route("/upload", _upload, methods=["POST", "PUT"]),
            Route("/download", _download, methods=["GET"]),
            Route(
                "/{path:path}",
                counted,
                methods=["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"],
            ),
        ]
    )


def gateway_settings(unique: str, upstream: str, **overrides: Any) -> dict[str, Any]:
    """The gateway's settings of these tests: its own database, every service at `upstream`."""
    urls = {
        f"{name}_url": upstream
        for name in ("booking", "workflow", "render", "delivery", "maps", "notify")
    }
    return {
        "database": f"t_{unique}",
        "owner_email": OWNER_EMAIL,
        "owner_password": OWNER_PASSWORD,
        "upstream_read_timeout_seconds": 1.0,
        **urls,
        **overrides,
    }


def gateway_app(unique: str, upstream: str, **overrides: Any) -> FastAPI:
    return build_app("gateway", **gateway_settings(unique, upstream, **overrides))


async def login(client: httpx.AsyncClient, email: str, password: str) -> dict[str, Any]:
    answer = await client.post("/auth/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    tokens: dict[str, Any] = answer.json()
    return tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def owner_token(client: httpx.AsyncClient) -> str:
    return str((await login(client, OWNER_EMAIL, OWNER_PASSWORD))["access_token"])


async def user_token(client: httpx.AsyncClient, owner: str, role: str, unique: str) -> str:
    """A new user of `role`, made by the owner, logged in."""
    email = f"{role}-{unique}@studio.test"
    password = f"{role} password of {unique}"
    made = await client.post(
        "/users", json={"email": email, "password": password, "role": role}, headers=bearer(owner)
    )
    assert made.status_code == 201, made.text
    return str((await login(client, email, password))["access_token"])


def echoed(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    seen: dict[str, Any] = json.loads(answer.content)
    return seen


@contextlib.asynccontextmanager
async def gateway_with(
    unique: str, upstream: str, mongo: AsyncMongoClient[Document], **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway with particular settings, over ASGI; its database dropped afterwards."""
    try:
        async with running(gateway_app(unique, upstream, **overrides)) as client:
            yield client
    finally:
        await mongo.drop_database(f"t_{unique}")
