"""S3-compatible object storage (boto3, path-style, SigV4), kept off the event loop.

boto3 is blocking, so every call runs in a worker thread. Large bodies stream: uploads take a
file-like object, downloads hand back presigned URLs.
"""

from __future__ import annotations

import asyncio
from typing import IO, Any

import boto3
from botocore.client import Config
from botocore.exceptions import ClientError

from kit.errors import Unprocessable
from kit.settings import InfraSettings

# SigV4 presigned URLs cannot outlive seven days; boto3 signs longer ones that S3 then refuses.
PRESIGN_MAX_SECONDS = 7 * 24 * 3600


class S3Storage:
    def __init__(self, infra: InfraSettings) -> None:
        self._client = boto3.client(
            "s3",
            endpoint_url=infra.s3_endpoint_url,
            region_name=infra.s3_region,
            aws_access_key_id=infra.s3_access_key_value,
            aws_secret_access_key=infra.s3_secret_key_value,
            config=Config(
                s3={"addressing_style": "path"},
                signature_version="s3v4",
                connect_timeout=3,
                read_timeout=30,
                retries={"max_attempts": 2, "mode": "standard"},
            ),
        )

    @property
    def client(self) -> Any:
        """The blocking boto3 client, for work that already runs in a thread."""
        return self._client

    async def ensure_bucket(self, bucket: str) -> None:
        def create() -> None:
            try:
                self._client.head_bucket(Bucket=bucket)
            except ClientError:
                try:
                    self._client.create_bucket(Bucket=bucket)
                except ClientError as exc:
                    code = exc.response.get("Error", {}).get("Code")
                    if code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise

        await asyncio.to_thread(create)

    async def check(self) -> None:
        """Raises unless the server answers an authenticated request (readiness)."""
        await asyncio.to_thread(self._client.list_buckets)

    async def put(
        self, bucket: str, key: str, body: bytes | IO[bytes], *, content_type: str | None = None
    ) -> None:
        extra = {"ContentType": content_type} if content_type else {}
        if isinstance(body, bytes):
            await asyncio.to_thread(
                self._client.put_object, Bucket=bucket, Key=key, Body=body, **extra
            )
        else:
            # upload_fileobj streams in parts; the body is never read whole into memory.
            await asyncio.to_thread(
                self._client.upload_fileobj, body, bucket, key, ExtraArgs=extra or None
            )

    async def get_bytes(self, bucket: str, key: str) -> bytes:
        def read() -> bytes:
            body = self._client.get_object(Bucket=bucket, Key=key)["Body"]
            try:
                return bytes(body.read())
            finally:
                body.close()

        return await asyncio.to_thread(read)

    async def delete(self, bucket: str, key: str) -> None:
        await asyncio.to_thread(self._client.delete_object, Bucket=bucket, Key=key)

    async def exists(self, bucket: str, key: str) -> bool:
        try:
            await asyncio.to_thread(self._client.head_object, Bucket=bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def presign_get(
        self,
        bucket: str,
        key: str,
        *,
        expires_in: int,
        download_name: str | None = None,
    ) -> str:
        """A URL that fetches the object with plain HTTP (Range requests included) until it expires.

        Signing is local computation (no network), so this is safe on the event loop.
        """
        if not 1 <= expires_in <= PRESIGN_MAX_SECONDS:
            raise Unprocessable(
                f"A presigned URL must live between 1 second and 7 days, not {expires_in} s.",
                detail={"expires_in": expires_in, "max": PRESIGN_MAX_SECONDS},
            )
        params: dict[str, str] = {"Bucket": bucket, "Key": key}
        if download_name:
            params["ResponseContentDisposition"] = f'attachment; filename="{download_name}"'
        url: str = self._client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=expires_in
        )
        return url

    def close(self) -> None:
        self._client.close()
