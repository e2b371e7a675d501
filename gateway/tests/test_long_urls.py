"""A path or query string the gateway cannot forward is the caller's clear 4xx in the one
error body, with the request id: over 60 KiB a 414 (it was a 500 from `httpx.InvalidURL`),
control characters or raw bytes past ASCII a 400. httpx will not send such URLs itself, so the
requests reach the gateway's ASGI app with the request line's bytes, as a server hands them on."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from front_door_harness import Counter, bearer, gateway_app, owner_token
from pymongo import AsyncMongoClient
from starlette.types import Receive, Scope, Send

from kit.mongo import Document
from kit.settings import InfraSettings
from kit.testing import running

SHAPE = {"error", "message", "detail", "request_id"}


class RawGateway:
    """The gateway in-process, and a way to send it a request target byte for byte."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient, owner: str) -> None:
        self.app = app
        self.client = client
        self.owner = owner

    async def get(self, raw_target: bytes, request_id: str) -> httpx.Response:
        path, _, query = raw_target.partition(b"?")

        async def as_sent(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                scope = {
                    **scope,
                    "raw_path": path,
                    "path": path.decode("latin-1"),
                    "query_string": query,
                }
            await self.app(scope, receive, send)

        transport = httpx.ASGITransport(app=as_sent)
        async with httpx.AsyncClient(transport=transport, base_url="http://studio.test") as raw:
            return await raw.get(
                "/placeholder", headers={**bearer(self.owner), "X-Request-ID": request_id}
            )


@pytest.fixture
async def raw_gateway(
    infra: InfraSettings, unique: str, upstream: str, mongo: AsyncMongoClient[Document]
) -> AsyncIterator[RawGateway]:
    app = gateway_app(unique, upstream)
    try:
        async with running(app) as client:
            yield RawGateway(app, client, await owner_token(client))
    finally:
        await mongo.drop_database(f"t_{unique}")


def _assert_error(answer: httpx.Response, status: int, code: str, request_id: str) -> None:
    assert answer.status_code == status, answer.text
    assert set(answer.json()) == SHAPE
    assert answer.json()["error"] == code
    assert answer.json()["request_id"] == request_id
    assert answer.headers.get_list("x-request-id") == [request_id]


async def test_a_query_string_over_64_kib_is_a_414_in_the_error_shape(
    raw_gateway: RawGateway, counter: Counter
) -> None:
    long_query = b"q=" + b"x" * (64 * 1024)

    answer = await raw_gateway.get(b"/api/booking/clients?" + long_query, "req-long")
    public = await raw_gateway.get(b"/public/availability?" + long_query, "req-public")

    _assert_error(answer, 414, "uri_too_long", "req-long")
    assert answer.json()["detail"]["limit_bytes"] == 60 * 1024
    _assert_error(public, 414, "uri_too_long", "req-public")
    assert counter.calls == 0


async def test_a_query_under_the_limit_still_reaches_the_service(
    raw_gateway: RawGateway, counter: Counter
) -> None:
    answer = await raw_gateway.get(b"/api/booking/clients?q=" + b"x" * (59 * 1024), "req-ok")

    assert answer.status_code == 200, answer.text
    assert counter.calls == 1


@pytest.mark.parametrize(
    "raw_target",
    [b"/api/booking/clients?q=a\x00b", b"/api/booking/cli\x7fents", b"/api/booking/caf\xff"],
)
async def test_a_path_or_query_no_url_may_hold_is_a_400_in_the_error_shape(
    raw_gateway: RawGateway, counter: Counter, raw_target: bytes
) -> None:
    answer = await raw_gateway.get(raw_target, "req-bad")

    _assert_error(answer, 400, "bad_request", "req-bad")
    assert counter.calls == 0
