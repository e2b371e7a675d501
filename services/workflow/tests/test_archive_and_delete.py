"""Archive a session's originals with a verified manifest; restore; delete after confirming."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from workflow_harness import Workflow

from kit.events.contracts.booking import SessionBooked
from kit.events.contracts.workflow import ImagesDeleted

FILES = {
    "raw/IMG_0001.CR3": b"raw-bytes-1" * 1000,
    "raw/IMG_0002.CR3": b"raw-bytes-2" * 1000,
    "hires/IMG_0001.jpg": b"hires-1" * 500,
    "retouched/IMG_0001.tif": b"retouched-1" * 700,
    "previews/IMG_0001.jpg": b"preview-1" * 100,
}


async def session_with_images(workflow: Workflow, unique: str) -> str:
    session_id = f"arc-{unique}"
    starts_at = datetime(2026, 12, 1, 10, tzinfo=UTC)
    booked = SessionBooked(
        session_id=session_id,
        session_number="S-100",
        client_id="client-1",
        session_type_id="portrait",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
    )
    await workflow.deliver(workflow.envelope(booked, subject=session_id))
    bucket = workflow.context.settings.infra.images_bucket
    for name, body in FILES.items():
        await workflow.context.storage.put(bucket, f"sessions/{session_id}/{name}", body)
    return session_id


async def keys_left(workflow: Workflow, session_id: str) -> set[str]:
    bucket = workflow.context.settings.infra.images_bucket
    return {
        name
        for name in FILES
        if await workflow.context.storage.exists(bucket, f"sessions/{session_id}/{name}")
    }


async def test_archiving_copies_the_originals_with_a_verified_manifest(
    workflow: Workflow, unique: str
) -> None:
    session_id = await session_with_images(workflow, unique)
    answer = await workflow.client.post(
        f"/workflow/sessions/{session_id}/archive", headers={"X-User-Id": "ann"}
    )
    assert answer.status_code == 201, answer.text
    archive = answer.json()
    assert archive["verified"] is True
    assert archive["problems"] == []
    by_source = {f["source_key"].split("/", 2)[2]: f for f in archive["files"]}
    assert set(by_source) == {n for n in FILES if not n.startswith("previews/")}
    for name, file in by_source.items():
        assert file["sha256"] == hashlib.sha256(FILES[name]).hexdigest()
        copied = await workflow.context.storage.get_bytes(archive["bucket"], file["archive_key"])
        assert copied == FILES[name]
    manifest = json.loads(
        await workflow.context.storage.get_bytes(archive["bucket"], archive["manifest_key"])
    )
    assert manifest["session"]["session_number"] == "S-100"
    assert {f["sha256"] for f in manifest["files"]} == {f["sha256"] for f in archive["files"]}
    listed = (await workflow.client.get(f"/workflow/sessions/{session_id}/archives")).json()
    assert [a["archive_id"] for a in listed] == [archive["archive_id"]]
    assert (await workflow.client.get(f"/workflow/sessions/{session_id}")).json()["archived"]


async def test_verification_catches_a_corrupted_archive_copy_and_restore_skips_it(
    workflow: Workflow, unique: str
) -> None:
    session_id = await session_with_images(workflow, unique)
    archive = (await workflow.client.post(f"/workflow/sessions/{session_id}/archive")).json()
    corrupted = next(f for f in archive["files"] if f["folder"] == "hires")
    await workflow.context.storage.put(archive["bucket"], corrupted["archive_key"], b"bit rot")

    checked = (
        await workflow.client.post(f"/workflow/archives/{archive['archive_id']}/verify")
    ).json()
    assert checked["verified"] is False
    assert [p["key"] for p in checked["problems"]] == [corrupted["archive_key"]]
    assert checked["problems"][0]["actual_sha256"] == hashlib.sha256(b"bit rot").hexdigest()
    # With its only archive unverified, the originals may not be deleted.
    refused = await workflow.client.post(
        f"/workflow/sessions/{session_id}/image-deletions", json={}
    )
    assert refused.status_code == 409

    bucket = workflow.context.settings.infra.images_bucket
    for name in ("raw/IMG_0001.CR3", "hires/IMG_0001.jpg"):
        await workflow.context.storage.delete(bucket, f"sessions/{session_id}/{name}")
    restored = (
        await workflow.client.post(f"/workflow/archives/{archive['archive_id']}/restore")
    ).json()
    assert f"sessions/{session_id}/raw/IMG_0001.CR3" in restored["restored"]
    assert [p["key"] for p in restored["problems"]] == [corrupted["archive_key"]]
    raw = await workflow.context.storage.get_bytes(
        bucket, f"sessions/{session_id}/raw/IMG_0001.CR3"
    )
    assert raw == FILES["raw/IMG_0001.CR3"]
    assert "hires/IMG_0001.jpg" not in await keys_left(workflow, session_id)


async def test_deleting_originals_needs_an_archive_and_a_confirmation_and_keeps_previews(
    workflow: Workflow, unique: str
) -> None:
    session_id = await session_with_images(workflow, unique)
    no_archive = await workflow.client.post(
        f"/workflow/sessions/{session_id}/image-deletions", json={}
    )
    assert no_archive.status_code == 409
    assert "archive" in no_archive.json()["message"]
    not_owner = await workflow.client.post(
        f"/workflow/sessions/{session_id}/image-deletions",
        json={"override": True},
        headers={"X-User-Role": "photographer"},
    )
    assert not_owner.status_code == 403

    await workflow.client.post(f"/workflow/sessions/{session_id}/archive")
    pending = await workflow.client.post(
        f"/workflow/sessions/{session_id}/image-deletions", json={}
    )
    assert pending.status_code == 201, pending.text
    token = pending.json()["confirmation_token"]
    assert len(pending.json()["keys"]) == 4
    assert await keys_left(workflow, session_id) == set(FILES)  # nothing deleted yet

    wrong = await workflow.client.post(
        f"/workflow/sessions/{session_id}/image-deletions/not-a-token/confirm"
    )
    assert wrong.status_code == 404
    confirmed = await workflow.client.post(
        f"/workflow/sessions/{session_id}/image-deletions/{token}/confirm",
        headers={"X-User-Id": "ann"},
    )
    assert confirmed.status_code == 200, confirmed.text
    assert await keys_left(workflow, session_id) == {"previews/IMG_0001.jpg"}
    again = await workflow.client.post(
        f"/workflow/sessions/{session_id}/image-deletions/{token}/confirm"
    )
    assert again.json()["deleted_at"] == confirmed.json()["deleted_at"]

    events = [
        e
        for e in await workflow.workflow_events(session_id, 2)
        if e.type == ImagesDeleted.event_type
    ]
    assert len(events) == 1
    refs = events[0].payload(ImagesDeleted).images
    assert {r.folder for r in refs} == {"raw", "hires", "retouched"}
    assert (await workflow.client.get(f"/workflow/sessions/{session_id}")).json()["images_deleted"]


async def test_an_owner_may_delete_without_an_archive_and_an_old_request_expires(
    workflow: Workflow, unique: str
) -> None:
    session_id = await session_with_images(workflow, unique)
    owner = {"X-User-Role": "owner", "X-User-Id": "olga"}
    pending: Any = (
        await workflow.client.post(
            f"/workflow/sessions/{session_id}/image-deletions",
            json={"override": True},
            headers=owner,
        )
    ).json()
    await workflow.db["pending_deletions"].update_one(
        {"_id": pending["confirmation_token"]},
        {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}},
    )
    expired = await workflow.client.post(
        f"/workflow/sessions/{session_id}/image-deletions/{pending['confirmation_token']}/confirm",
        headers=owner,
    )
    assert expired.status_code == 410
    assert await keys_left(workflow, session_id) == set(FILES)

    fresh = (
        await workflow.client.post(
            f"/workflow/sessions/{session_id}/image-deletions",
            json={"override": True},
            headers=owner,
        )
    ).json()
    done = await workflow.client.post(
        f"/workflow/sessions/{session_id}/image-deletions/{fresh['confirmation_token']}/confirm",
        headers=owner,
    )
    assert done.status_code == 200
    assert done.json()["override"] is True
    assert await keys_left(workflow, session_id) == {"previews/IMG_0001.jpg"}


async def test_archive_routes_answer_bad_requests_clearly(workflow: Workflow, unique: str) -> None:
    assert (await workflow.client.post("/workflow/sessions/ghost/archive")).status_code == 404
    assert (await workflow.client.post("/workflow/archives/ghost/verify")).status_code == 404
    assert (await workflow.client.post("/workflow/archives/ghost/restore")).status_code == 404
    session_id = f"empty-{unique}"
    starts_at = datetime(2026, 12, 1, 10, tzinfo=UTC)
    await workflow.deliver(
        workflow.envelope(
            SessionBooked(
                session_id=session_id,
                session_number="S-1",
                client_id="c",
                session_type_id="portrait",
                starts_at=starts_at,
                ends_at=starts_at,
            ),
            subject=session_id,
        )
    )
    nothing = await workflow.client.post(f"/workflow/sessions/{session_id}/archive")
    assert nothing.status_code == 422
    bad_body = await workflow.client.post(
        f"/workflow/sessions/{session_id}/image-deletions", json={"override": "maybe"}
    )
    assert bad_body.status_code == 422
