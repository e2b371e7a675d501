"""A packer that dies mid-work: its short lease lapses, another packer takes the delivery over
and aborts the multipart upload it left; a packer that lives renews its lease, so nobody steals
live work; and a sweep aborts uploads that no live packer owns."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from delivery.config import DeliverySettings
from delivery.deliveries.repository import DeliveryRepository
from delivery.deliveries.service import package_next
from kit.mongo import Document
from kit.testing import eventually

MIB = 1024 * 1024


async def _requested(service: Any, session_id: str, count: int, size: int) -> str:
    """A delivery asked for and left pending (no background queue in these tests)."""
    images = await service.upload(session_id, count, size=size)
    answer = await service.http.post(
        "/deliveries", json={"session_id": session_id, "keys": list(images)}
    )
    assert answer.status_code == 202, answer.text
    delivery_id: str = answer.json()["id"]
    return delivery_id


async def _uploads(service: Any, prefix: str) -> list[Document]:
    answer = await asyncio.to_thread(
        service.ctx.storage.client.list_multipart_uploads,
        Bucket=service.infra.deliveries_bucket,
        Prefix=prefix,
    )
    uploads: list[Document] = answer.get("Uploads", [])
    return uploads


async def _objects(service: Any, prefix: str) -> list[str]:
    answer = await asyncio.to_thread(
        service.ctx.storage.client.list_objects_v2,
        Bucket=service.infra.deliveries_bucket,
        Prefix=prefix,
    )
    return [item["Key"] for item in answer.get("Contents", [])]


async def _abandoned_upload(service: Any, key: str, *, with_part: bool = True) -> str:
    """What a packer killed mid-work leaves: a multipart upload begun, one part sent."""
    client = service.ctx.storage.client
    bucket = service.infra.deliveries_bucket
    upload_id: str = (
        await asyncio.to_thread(client.create_multipart_upload, Bucket=bucket, Key=key)
    )["UploadId"]
    if not with_part:
        return upload_id
    await asyncio.to_thread(
        client.upload_part,
        Bucket=bucket,
        Key=key,
        UploadId=upload_id,
        PartNumber=1,
        Body=os.urandom(5 * MIB),
    )
    return upload_id


class SlowUploads:
    """The real S3 client, except that each ZIP part takes `seconds` longer to upload (a long
    delivery, or a slow link to S3)."""

    def __init__(self, client: Any, seconds: float) -> None:
        self._client, self._seconds = client, seconds

    def upload_part(self, **kwargs: Any) -> Any:
        time.sleep(self._seconds)
        return self._client.upload_part(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@dataclasses.dataclass(frozen=True)
class SlowStorage:
    """An S3Storage whose blocking client is slowed (what the packer uses)."""

    client: Any


def _slowed(ctx: Any, seconds: float) -> Any:
    return dataclasses.replace(ctx, storage=SlowStorage(SlowUploads(ctx.storage.client, seconds)))


async def test_a_packer_killed_mid_work_is_taken_over_after_its_short_lease_and_its_upload_aborted(
    delivery_service: Any,
) -> None:
    defaults = DeliverySettings()
    # A restarted packer takes the work over within a minute: the lease, then the next poll.
    assert defaults.packaging_lease_seconds + defaults.packaging_poll_seconds <= 60
    lease = 4
    async with delivery_service(background_work=False, packaging_lease_seconds=lease) as service:
        delivery_id = await _requested(service, "lk1", 3, 200_000)
        # The packer that dies: it claims the delivery, starts its ZIP's upload, sends a part,
        # and is killed (nothing of it runs any more).
        dead = await DeliveryRepository(service.ctx.db).claim_next(
            datetime.now(UTC), timedelta(seconds=lease)
        )
        assert dead is not None
        assert dead["_id"] == delivery_id
        claimed_at = time.monotonic()
        await _abandoned_upload(
            service, f"deliveries/{delivery_id}/{dead['claim']}/archives/lk1.zip"
        )
        assert len(await _uploads(service, f"deliveries/{delivery_id}/")) == 1

        # While its lease runs, nobody else takes the delivery...
        assert await package_next(service.ctx) is None
        # ...and once it lapses, the next packer does, and packages it whole.
        taken: list[Document] = []

        async def taken_over() -> bool:
            done = await package_next(service.ctx)
            if done is not None:
                taken.append(done)
            return bool(taken)

        await eventually(taken_over, timeout=lease + 10, what="the delivery to be taken over")
        waited = time.monotonic() - claimed_at
        assert lease - 0.5 <= waited <= lease + 10
        [delivery] = taken
        assert delivery["status"] == "ready", delivery
        assert delivery["claim"] != dead["claim"]

        # The dead packer's parts are gone from S3, and nothing is left but the new attempt's
        # published objects.
        assert await _uploads(service, f"deliveries/{delivery_id}/") == []
        published = {f["key"] for f in delivery["files"]} | {a["key"] for a in delivery["archives"]}
        assert set(await _objects(service, f"deliveries/{delivery_id}/")) == published
        link = await service.issue(delivery_id)
        answer = await service.http.get(service.path_of(link["url"]) + "/archives/1")
        assert answer.status_code == 303


async def test_a_long_pack_renews_its_lease_so_a_second_packer_does_not_take_live_work(
    delivery_service: Any,
) -> None:
    lease = 3
    async with delivery_service(
        background_work=False,
        packaging_lease_seconds=lease,
        upload_part_bytes=5 * MIB,
        upload_concurrency=1,
    ) as service:
        # Four 5 MiB parts at 1.5 s each: the ZIP takes twice the lease and more.
        delivery_id = await _requested(service, "lk2", 4, 5 * MIB)
        started = time.monotonic()
        first = asyncio.create_task(package_next(_slowed(service.ctx, 1.5)))
        repository = DeliveryRepository(service.ctx.db)
        leases: list[datetime] = []
        stolen = []
        while not first.done():
            await asyncio.sleep(0.4)
            current = await repository.get(delivery_id)
            assert current is not None
            if current["status"] == "packaging" and current.get("claimed_until"):
                leases.append(current["claimed_until"])
            # A second packer polling meanwhile finds nothing to take.
            second = await package_next(service.ctx)
            if second is not None:
                stolen.append(second)
        delivery = await first
        took = time.monotonic() - started
        assert took > 2 * lease  # it really outlived its first lease
        assert stolen == []
        assert delivery is not None
        assert delivery["status"] == "ready", delivery
        assert len(set(leases)) >= 2
        assert max(leases) > min(leases)
        assert await _uploads(service, f"deliveries/{delivery_id}/") == []


async def test_a_packer_that_lost_its_lease_stops_and_removes_what_it_wrote(
    delivery_service: Any,
) -> None:
    lease = 3
    async with delivery_service(
        background_work=False,
        packaging_lease_seconds=lease,
        upload_part_bytes=5 * MIB,
        upload_concurrency=1,
    ) as service:
        delivery_id = await _requested(service, "lk3", 4, 5 * MIB)
        repository = DeliveryRepository(service.ctx.db)
        first = asyncio.create_task(package_next(_slowed(service.ctx, 1.5)))

        async def claimed() -> bool:
            current = await repository.get(delivery_id)
            return current is not None and current["status"] == "packaging"

        await eventually(claimed, timeout=10, what="the first packer's claim")
        current = await repository.get(delivery_id)
        assert current is not None
        mine = current["claim"]
        # Another process took the delivery over (the first one's renewals came too late).
        await service.ctx.db["deliveries"].update_one(
            {"_id": delivery_id},
            {
                "$set": {
                    "claim": "taken-over",
                    "claimed_until": datetime.now(UTC) + timedelta(minutes=5),
                }
            },
        )
        outcome = await asyncio.wait_for(first, timeout=30)
        # It stopped without publishing or failing the delivery, and left nothing of its own.
        assert outcome is not None
        assert outcome["status"] == "packaging"
        assert outcome["claim"] == "taken-over"
        assert await _uploads(service, f"deliveries/{delivery_id}/{mine}/") == []
        assert await _objects(service, f"deliveries/{delivery_id}/{mine}/") == []
        assert await service.ctx.db["links"].count_documents({"delivery_id": delivery_id}) == 0


async def test_the_sweep_aborts_every_upload_that_no_live_packer_owns(
    delivery_service: Any,
) -> None:
    from delivery.deliveries.abandoned_uploads import sweep_abandoned_uploads

    async with delivery_service(background_work=False, packaging_lease_seconds=60) as service:
        ready_id = await _requested(service, "lk4", 1, 50_000)
        done = await package_next(service.ctx)
        assert done is not None
        assert done["status"] == "ready"
        live_id = await _requested(service, "lk4", 1, 50_000)
        live = await DeliveryRepository(service.ctx.db).claim_next(
            datetime.now(UTC), timedelta(seconds=60)
        )
        assert live is not None
        assert live["_id"] == live_id

        # Left by attempts that died: under a ready delivery, under a delivery that does not
        # exist (any more), under the live delivery but by an earlier attempt, and in the
        # layout of the attempts before attempt folders.
        orphans = [
            f"deliveries/{ready_id}/0123abcd/archives/a.zip",
            "deliveries/dlv_gone/0123abcd/archives/b.zip",
            f"deliveries/{live_id}/0123abcd/archives/c.zip",
            f"deliveries/{ready_id}/archives/d.zip",
        ]
        for key in orphans:
            await _abandoned_upload(service, key)
        # The live attempt's own upload is kept.
        live_key = f"deliveries/{live_id}/{live['claim']}/archives/e.zip"
        await _abandoned_upload(service, live_key)

        assert await sweep_abandoned_uploads(service.ctx) == len(orphans)
        assert [u["Key"] for u in await _uploads(service, "deliveries/")] == [live_key]
        assert await sweep_abandoned_uploads(service.ctx) == 0

        # Once its lease lapses, the live attempt's upload is abandoned too.
        await service.ctx.db["deliveries"].update_one(
            {"_id": live_id}, {"$set": {"claimed_until": datetime.now(UTC) - timedelta(seconds=1)}}
        )
        assert await sweep_abandoned_uploads(service.ctx) == 1
        assert await _uploads(service, "deliveries/") == []


async def test_the_api_process_sweeps_abandoned_uploads_periodically(
    delivery_service: Any,
) -> None:
    async with delivery_service(upload_sweep_seconds=0.5) as service:
        # Begun only: the sweep running every half second may abort it before a part is sent.
        await _abandoned_upload(
            service, "deliveries/dlv_gone/0123abcd/archives/x.zip", with_part=False
        )

        async def swept() -> bool:
            return await _uploads(service, "deliveries/") == []

        await eventually(swept, timeout=15, what="the sweep to abort the upload")
