"""Request limits (issue 14): a 100 MB JSON body is refused with 413 in the one error shape
before it is read, and the process does not grow; a 100 KiB query string is a 414 in the same
shape on every service; a request head no server should read is a 400 in the shape too.

The service runs as its own process (booking, `python -m booking`) behind its real uvicorn, so
its memory is measured apart from the test's, and the bodies go over a real socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import psutil
import pytest
from pymongo import AsyncMongoClient
from starlette.types import ASGIApp, Receive, Scope, Send

from kit.mongo import Document
from kit.testing import SERVICES, build_app, running

SHAPE = {"error", "message", "detail", "request_id"}
MIB = 1024 * 1024
HUNDRED_MB = 100 * 1000 * 1000
CHUNK = 64 * 1024


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    sent: int  # body bytes the client got onto the socket before the answer came


@dataclass
class ServiceProcess:
    port: int
    process: subprocess.Popen[bytes]

    def rss(self) -> int:
        return int(psutil.Process(self.process.pid).memory_info().rss)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spawn(command: list[str], env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


@pytest.fixture
async def booking_process(
    unique: str, mongo: AsyncMongoClient[Document], tmp_path: Path
) -> AsyncIterator[ServiceProcess]:
    port = _free_port()
    database = f"t_{unique}"
    env = {**os.environ, "BOOKING_PORT": str(port), "BOOKING_DATABASE": database}
    log = (tmp_path / "booking.log").open("wb")
    process = _spawn([sys.executable, "-m", "booking"], env, log)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, (tmp_path / "booking.log").read_text()[-3000:]
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/readyz")).status_code == 200:
                        break
                assert time.monotonic() < deadline, "booking did not get ready in 60 s"
                await asyncio.sleep(0.2)
            # Warm: the first real request loads what every later one uses.
            assert (await client.get("/clients")).status_code == 200
        yield ServiceProcess(port, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        await mongo.drop_database(database)


def _read_answer(sock: socket.socket) -> tuple[int, dict[str, str], dict[str, Any]]:
    data = b""
    sock.settimeout(10)
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        more = sock.recv(65536)
        if not more:
            break
        rest += more
    return status, headers, json.loads(rest[:length])


def _send_until_answered(sock: socket.socket, data: bytes) -> tuple[int, bool]:
    """Send `data` on a non-blocking socket until the server answers or stops reading (then
    it may close and reset the connection: that ends the sending, not the test). Returns
    the bytes sent and whether all of them were."""
    view = memoryview(data)
    sent = 0
    while view:
        readable, writable, _ = select.select([sock], [sock], [], 5)
        if readable:
            break
        if not writable:
            raise AssertionError("the server neither read the request nor answered in 5 s")
        try:
            n = sock.send(view)
        except (BrokenPipeError, ConnectionResetError):
            break
        sent += n
        view = view[n:]
    return sent, not view


def send_body(port: int, head: bytes, chunks: Iterator[bytes]) -> Answer:
    """Send `head`, then body chunks until the server answers (or stops reading): how much of
    the body was on the wire before the answer says whether the server waited for it."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setblocking(False)
        # A head the server refuses (past what it reads of one) is answered before it is all
        # sent: the server closes on the rest, so even the head goes out as the body does.
        _, whole_head = _send_until_answered(sock, head)
        sent = 0
        if whole_head:
            for chunk in chunks:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break
                n, whole = _send_until_answered(sock, chunk)
                sent += n
                if not whole:
                    break
        sock.setblocking(True)
        status, headers, body = _read_answer(sock)
        return Answer(status, headers, body, sent)


def _json_head(target: str, request_id: str, *, length: int | None) -> bytes:
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return (
        f"POST {target} HTTP/1.1\r\nHost: studio.test\r\nContent-Type: application/json\r\n"
        f"X-Request-ID: {request_id}\r\n{framing}\r\n\r\n"
    ).encode()


