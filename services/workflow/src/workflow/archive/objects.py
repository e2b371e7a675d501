"""Blocking S3 work for archive, restore and delete; callers run it in a worker thread."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

ORIGINAL_FOLDERS = ("raw", "hires", "retouched")
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int


def session_prefix(session_id: str, folder: str) -> str:
    return f"sessions/{session_id}/{folder}/"


def list_objects(client: Any, bucket: str, prefix: str) -> list[StoredObject]:
    found: list[StoredObject] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        found.extend(StoredObject(o["Key"], int(o["Size"])) for o in page.get("Contents", []))
    return found


def originals(client: Any, bucket: str, session_id: str) -> list[tuple[str, StoredObject]]:
    return [
        (folder, stored)
        for folder in ORIGINAL_FOLDERS
        for stored in list_objects(client, bucket, session_prefix(session_id, folder))
    ]


def sha256_of(client: Any, bucket: str, key: str) -> str | None:
    """The object's SHA-256, read as a stream; None if it is missing."""
    try:
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    digest = hashlib.sha256()
    try:
        for chunk in iter(lambda: body.read(CHUNK), b""):
            digest.update(chunk)
    finally:
        body.close()
    return digest.hexdigest()


def copy(client: Any, source_bucket: str, source_key: str, bucket: str, key: str) -> None:
    client.copy_object(
        Bucket=bucket, Key=key, CopySource={"Bucket": source_bucket, "Key": source_key}
    )


def put_json(client: Any, bucket: str, key: str, body: bytes) -> None:
    client.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")


def delete_keys(client: Any, bucket: str, keys: list[str]) -> None:
    for start in range(0, len(keys), 1000):
        batch = keys[start : start + 1000]
        client.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
        )
