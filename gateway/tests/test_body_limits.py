"""Body limits through the front door (issue 14): a 100 MB JSON body to a service is refused
with the service's 413 in the one error shape and passed back by the gateway, with neither
holding the body; the gateway's own routes refuse one themselves; both on real ports."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import AsyncIterator

import httpx
from front_door_harness import bearer, gateway_app, owner_token
from pymongo import AsyncMongoClient

from kit.mongo import Document
from kit.settings import InfraSettings
from kit.testing import build_app, served

SHAPE = {"error", "message", "detail", "request_id"}
MIB = 1024 * 1024
HUNDRED_MB = 100 * 1000 * 1000


class Sent:
    def __init__(self) -> None:
        self.bytes = 0


async def spaces(total: int, sent: Sent) -> AsyncIterator[bytes]:
    piece = b" " * (64 * 1024)
    while sent.bytes < total:
        sent.bytes += len(piece)
        yield piece


async def test_a_100_mb_json_body_is_refused_by_the_service_behind_and_by_the_gateway_itself(
    infra: InfraSettings, unique: str, upstream: str, mongo: AsyncMongoClient[Document]
) -> None:
    booking = build_app("booking", database=f"t_{unique}_booking")
    try:
        async with served(booking, lifespan="on") as booking_url:
            app = gateway_app(unique, upstream, booking_url=booking_url)
            async with (
                served(app, lifespan="on") as url,
                httpx.AsyncClient(base_url=url, timeout=60) as client,
            ):
                owner = bearer(await owner_token(client))
                tracemalloc.start()
                try:
                    sent = Sent()
                    started = time.monotonic()
                    to_booking = await client.post(
                        "/api/booking/clients",
                        content=spaces(HUNDRED_MB, sent),
                        headers={**owner, "content-type": "application/json", "X-Request-ID": "r1"},
                    )
                    seconds = time.monotonic() - started
                    _, peak = tracemalloc.get_traced_memory()
                finally:
                    tracemalloc.stop()
                declared = await client.post(
                    "/auth/login",
                    content=b" " * (2 * MIB),
                    headers={"content-type": "application/json", "X-Request-ID": "r2"},
                )
    finally:
        await mongo.drop_database(f"t_{unique}")
        await mongo.drop_database(f"t_{unique}_booking")

    print(f"\nthrough the gateway: {sent.bytes} of {HUNDRED_MB} sent, {seconds:.2f} s, peak {peak}")
    assert to_booking.status_code == 413, to_booking.text
    assert set(to_booking.json()) == SHAPE
    assert to_booking.json()["error"] == "payload_too_large"
    assert to_booking.json()["detail"]["limit_bytes"] == MIB
    assert to_booking.json()["request_id"] == "r1"
    # httpx sends a whole body before it reads the answer, so it does send all 100 MB; booking
    # refused at 1 MiB and the rest was discarded as it came, never held (gateway, booking and
    # client run in this one process: their peak together stays a few MB).
    assert peak < 32 * MIB
    assert declared.status_code == 413
    assert declared.json()["error"] == "payload_too_large"
    assert declared.json()["detail"] == {"limit_bytes": MIB, "bytes": 2 * MIB}
    assert declared.json()["request_id"] == "r2"
