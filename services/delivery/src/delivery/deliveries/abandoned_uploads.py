"""What packers that died left in the deliveries bucket: multipart uploads aborted, objects removed.

Each packaging attempt writes under `deliveries/<delivery id>/<its claim>/`, so the key of an
upload names the attempt it belongs to. The attempt that takes a delivery over first removes
whatever earlier attempts left under the delivery's prefix (their uploads aborted, with their
parts, and their objects deleted); a periodic sweep aborts every upload whose attempt does not
hold its delivery now (the delivery is ready, failed or gone, another attempt holds it, or its
lease lapsed), so parts are never kept when no attempt follows. An attempt that is still alive
but lost its claim can no longer publish, so aborting its upload only stops it sooner.

Blocking S3 calls run in worker threads.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from delivery.context import DeliveryContext
from delivery.deliveries.repository import DeliveryRepository
from delivery.packaging.package import delete_objects
from kit.app import Platform
from kit.mongo import Document
from kit.periodic import Periodic

log = logging.getLogger(__name__)

ROOT = "deliveries/"
SWEEPER = "delivery_upload_sweeper"
# The folders a packaging attempt writes (before attempt folders, they sat right under the
# delivery's prefix).
FOLDERS = ("files", "archives")


def delivery_prefix(delivery_id: str) -> str:
    return f"{ROOT}{delivery_id}/"


def attempt_prefix(delivery_id: str, claim: str) -> str:
    """Where one packaging attempt writes (no trailing slash; `build_package` adds folders)."""
    return f"{ROOT}{delivery_id}/{claim}"


def owner_of(key: str) -> tuple[str, str | None] | None:
    """The delivery id and attempt (claim) a key in the deliveries bucket belongs to; the
    attempt is None for the layout without attempt folders; None for a key of neither."""
    parts = key.split("/")
    if len(parts) < 4 or parts[0] != ROOT.rstrip("/") or not parts[1]:
        return None
    if parts[2] in FOLDERS:
        return parts[1], None
    return parts[1], parts[2]


def _uploads(client: Any, bucket: str, prefix: str) -> list[dict[str, Any]]:
    paginator = client.get_paginator("list_multipart_uploads")
    return [
        upload
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix)
        for upload in page.get("Uploads", [])
    ]


def _abort(client: Any, bucket: str, uploads: list[dict[str, Any]]) -> int:
    aborted = 0
    for upload in uploads:
        try:
            client.abort_multipart_upload(
                Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchUpload", "404"):
                continue  # completed or aborted meanwhile
            raise
        aborted += 1
    return aborted


def _clear(client: Any, bucket: str, prefix: str) -> tuple[int, int]:
    aborted = _abort(client, bucket, _uploads(client, bucket, prefix))
    paginator = client.get_paginator("list_objects_v2")
    keys = [
        item["Key"]
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", [])
    ]
    delete_objects(client, bucket, keys)
    return aborted, len(keys)


async def clear_earlier_attempts(ctx: DeliveryContext, delivery_id: str) -> None:
    """Before an attempt writes: abort and delete what earlier attempts of the delivery left
    (none of it was published: a delivery is claimed only while pending or packaging)."""
    await _clear_prefix(ctx, delivery_prefix(delivery_id), delivery_id, "earlier attempts")


async def clear_attempt(ctx: DeliveryContext, delivery_id: str, claim: str) -> None:
    """Remove what one attempt wrote (it finished, but could not publish)."""
    await _clear_prefix(ctx, attempt_prefix(delivery_id, claim) + "/", delivery_id, "its attempt")


async def _clear_prefix(ctx: DeliveryContext, prefix: str, delivery_id: str, whose: str) -> None:
    aborted, deleted = await asyncio.to_thread(
        _clear, ctx.storage.client, ctx.settings.infra.deliveries_bucket, prefix
    )
    if aborted or deleted:
        log.warning(
            "delivery %s: removed what %s left: %d multipart uploads aborted, %d objects deleted",
            delivery_id,
            whose,
            aborted,
            deleted,
        )


def _held(delivery: Document | None, attempt: str | None, now: datetime) -> bool:
    """Whether the attempt that wrote an upload still holds its delivery."""
    if delivery is None or delivery.get("status") != "packaging":
        return False
    until = delivery.get("claimed_until")
    if until is None:
        return False
    if until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    if until <= now:
        return False
    return attempt is None or attempt == delivery.get("claim")


async def sweep_abandoned_uploads(ctx: DeliveryContext) -> int:
    """One pass over the deliveries bucket's multipart uploads; how many were aborted.

    The uploads are listed before their deliveries are read: an upload listed was begun by an
    attempt that had claimed its delivery by then, so if another attempt holds it now, or
    none, its writer can never publish it."""
    bucket = ctx.settings.infra.deliveries_bucket
    uploads = await asyncio.to_thread(_uploads, ctx.storage.client, bucket, ROOT)
    if not uploads:
        return 0
    repository = DeliveryRepository(ctx.db)
    now = datetime.now(UTC)
    deliveries: dict[str, Document | None] = {}
    abandoned = []
    for upload in uploads:
        owner = owner_of(upload["Key"])
        if owner is None:
            continue  # not a packer's: left alone
        delivery_id, attempt = owner
        if delivery_id not in deliveries:
            deliveries[delivery_id] = await repository.get(delivery_id)
        if not _held(deliveries[delivery_id], attempt, now):
            abandoned.append(upload)
    if not abandoned:
        return 0
    aborted = await asyncio.to_thread(_abort, ctx.storage.client, bucket, abandoned)
    log.warning("aborted %d abandoned multipart uploads in %s", aborted, bucket)
    return aborted


async def start_upload_sweeper(ctx: DeliveryContext, platform: Platform) -> None:
    async def sweep() -> None:
        await sweep_abandoned_uploads(ctx)

    sweeper = Periodic("delivery abandoned upload sweep", sweep, ctx.settings.upload_sweep_seconds)
    sweeper.start()
    platform.extras[SWEEPER] = sweeper


async def stop_upload_sweeper(platform: Platform) -> None:
    sweeper: Periodic | None = platform.extras.pop(SWEEPER, None)
    if sweeper is not None:
        await sweeper.stop()
