"""A real SMS gateway for the SMS provider tests: a small Starlette app behind uvicorn on a free
loopback port, speaking the API `notify.messages.sms` documents, keeping the messages it
accepted in memory, counting every request that reached it, and misbehaving on request."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from notify.messages.sms import HttpSmsProvider, e164_number

API_KEY = "sms-key-0123456789"


@dataclass(frozen=True)
class ReceivedSms:
    id: str
    sender: str
    to: str
    text: str
    idempotency_key: str


@dataclass
class Misbehaviour:
    """Faults to inject, switchable while the gateway runs: answer the next `unavailable`
    requests with `unavailable_status` and `Retry-After: retry_after` (no header when None);
    refuse messages to `refused_numbers` with 422 `invalid_number`; take the next `drops`
    messages and then drop the connection before answering (the answer is lost, the message
    is not); wait `delay_seconds` before answering."""

    unavailable: int = 0
    unavailable_status: int = 503
    retry_after: str | None = "7"
    refused_numbers: set[str] = field(default_factory=set)
    drops: int = 0
    delay_seconds: float = 0.0


@dataclass
class SmsGateway:
    url: str
    api_key: str
    misbehave: Misbehaviour
    messages: list[ReceivedSms] = field(default_factory=list)
    requests: int = 0  # every request that reached the gateway, answered or not

    def provider(self, **changes: Any) -> HttpSmsProvider:
        """A provider for this gateway; the caller closes it."""
        values: dict[str, Any] = {
            "base_url": self.url,
            "api_key": self.api_key,
            "sender": "Studio",
            "timeout_seconds": 5.0,
        }
        values.update(changes)
        return HttpSmsProvider(**values)


def _error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


def gateway_app(gateway: SmsGateway) -> Starlette:
    numbers = itertools.count(1)
    by_key: dict[str, ReceivedSms] = {}

    async def create_message(request: Request) -> Response:
        gateway.requests += 1
        faults = gateway.misbehave
        body = await request.body()
        if faults.delay_seconds:
            await asyncio.sleep(faults.delay_seconds)
        if faults.unavailable:
            faults.unavailable -= 1
            headers = {} if faults.retry_after is None else {"Retry-After": faults.retry_after}
            return _error(faults.unavailable_status, "unavailable", "try again later", **headers)
        if request.headers.get("authorization") != f"Bearer {gateway.api_key}":
            return _error(401, "unauthorized", "unknown API key")
        key = request.headers.get("idempotency-key")
        if not key:
            return _error(400, "missing_idempotency_key", "an Idempotency-Key is required")
        try:
            payload = json.loads(body)
            sender, to, text = payload["from"], payload["to"], payload["text"]
        except (ValueError, TypeError, KeyError):
            return _error(400, "bad_request", "from, to and text are required")
        if not all(isinstance(value, str) for value in (sender, to, text)):
            return _error(400, "bad_request", "from, to and text must be strings")
        if key in by_key:
            seen = by_key[key]
            if (seen.sender, seen.to, seen.text) != (sender, to, text):
                return _error(409, "idempotency_conflict", "key used for another message")
            return JSONResponse({"id": seen.id, "status": "queued"}, status_code=200)
        if e164_number(to) != to or to in faults.refused_numbers:
            return _error(422, "invalid_number", f"{to} is not a valid mobile number")
        if not text or len(text) > 1600:
            return _error(422, "invalid_text", "text must have 1 to 1600 characters")
        message = ReceivedSms(f"SM{next(numbers):06d}", sender, to, text, key)
        by_key[key] = message
        gateway.messages.append(message)
        if faults.drops:
            faults.drops -= 1
            # ASGI cannot drop a connection; uvicorn's h11 cycle holds the transport.
            request.receive.__self__.transport.abort()  # type: ignore[attr-defined]
            return Response(status_code=500)
        return JSONResponse({"id": message.id, "status": "queued"}, status_code=201)

    return Starlette(routes=[Route("/v1/messages", create_message, methods=["POST"])])


@contextlib.asynccontextmanager
async def running_sms_gateway(
    api_key: str = API_KEY, misbehave: Misbehaviour | None = None
) -> AsyncIterator[SmsGateway]:
    """The fake gateway on 127.0.0.1 (a free port); its API is under `/v1`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    gateway = SmsGateway(f"http://127.0.0.1:{port}/v1", api_key, misbehave or Misbehaviour())
    config = uvicorn.Config(
        gateway_app(gateway), http="h11", lifespan="off", log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield gateway
    finally:
        server.should_exit = True
        await task
        sock.close()
