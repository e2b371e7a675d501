"""The gateway in front of the real workflow service (both on real ports): a photographer with a
staff token streams a multipart import of a shoot through the front door; the service checks,
stores and reports each file and records who imported it."""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from front_door_harness import bearer, gateway_app, owner_token, user_token
from PIL import Image
from pymongo import AsyncMongoClient

from kit.events.consumer import HandlerContext
from kit.events.contracts.booking import SessionBooked
from kit.events.envelope import Envelope, source_of
from kit.mongo import Document
from kit.testing import build_app, served
from workflow.context import context_of
from workflow.sessions.service import SessionService

BOUNDARY = "studio-test-boundary-7f3a"


def noisy_jpeg(width: int, height: int, seed: int) -> bytes:
    """A JPEG that does not compress well (several MiB), so the upload takes many chunks."""
    noise = random.Random(seed).randbytes(width * height * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), noise).save(out, format="JPEG", quality=95)
    return out.getvalue()


async def multipart(files: list[tuple[str, bytes]], chunk: int = 64 * 1024) -> AsyncIterator[bytes]:
    """A multipart body sent as a stream of small chunks (chunked transfer, no length)."""
    for name, body in files:
        yield (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        for start in range(0, len(body), chunk):
            yield body[start : start + chunk]
        yield b"\r\n"
    options = '{"rename": "session_prefix", "keywords": ["gateway"]}'
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="options"\r\n\r\n'
        f"{options}\r\n--{BOUNDARY}--\r\n"
    ).encode()


async def book(app: FastAPI, session_id: str) -> None:
    """Booking's `booking.session.booked.v1`, handled as the workflow's consumer handles it."""
    platform = app.state.platform
    starts = datetime(2026, 12, 1, 10, tzinfo=UTC)
    booked = SessionBooked(
        session_id=session_id,
        session_number="S20001",
        client_id="client-1",
        client_name="Ann Lee",
        session_type_id="portrait",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
    )
    envelope = Envelope.wrap(booked, subject=session_id, source=source_of("tests"))
    await SessionService(context_of(platform)).session_scheduled(booked, HandlerContext(envelope))


async def test_a_photographer_streams_an_import_through_the_gateway_to_workflow(
    unique: str, upstream: str, mongo: AsyncMongoClient[Document]
) -> None:
    session_id = f"gw-{unique}"
    big = noisy_jpeg(1800, 1200, seed=5)
    small = noisy_jpeg(64, 48, seed=6)
    files = [("IMG_0001.jpg", big), ("IMG_0002.jpg", small), ("IMG_0003.jpg", big[: len(big) // 2])]
    workflow = build_app("workflow", database=f"t_{unique}_workflow")
    try:
        async with served(workflow, lifespan="on") as workflow_url:
            await book(workflow, session_id)
            app = gateway_app(
                unique, upstream, workflow_url=workflow_url, upstream_read_timeout_seconds=60
            )
            async with (
                served(app, lifespan="on") as url,
                httpx.AsyncClient(base_url=url, timeout=60) as client,
            ):
                owner = await owner_token(client)
                staff = bearer(await user_token(client, owner, "staff", unique))
                me = (await client.get("/auth/me", headers=staff)).json()
                path = f"/api/workflow/workflow/sessions/{session_id}/imports"
                imported = await client.post(
                    path,
                    content=multipart(files),
                    headers={
                        **staff,
                        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                    },
                )
                listed = await client.get(
                    f"/api/workflow/workflow/sessions/{session_id}/images", headers=staff
                )
                anonymous = await client.post(
                    path,
                    content=multipart(files[1:2]),
                    headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
                )
                bucket = workflow.state.platform.settings.infra.images_bucket
                stored = await workflow.state.platform.storage.get_bytes(
                    bucket, f"sessions/{session_id}/hires/S20001-IMG_0001.jpg"
                )
    finally:
        await mongo.drop_database(f"t_{unique}")
        await mongo.drop_database(f"t_{unique}_workflow")

    assert len(big) > 2 * 1024 * 1024  # dozens of chunks through the gateway
    assert imported.status_code == 201, imported.text
    assert imported.headers["x-request-id"]
    report = imported.json()
    assert (report["stored"], report["skipped"], report["rejected"]) == (2, 0, 1)
    outcomes = {f["original_name"]: f for f in report["files"]}
    assert outcomes["IMG_0001.jpg"]["sha256"] == hashlib.sha256(big).hexdigest()
    assert outcomes["IMG_0001.jpg"]["size"] == len(big)
    assert "truncated" in outcomes["IMG_0003.jpg"]["reason"]
    assert stored == big
    images = listed.json()
    assert [i["name"] for i in images] == ["S20001-IMG_0001.jpg", "S20001-IMG_0002.jpg"]
    assert {i["imported_by"] for i in images} == {me["id"]}
    assert images[0]["keywords"] == ["gateway"]
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "unauthorized"
