"""S3 through the kit: uploads, presigned GETs that work with plain HTTP, enforced expiry."""

from __future__ import annotations

import asyncio
import io

import httpx
import pytest

from kit.errors import Unprocessable
from kit.storage import PRESIGN_MAX_SECONDS, S3Storage


async def test_an_upload_is_readable_through_a_presigned_url_with_plain_http_and_ranges(
    storage: S3Storage, unique: str
) -> None:
    bucket = f"t-{unique}"
    await storage.ensure_bucket(bucket)
    await storage.ensure_bucket(bucket)  # idempotent
    body = bytes(range(256)) * 4096  # 1 MiB
    await storage.put(
        bucket, "sessions/s1/hires/001.jpg", io.BytesIO(body), content_type="image/jpeg"
    )

    url = storage.presign_get(
        bucket, "sessions/s1/hires/001.jpg", expires_in=60, download_name="001.jpg"
    )
    async with httpx.AsyncClient() as http:
        whole = await http.get(url)
        assert whole.status_code == 200
        assert whole.content == body
        assert whole.headers["content-disposition"] == 'attachment; filename="001.jpg"'
        part = await http.get(url, headers={"Range": "bytes=1000-1999"})
        assert part.status_code == 206
        assert part.content == body[1000:2000]
    assert await storage.exists(bucket, "sessions/s1/hires/001.jpg")
    assert not await storage.exists(bucket, "sessions/s1/hires/002.jpg")


async def test_a_presigned_url_stops_working_when_it_expires(
    storage: S3Storage, unique: str
) -> None:
    bucket = f"t-{unique}"
    await storage.ensure_bucket(bucket)
    await storage.put(bucket, "k", b"secret proofs")
    # Five seconds leave room for a loaded machine between signing and the first read (one
    # second failed a CI run); S3 counts expiry in whole seconds from the signing.
    url = storage.presign_get(bucket, "k", expires_in=5)
    async with httpx.AsyncClient() as http:
        assert (await http.get(url)).status_code == 200
        await asyncio.sleep(6.2)
        expired = await http.get(url)
    assert expired.status_code == 403
    assert b"expired" in expired.content.lower()


def test_presigned_urls_longer_than_seven_days_are_refused(storage: S3Storage) -> None:
    storage.presign_get("b", "k", expires_in=PRESIGN_MAX_SECONDS)
    with pytest.raises(Unprocessable, match="7 days"):
        storage.presign_get("b", "k", expires_in=PRESIGN_MAX_SECONDS + 1)
