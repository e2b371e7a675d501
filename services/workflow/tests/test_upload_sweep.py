"""Presigned uploads that are never imported, or only partly, do not stay in storage: once their
URLs have expired (plus a grace period for an upload still running) a periodic sweep removes
what is staged."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from image_factory import booked_session, picture
from workflow_harness import Workflow

from kit.testing import build_app, eventually, running
from workflow.archive import objects
from workflow.images.service import ImageService


async def presigned(workflow: Workflow, session_id: str, names: list[str], expires_in: int) -> Any:
    answer = await workflow.client.post(
        f"/workflow/sessions/{session_id}/uploads",
        json={"names": names, "expires_in": expires_in},
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


async def put(batch: Any, name: str, body: bytes) -> None:
    url = next(f["url"] for f in batch["files"] if f["name"] == name)
    async with httpx.AsyncClient() as s3:
        answer = await s3.put(url, content=body)
    assert answer.status_code == 200, answer.text


async def staged(workflow: Workflow, batch: Any) -> set[str]:
    bucket = workflow.context.settings.infra.images_bucket
    prefix = f"uploads/{batch['session_id']}/{batch['upload_id']}/"
    client = workflow.context.storage.client
    found = await asyncio.to_thread(objects.list_objects, client, bucket, prefix)
    return {o.key.removeprefix(prefix) for o in found}


async def test_expired_uploads_never_or_partly_imported_are_swept_and_live_ones_stay(
    workflow: Workflow, unique: str
) -> None:
    session_id = await booked_session(workflow, f"sweep-{unique}")
    forgotten = await presigned(workflow, session_id, ["A_1.jpg", "A_2.jpg"], expires_in=60)
    await put(forgotten, "A_1.jpg", picture("JPEG", shade=1))
    await put(forgotten, "A_2.jpg", picture("JPEG", shade=2))
    partly = await presigned(workflow, session_id, ["B_1.jpg", "B_2.jpg"], expires_in=60)
    await put(partly, "B_1.jpg", picture("JPEG", shade=3))
    imported = await workflow.client.post(
        f"/workflow/sessions/{session_id}/imports/uploaded", json={"upload_id": partly["upload_id"]}
    )
    assert imported.json()["stored"] == 1, imported.text
    # The URL is still good after the import: a file sent late stays staged.
    await put(partly, "B_2.jpg", picture("JPEG", shade=4))
    running_long = await presigned(workflow, session_id, ["C_1.jpg"], expires_in=24 * 3600)
    await put(running_long, "C_1.jpg", picture("JPEG", shade=5))

    images = ImageService(workflow.context)
    assert await images.sweep_staged_uploads() == 0
    assert await staged(workflow, forgotten) == {"A_1.jpg", "A_2.jpg"}
    grace = timedelta(seconds=workflow.context.settings.upload_sweep_grace_seconds)
    expired = datetime.now(UTC) + timedelta(seconds=60)
    # Within the grace period nothing goes; an upload begun just before expiry may be running.
    assert await images.sweep_staged_uploads(expired + grace - timedelta(seconds=30)) == 0
    assert await images.sweep_staged_uploads(expired + grace + timedelta(seconds=5)) == 3
    assert await staged(workflow, forgotten) == set()
    assert await staged(workflow, partly) == set()
    assert await staged(workflow, running_long) == {"C_1.jpg"}
    # Once swept a batch is forgotten: sweeping again finds nothing, importing it finds nothing.
    assert await images.sweep_staged_uploads(expired + grace + timedelta(seconds=5)) == 0
    late = await workflow.client.post(
        f"/workflow/sessions/{session_id}/imports/uploaded",
        json={"upload_id": forgotten["upload_id"]},
    )
    assert late.status_code == 404
    assert late.json()["error"] == "not_found"
    # What was imported is untouched.
    listed = (await workflow.client.get(f"/workflow/sessions/{session_id}/images")).json()
    assert [i["original_name"] for i in listed] == ["B_1.jpg"]


async def test_the_service_sweeps_on_its_own_every_interval(
    workflow: Workflow, unique: str
) -> None:
    session_id = await booked_session(workflow, f"sweeper-{unique}")
    batch = await presigned(workflow, session_id, ["D_1.jpg"], expires_in=60)
    await put(batch, "D_1.jpg", picture("JPEG", shade=6))
    # A minute passes: the batch's expiry is a field, read by the sweep.
    await workflow.db["upload_batches"].update_one(
        {"_id": batch["upload_id"]},
        {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=61)}},
    )
    assert await staged(workflow, batch) == {"D_1.jpg"}  # the test's own service waits longer
    # A second replica on the same database, sweeping every 0.1 s with no grace.
    replica = build_app(
        "workflow",
        database=workflow.context.settings.database,
        upload_sweep_seconds=0.1,
        upload_sweep_grace_seconds=0,
    )
    async with running(replica):

        async def swept() -> bool:
            return not await staged(workflow, batch)

        await eventually(swept, timeout=20, what="the staged upload swept")
    assert await workflow.db["upload_batches"].find_one({"_id": batch["upload_id"]}) is None
