"""Packaging against the real S3 server: a failure halfway leaves nothing behind."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest

from delivery.packaging.package import (
    PackagingError,
    PackagingOptions,
    build_package,
    file_names,
)
from kit.storage import S3Storage


class SourceDeletedWhileReading:
    """The real client, except that one source image is deleted just before it is read
    (a studio deleting images while the delivery is being packaged)."""

    def __init__(self, client: Any, bucket: str, victim: str) -> None:
        self._client, self._bucket, self._victim = client, bucket, victim

    def get_object(self, **kwargs: Any) -> Any:
        if kwargs["Key"] == self._victim:
            self._client.delete_object(Bucket=self._bucket, Key=self._victim)
        return self._client.get_object(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


async def test_an_image_that_vanishes_halfway_aborts_the_upload_and_removes_every_copy(
    storage: S3Storage, unique: str
) -> None:
    images, deliveries = f"t-{unique}-img", f"t-{unique}-dlv"
    await storage.ensure_bucket(images)
    await storage.ensure_bucket(deliveries)
    keys = [f"sessions/s1/hires/{i}.jpg" for i in range(4)]
    for key in keys:
        await storage.put(images, key, os.urandom(3 * 1024 * 1024))
    client = SourceDeletedWhileReading(storage.client, images, keys[2])

    with pytest.raises(PackagingError, match=keys[2]):
        await asyncio.to_thread(
            build_package,
            client,
            images_bucket=images,
            deliveries_bucket=deliveries,
            prefix="deliveries/d1",
            archive_stem="d1",
            sources=file_names(keys),
            options=PackagingOptions(
                part_bytes=5 * 1024 * 1024, concurrency=2, archive_cap_bytes=1024**3
            ),
        )

    listing = await asyncio.to_thread(storage.client.list_objects_v2, Bucket=deliveries)
    assert listing.get("KeyCount", 0) == 0
    uploads = await asyncio.to_thread(storage.client.list_multipart_uploads, Bucket=deliveries)
    assert uploads.get("Uploads", []) == []


async def test_a_zip_part_whose_upload_was_sent_in_several_parts_is_verified_whole(
    storage: S3Storage, unique: str
) -> None:
    images, deliveries = f"t-{unique}-img", f"t-{unique}-dlv"
    await storage.ensure_bucket(images)
    await storage.ensure_bucket(deliveries)
    keys = [f"sessions/s1/hires/{i}.jpg" for i in range(3)]
    for key in keys:
        await storage.put(images, key, os.urandom(4 * 1024 * 1024))
    package = await asyncio.to_thread(
        build_package,
        storage.client,
        images_bucket=images,
        deliveries_bucket=deliveries,
        prefix="deliveries/d2",
        archive_stem="d2",
        sources=file_names(keys),
        options=PackagingOptions(
            part_bytes=5 * 1024 * 1024, concurrency=2, archive_cap_bytes=1024**3
        ),
    )
    [archive] = package.archives
    assert archive.etag.endswith("-3")  # 12 MiB and more in 5 MiB parts
    head = await asyncio.to_thread(storage.client.head_object, Bucket=deliveries, Key=archive.key)
    assert head["ContentLength"] == archive.bytes
