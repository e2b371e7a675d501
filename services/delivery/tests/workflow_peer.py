"""The real workflow service in-process beside delivery, for the tests where delivery reads
workflow through its HTTP API (groups, selections, invoices): on the same servers, storing its
images in the bucket delivery packages from."""

from __future__ import annotations

import contextlib
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from PIL import Image
from pymongo import AsyncMongoClient

from delivery.deliveries.workflow_images import CALLER, HTTP_KEY
from kit.events.consumer import HandlerContext
from kit.events.contracts.booking import SessionBooked
from kit.events.envelope import Envelope, source_of
from kit.mongo import Document
from kit.settings import InfraSettings
from kit.testing import build_app, running
from workflow.sessions.service import SessionService


def through_workflow(service: Any, wf_app: Any) -> None:
    """Delivery's calls to workflow go to the in-process workflow service."""
    service.ctx.platform.extras[HTTP_KEY] = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=wf_app),
        base_url="http://workflow.test",
        headers=CALLER,
    )


def picture(shade: int) -> bytes:
    image = Image.new("RGB", (64, 48), (shade, 90, 140))
    out = io.BytesIO()
    image.save(out, format="JPEG")
    return out.getvalue()


@contextlib.asynccontextmanager
async def workflow_service(
    unique: str, infra: InfraSettings
) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """The real workflow service, storing its images in the bucket delivery packages from."""
    app = build_app("workflow", database=f"t_{unique}_wf", infra=infra)
    try:
        async with running(app) as http:
            yield app, http
    finally:
        client: AsyncMongoClient[Document] = AsyncMongoClient(infra.mongo_url)
        await client.drop_database(f"t_{unique}_wf")
        await client.close()


async def booked_with_images(workflow: Any, http: httpx.AsyncClient, session: str) -> list[str]:
    """A booked session (booking's event, handled as workflow's consumer does) with 4 images."""
    starts = datetime(2026, 12, 1, 10, tzinfo=UTC)
    booked = SessionBooked(
        session_id=session,
        session_number=f"N-{session[-6:]}",
        client_id="client-1",
        session_type_id="portrait",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
    )
    envelope = Envelope.wrap(booked, subject=session, source=source_of("tests"))
    await SessionService(workflow).session_scheduled(booked, HandlerContext(envelope))
    answer = await http.post(
        f"/workflow/sessions/{session}/imports",
        files=[("files", (f"IMG_000{i}.jpg", picture(40 * i), "image/jpeg")) for i in range(1, 5)],
        data={"options": '{"image_folders": ["hires"], "raw_folder": "raw"}'},
    )
    assert answer.status_code == 201, answer.text
    return [f["image_id"] for f in answer.json()["files"]]
