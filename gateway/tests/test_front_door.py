"""The front door: `/api/<service>/...` reaches the service, streamed, with the caller's identity;
errors of the service pass unchanged; a down or slow service answers 502/504 in the error shape."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import httpx
from front_door_harness import (
    CHUNK,
    Counter,
    bearer,
    echoed,
    free_port_url,
    gateway_app,
    owner_token,
    pattern,
    user_token,
)
from pymongo import AsyncMongoClient

from kit.mongo import Document
from kit.settings import InfraSettings
from kit.testing import running, served


async def test_staff_reach_a_service_with_the_prefix_stripped_and_their_identity_stated(
    gateway: httpx.AsyncClient, unique: str
) -> None:
    owner = await owner_token(gateway)
    staff = await user_token(gateway, owner, "staff", unique)

    answer = await gateway.post(
        "/api/workflow/workflow/sessions?page=2&q=a%20b",
        content=b'{"title": "wedding"}',
        headers={
            **bearer(staff),
            "content-type": "application/json",
            "x-user-role": "owner",
            "x-user-id": "someone-else",
            "x-request-id": f"req-{unique}",
        },
    )

    seen = echoed(answer)
    assert seen["method"] == "POST"
    assert seen["path"] == "/workflow/sessions"
    assert seen["query"] == "page=2&q=a%20b"
    assert seen["body"] == '{"title": "wedding"}'
    assert seen["headers"]["x-user-id"] == f"staff-{unique}@studio.test"
    assert seen["headers"]["x-user-role"] == "staff"
    assert "authorization" not in seen["headers"]
    assert seen["headers"]["x-request-id"] == f"req-{unique}"
    assert answer.headers.get_list("x-request-id") == [f"req-{unique}"]
    assert answer.headers["x-upstream"] == "yes"
    assert answer.headers["set-cookie"] == "a=1"


async def test_every_request_gets_a_request_id_that_the_service_sees_too(
    gateway: httpx.AsyncClient,
) -> None:
    owner = await owner_token(gateway)

    answer = await gateway.get("/api/maps/maps/renders", headers=bearer(owner))

    request_id = answer.headers["x-request-id"]
    assert request_id
    assert echoed(answer)["headers"]["x-request-id"] == request_id


async def test_a_services_error_answer_passes_through_unchanged(
    gateway: httpx.AsyncClient,
) -> None:
    owner = await owner_token(gateway)

    answer = await gateway.get("/api/booking/teapot", headers=bearer(owner))

    assert answer.status_code == 418
    assert answer.content == b'{"oops": "short and stout"}'
    assert answer.headers["content-type"].startswith("text/x-teapot")


async def test_an_unknown_service_is_not_found(gateway: httpx.AsyncClient) -> None:
    owner = await owner_token(gateway)

    answer = await gateway.get("/api/nothing/here", headers=bearer(owner))

    assert answer.status_code == 404
    assert answer.json()["error"] == "not_found"


async def test_a_service_that_is_down_answers_502_in_the_error_shape(
    infra: InfraSettings, unique: str, upstream: str, mongo: AsyncMongoClient[Document]
) -> None:
    app = gateway_app(unique, upstream, render_url=free_port_url(), read_retries=1)
    try:
        async with running(app) as client:
            owner = await owner_token(client)
            answer = await client.get("/api/render/profiles", headers=bearer(owner))
    finally:
        await mongo.drop_database(f"t_{unique}")

    assert answer.status_code == 502
    body = answer.json()
    assert body["error"] == "bad_gateway"
    assert body["detail"] == {"service": "render"}
    assert body["request_id"] == answer.headers["x-request-id"]


async def test_a_service_that_is_slow_answers_504_in_the_error_shape(
    gateway: httpx.AsyncClient,
) -> None:
    owner = await owner_token(gateway)

    answer = await gateway.get("/api/delivery/slow", headers=bearer(owner))

    assert answer.status_code == 504
    assert answer.json()["error"] == "gateway_timeout"
    assert answer.json()["detail"] == {"service": "delivery"}


@contextlib.asynccontextmanager
async def hanging_up(connections: list[int]) -> AsyncIterator[str]:
    """A service that accepts connections and closes them at once, counting them."""

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        await reader.read(100)
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


async def test_reads_are_retried_and_writes_are_not(
    infra: InfraSettings, unique: str, upstream: str, mongo: AsyncMongoClient[Document]
) -> None:
    connections: list[int] = []
    async with hanging_up(connections) as broken:
        app = gateway_app(unique, upstream, maps_url=broken, read_retries=2)
        try:
            async with running(app) as client:
                owner = await owner_token(client)
                read = await client.get("/api/maps/maps", headers=bearer(owner))
                reads = len(connections)
                write = await client.post("/api/maps/maps", json={}, headers=bearer(owner))
                writes = len(connections) - reads
        finally:
            await mongo.drop_database(f"t_{unique}")

    assert (read.status_code, write.status_code) == (502, 502)
    assert reads == 3
    assert writes == 1


async def _upload_body(size: int) -> AsyncIterator[bytes]:
    for index in range(size // CHUNK):
        yield pattern(index, CHUNK)


async def test_a_200_mb_upload_and_download_stream_through_without_being_held(
    infra: InfraSettings,
    unique: str,
    upstream: str,
    counter: Counter,
    mongo: AsyncMongoClient[Document],
) -> None:
    size = 200 * CHUNK
    expected = hashlib.sha256()
    for index in range(size // CHUNK):
        expected.update(pattern(index, CHUNK))
    app = gateway_app(unique, upstream, upstream_read_timeout_seconds=30.0)
    try:
        async with (
            served(app, lifespan="on") as url,
            httpx.AsyncClient(base_url=url, timeout=60) as client,
        ):
            owner = await owner_token(client)
            tracemalloc.start()
            try:
                uploaded = await client.post(
                    "/api/workflow/upload",
                    content=_upload_body(size),
                    headers={**bearer(owner), "content-length": str(size)},
                )
                received = hashlib.sha256()
                received_size = 0
                async with client.stream(
                    "GET", f"/api/delivery/download?size={size}", headers=bearer(owner)
                ) as download:
                    async for chunk in download.aiter_bytes():
                        received.update(chunk)
                        received_size += len(chunk)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
    finally:
        await mongo.drop_database(f"t_{unique}")

    result: dict[str, Any] = uploaded.json()
    assert uploaded.status_code == 200
    assert result["size"] == size
    assert result["sha256"] == expected.hexdigest()
    assert download.status_code == 200
    assert download.headers["content-length"] == str(size)
    assert received_size == size
    assert received.hexdigest() == expected.hexdigest()
    # Client, gateway and service share this process: together they never held 1/4 of the body.
    assert peak < size // 4, f"peak traced memory {peak / CHUNK:.0f} MB"


async def test_a_read_sent_with_a_body_reaches_the_service_without_it(
    gateway: httpx.AsyncClient,
) -> None:
    owner = await owner_token(gateway)

    answer = await gateway.request(
        "GET", "/api/booking/sessions", content=b"stray body", headers=bearer(owner)
    )

    seen = echoed(answer)
    assert seen["body"] == ""
    assert "content-length" not in seen["headers"]
