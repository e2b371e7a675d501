"""A real HTTP lab API for the HTTP transport tests: a small Starlette app behind uvicorn on a
free loopback port, speaking the API `workflow.lab.http_api` documents, keeping orders and
files in memory, recording what clients did, and misbehaving on request."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import uvicorn
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from workflow.lab.http_api import HttpLabTarget

API_KEY = "lab-key-0123456789"
Handler = Callable[[Request], Awaitable[Response]]
PRODUCTS = frozenset({"Print 20x30", "Canvas 60x90", "Order summary"})


@dataclass
class Asset:
    name: str
    size: int
    sha256: str
    content_type: str
    role: str


@dataclass
class StoredOrder:
    lab_order_id: str
    idempotency_key: str
    body: dict[str, Any]
    assets: dict[str, Asset]
    files: dict[str, bytes] = field(default_factory=dict)
    status: str = "awaiting_files"


@dataclass
class Misbehaviour:
    """Faults to inject: answer `unavailable` requests (of `unavailable_path`, if set) with 503
    and `Retry-After: retry_after`; drop the connection of the next `drops` uploads of
    `drop_upload_of` once `drop_after_bytes` of their bodies arrived."""

    unavailable: int = 0
    unavailable_path: str | None = None
    retry_after: str = "1"
    drop_upload_of: str | None = None
    drop_after_bytes: int = 0
    drops: int = 1


@dataclass
class LabLog:
    """What the lab saw, in order."""

    requests: list[tuple[str, str, int]] = field(default_factory=list)  # method, path, status
    authorizations: list[str | None] = field(default_factory=list)
    idempotency_keys: list[str] = field(default_factory=list)
    uploads: list[str] = field(default_factory=list)  # names, every PUT that reached the lab
    dropped: list[tuple[str, int]] = field(default_factory=list)  # name, bytes received
    received: list[tuple[str, int]] = field(default_factory=list)  # name, body bytes, per PUT
    upload_seconds: float = 0.0


@dataclass
class Lab:
    base_url: str
    orders: dict[str, StoredOrder]
    log: LabLog
    faults: Misbehaviour

    def target(self, **changes: Any) -> HttpLabTarget:
        values: dict[str, Any] = {
            "base_url": self.base_url,
            "api_key": SecretStr(API_KEY),
            "timeout": 5.0,
        }
        values.update(changes)
        return HttpLabTarget(**values)

    def order(self, client_reference: str) -> StoredOrder:
        [found] = [
            o for o in self.orders.values() if o.body["client_reference"] == client_reference
        ]
        return found

    def puts(self) -> list[str]:
        return [path for method, path, _ in self.log.requests if method == "PUT"]


def _signature(path: str) -> str:
    return hashlib.sha256(f"upload-signing-key:{path}".encode()).hexdigest()[:32]


def _error(status: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def lab_app(
    orders: dict[str, StoredOrder],
    lab_log: LabLog,
    faults: Misbehaviour,
    *,
    presigned_uploads: bool = False,
) -> Starlette:
    """The lab's API; with `presigned_uploads` its upload URLs name `localhost` (another origin
    than the API's 127.0.0.1, as a storage bucket would be) and carry their own signature."""
    numbers = itertools.count(5001)
    by_key: dict[str, str] = {}

    def refusal(request: Request) -> Response | None:
        """The answer to a request the lab does not serve (a fault, a wrong key), if any."""
        lab_log.authorizations.append(request.headers.get("authorization"))
        if faults.unavailable and faults.unavailable_path in (None, request.url.path):
            faults.unavailable -= 1
            return _error(503, "down for maintenance", **{"Retry-After": faults.retry_after})
        if request.url.path.startswith("/uploads/") and presigned_uploads:
            if request.query_params.get("sig") != _signature(request.url.path):
                return _error(403, "bad upload signature")
        elif request.headers.get("authorization") != f"Bearer {API_KEY}":
            return _error(401, "unknown API key")
        return None

    def order_answer(order: StoredOrder, request: Request, status: int) -> JSONResponse:
        base = str(request.base_url).rstrip("/")
        if presigned_uploads:
            base = base.replace("//127.0.0.1:", "//localhost:")
        uploads = []
        for name in order.assets:
            path = f"/uploads/{order.lab_order_id}/{quote(name, safe='')}"
            query = f"?sig={_signature(path)}" if presigned_uploads else ""
            uploads.append(
                {"name": name, "url": f"{base}{path}{query}", "received": name in order.files}
            )
        return JSONResponse(
            {"lab_order_id": order.lab_order_id, "status": order.status, "uploads": uploads},
            status_code=status,
        )

    async def create_order(request: Request) -> Response:
        if (refused := refusal(request)) is not None:
            return refused
        key = request.headers.get("idempotency-key")
        if not key:
            return _error(400, "an Idempotency-Key header is required")
        lab_log.idempotency_keys.append(key)
        body = await request.json()
        if key in by_key:
            return order_answer(orders[by_key[key]], request, 200)
        reference = body["client_reference"]
        if any(o.body["client_reference"] == reference for o in orders.values()):
            return _error(409, f"order {reference} exists with other files")
        for item in body["items"]:
            if item["product"] not in PRODUCTS:
                return _error(422, f"unknown product {item['product']!r}")
        order = StoredOrder(
            lab_order_id=f"LAB-{next(numbers)}",
            idempotency_key=key,
            body=body,
            assets={a["name"]: Asset(**a) for a in body["assets"]},
        )
        orders[order.lab_order_id] = order
        by_key[key] = order.lab_order_id
        return order_answer(order, request, 201)

    async def upload(request: Request) -> Response:
        if (refused := refusal(request)) is not None:
            return refused
        order = orders.get(request.path_params["lab_order_id"])
        asset = order.assets.get(request.path_params["name"]) if order else None
        if order is None or asset is None:
            return _error(404, "no such upload")
        lab_log.uploads.append(asset.name)
        if request.headers.get("content-length") != str(asset.size):
            return _error(422, f"{asset.name} was announced as {asset.size} bytes")
        if request.headers.get("x-checksum-sha256") != asset.sha256:
            return _error(422, f"{asset.name} was announced with another checksum")
        started = asyncio.get_running_loop().time()
        digest, parts, received = hashlib.sha256(), [], 0
        try:
            async for chunk in request.stream():
                digest.update(chunk)
                parts.append(chunk)
                received += len(chunk)
                if (
                    faults.drops > 0
                    and faults.drop_upload_of == asset.name
                    and received >= faults.drop_after_bytes
                ):
                    faults.drops -= 1
                    lab_log.dropped.append((asset.name, received))
                    # ASGI cannot drop a connection; uvicorn's h11 cycle holds the transport.
                    request.receive.__self__.transport.abort()  # type: ignore[attr-defined]
                    return Response(status_code=500)
        except ClientDisconnect:
            lab_log.received.append((asset.name, received))
            return Response(status_code=400)  # the client gave up: nothing is kept
        lab_log.received.append((asset.name, received))
        lab_log.upload_seconds += asyncio.get_running_loop().time() - started
        if received != asset.size or digest.hexdigest() != asset.sha256:
            return _error(422, f"{asset.name} does not match its checksum")
        if asset.name in order.files:
            held = hashlib.sha256(order.files[asset.name]).hexdigest()
            return JSONResponse({"sha256": held}, status_code=200 if held == asset.sha256 else 409)
        order.files[asset.name] = b"".join(parts)
        return Response(status_code=201)

    async def submit(request: Request) -> Response:
        if (refused := refusal(request)) is not None:
            return refused
        order = orders.get(request.path_params["lab_order_id"])
        if order is None:
            return _error(404, "no such order")
        if missing := sorted(set(order.assets) - set(order.files)):
            return _error(422, f"files missing: {', '.join(missing)}")
        order.status = "received"
        return JSONResponse({"status": "received"})

    def recorded(handler: Handler) -> Handler:
        # Not a middleware: the upload handler needs uvicorn's own `receive` to drop a connection.
        async def handle(request: Request) -> Response:
            response = await handler(request)
            lab_log.requests.append((request.method, request.url.path, response.status_code))
            return response

        return handle

    return Starlette(
        routes=[
            Route("/api/v1/orders", recorded(create_order), methods=["POST"]),
            Route("/api/v1/orders/{lab_order_id}/submit", recorded(submit), methods=["POST"]),
            Route("/uploads/{lab_order_id}/{name}", recorded(upload), methods=["PUT"]),
        ]
    )


@contextlib.asynccontextmanager
async def running_lab(
    faults: Misbehaviour | None = None, *, presigned_uploads: bool = False
) -> AsyncIterator[Lab]:
    """The fake lab on 127.0.0.1 (a free port); its API is under `/api/v1`."""
    orders: dict[str, StoredOrder] = {}
    lab_log = LabLog()
    faults = faults or Misbehaviour()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        lab_app(orders, lab_log, faults, presigned_uploads=presigned_uploads),
        http="h11",
        lifespan="off",
        log_config=None,
        access_log=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield Lab(f"http://127.0.0.1:{port}/api/v1", orders, lab_log, faults)
    finally:
        server.should_exit = True
        await task
        sock.close()