def _spaces(total: int, *, chunked: bool = False) -> Iterator[bytes]:
    piece = b" " * CHUNK
    for _ in range(total // CHUNK):
        yield f"{CHUNK:x}\r\n".encode() + piece + b"\r\n" if chunked else piece


def assert_error(answer: Answer, status: int, code: str, request_id: str) -> None:
    assert answer.status == status, answer.body
    assert set(answer.body) == SHAPE
    assert answer.body["error"] == code
    assert answer.body["request_id"] == request_id
    assert answer.headers["x-request-id"] == request_id


async def test_a_100_mb_json_body_is_refused_with_413_before_it_is_read_and_memory_stays_flat(
    booking_process: ServiceProcess,
) -> None:
    before = booking_process.rss()
    head = _json_head("/clients", "req-big", length=HUNDRED_MB)

    answer = await asyncio.to_thread(send_body, booking_process.port, head, _spaces(HUNDRED_MB))

    after = booking_process.rss()
    assert_error(answer, 413, "payload_too_large", "req-big")
    assert answer.body["detail"] == {"limit_bytes": MIB, "bytes": HUNDRED_MB}
    assert "at most 1 MiB" in answer.body["message"]
    # Refused on its Content-Length: what reached the socket is what its buffers took.
    assert answer.sent < 16 * MIB, answer.sent
    assert after - before < 16 * MIB, (before, after)
    print(f"\n100 MB declared: {answer.sent} bytes sent; RSS {before} -> {after}")


async def test_a_100_mb_body_without_a_length_is_cut_off_once_past_the_limit(
    booking_process: ServiceProcess,
) -> None:
    before = booking_process.rss()
    head = _json_head("/clients", "req-chunked", length=None)

    answer = await asyncio.to_thread(
        send_body, booking_process.port, head, _spaces(HUNDRED_MB, chunked=True)
    )

    after = booking_process.rss()
    assert_error(answer, 413, "payload_too_large", "req-chunked")
    assert answer.body["detail"] == {"limit_bytes": MIB, "bytes": None}
    assert answer.sent < 24 * MIB, answer.sent
    assert after - before < 16 * MIB, (before, after)
    print(f"\n100 MB chunked: {answer.sent} bytes sent; RSS {before} -> {after}")


async def test_a_body_within_the_limit_still_reaches_the_route(
    booking_process: ServiceProcess,
) -> None:
    body = json.dumps({"first_name": "Ada", "last_name": "Lovelace", "notes": "x" * 500_000})
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{booking_process.port}") as client:
        answer = await client.post(
            "/clients", content=body, headers={"content-type": "application/json"}
        )
    assert answer.status_code in (201, 422), answer.text
    assert answer.json().get("error") != "payload_too_large"


def _get(port: int, target: bytes, request_id: str) -> Answer:
    head = b"GET " + target + b" HTTP/1.1\r\nHost: studio.test\r\nX-Request-ID: "
    head += request_id.encode() + b"\r\n\r\n"
    return send_body(port, head, iter(()))


async def test_a_100_kib_query_string_is_a_414_and_a_huge_head_a_400_in_the_error_shape(
    booking_process: ServiceProcess,
) -> None:
    query = b"q=" + b"x" * (100 * 1024)
    answer = await asyncio.to_thread(_get, booking_process.port, b"/clients?" + query, "req-q")
    assert_error(answer, 414, "uri_too_long", "req-q")
    assert answer.body["detail"] == {"limit_bytes": 60 * 1024, "bytes": len(query)}

    # Past what the server reads of a request head at all (256 KiB while it is incomplete), the
    # server answers itself, in the same shape, with an id of its own.
    huge = b"/clients?q=" + b"x" * (4 * MIB)
    refused = await asyncio.to_thread(_get, booking_process.port, huge, "req-huge")
    assert refused.status == 400
    assert set(refused.body) == SHAPE
    assert refused.body["error"] == "bad_request"
    assert refused.headers["x-request-id"] == refused.body["request_id"]

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{booking_process.port}") as client:
        # Under the limit, a 50 KB query reaches the route, whose own checks answer it (a name
        # is at most 200 characters), not the size limit.
        under = await client.get("/clients", params={"name": "x" * 50_000})
        assert under.status_code == 422
        assert under.json()["error"] == "validation_error"
        assert under.json()["detail"][0]["location"] == ["query", "name"]


def with_query(app: ASGIApp, query: bytes) -> ASGIApp:
    """`app`, handed `query` as the request's query string (httpx sends no URL over 64 KiB;
    a server hands the app what the request line held)."""

    async def as_sent(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = {**scope, "query_string": query}
        await app(scope, receive, send)

    return as_sent


@pytest.mark.parametrize("service", [s for s in SERVICES if s != "web"])
async def test_every_service_answers_a_100_kib_query_string_with_414_in_the_error_shape(
    service: str, unique: str, mongo: AsyncMongoClient[Document]
) -> None:
    database = f"t_{unique}"
    app = build_app(service, database=database)
    try:
        async with running(app) as client:
            transport = httpx.ASGITransport(app=with_query(app, b"q=" + b"x" * (100 * 1024)))
            async with httpx.AsyncClient(transport=transport, base_url="http://s.test") as raw:
                answer = await raw.get("/healthz", headers={"X-Request-ID": "req-s"})
            assert answer.status_code == 414, answer.text
            assert set(answer.json()) == SHAPE
            assert answer.json()["error"] == "uri_too_long"
            assert answer.json()["request_id"] == "req-s"
            assert (await client.get("/healthz", params={"q": "x" * 1000})).status_code == 200
    finally:
        await mongo.drop_database(database)
