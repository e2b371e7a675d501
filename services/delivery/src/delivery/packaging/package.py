"""Packaging one delivery: each file on its own, plus ZIP archives streamed into S3.

The ZIPs go straight from the source objects into multipart uploads (no temporary file, no
whole file in memory), ZIP64 when an entry or offset needs it, split so that no archive passes
the size cap, each with a `SHA256SUMS` manifest of its files (`sha256sum -c` reads it). Every
object is verified after upload. On any failure everything this run wrote is removed.

Blocking (boto3, hashing): run it in a worker thread.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from delivery.packaging.multipart import (
    MultipartUploadWriter,
    UploadVerificationError,
    check_stop,
)
from delivery.packaging.zipstream import ZIP64_LIMIT, StreamingZipWriter, TruncatedSource

MANIFEST_NAME = "SHA256SUMS"
# Local header + data descriptor + central directory entry with ZIP64 extras, plus two copies
# of the name: an upper bound of what an entry adds besides its bytes.
ENTRY_OVERHEAD = 200
SINGLE_COPY_LIMIT = 5 * 1024**3  # CopyObject's limit; larger sources use a multipart copy
# Server-side copies in flight beside the ZIP's uploads. botocore keeps 10 connections per
# client: copies + ZIP part uploads + the two source reads stay within them.
COPY_CONCURRENCY = 2


class PackagingError(Exception):
    """The delivery cannot be packaged; the message is the reason shown to the studio."""


@dataclass(frozen=True)
class SourceFile:
    key: str
    name: str


@dataclass(frozen=True)
class PackedFile:
    name: str
    source_key: str
    key: str
    bytes: int
    sha256: str


@dataclass(frozen=True)
class PackedArchive:
    index: int
    name: str
    key: str
    bytes: int
    etag: str
    files: list[str]


@dataclass
class Package:
    files: list[PackedFile] = field(default_factory=list)
    archives: list[PackedArchive] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        return sum(a.bytes for a in self.archives)


@dataclass(frozen=True)
class PackagingOptions:
    part_bytes: int
    concurrency: int
    archive_cap_bytes: int
    # Sizes and offsets beyond this are written as ZIP64 (lowered only by tests).
    zip64_limit: int = ZIP64_LIMIT


def file_names(keys: Sequence[str]) -> list[SourceFile]:
    """Download names for source keys: the base name, made safe and unique."""
    seen: set[str] = set()
    files = []
    for key in keys:
        base = re.sub(r"[^A-Za-z0-9._()+ -]", "_", key.rsplit("/", 1)[-1]).strip(" .") or "file"
        name, number = base, 1
        while name.lower() in seen or name == MANIFEST_NAME:
            number += 1
            stem, dot, ext = base.rpartition(".")
            name = f"{stem}-{number}.{ext}" if dot else f"{base}-{number}"
        seen.add(name.lower())
        files.append(SourceFile(key=key, name=name))
    return files


def plan_archives(sizes: Sequence[tuple[SourceFile, int]], cap: int) -> list[list[int]]:
    """Indexes of the files in each archive: in order, no archive above `cap` (one file larger
    than the cap goes alone, as a ZIP cannot split a file)."""
    groups: list[list[int]] = []
    current: list[int] = []
    used = 1024  # end records and the manifest's own entry
    for index, (source, size) in enumerate(sizes):
        # manifest line: 64 hex + 2 spaces + name + newline
        cost = size + ENTRY_OVERHEAD + 2 * len(source.name.encode()) + 67 + len(source.name)
        if current and used + cost > cap:
            groups.append(current)
            current, used = [], 1024
        current.append(index)
        used += cost
    if current:
        groups.append(current)
    return groups


def build_package(
    client: Any,
    *,
    images_bucket: str,
    deliveries_bucket: str,
    prefix: str,
    archive_stem: str,
    sources: Sequence[SourceFile],
    options: PackagingOptions,
    stop: threading.Event | None = None,
) -> Package:
    """Package `sources` under `prefix`; everything it wrote is removed if it fails, or if
    `stop` is set meanwhile (it raises PackagingStopped then, at its next file or part)."""
    if not sources:
        raise PackagingError("A delivery needs at least one file.")
    heads = _stat_sources(client, images_bucket, sources)
    groups = plan_archives(
        [(s, int(h["ContentLength"])) for s, h in zip(sources, heads, strict=True)],
        options.archive_cap_bytes,
    )
    written: list[str] = []
    package = Package()
    checksums: dict[str, str] = {}
    with ThreadPoolExecutor(COPY_CONCURRENCY, thread_name_prefix="copy-file") as copier:
        copies: list[Future[PackedFile | None]] = []
        try:
            for source, head in zip(sources, heads, strict=True):
                key = f"{prefix}/files/{source.name}"
                written.append(key)
                copies.append(
                    copier.submit(
                        _copy_file,
                        client,
                        images_bucket,
                        deliveries_bucket,
                        source,
                        head,
                        key,
                        stop,
                    )
                )
            for number, group in enumerate(groups, start=1):
                name = (
                    f"{archive_stem}.zip"
                    if len(groups) == 1
                    else f"{archive_stem}-part{number}of{len(groups)}.zip"
                )
                key = f"{prefix}/archives/{name}"
                written.append(key)
                members = [sources[i] for i in group]
                archive = write_archive(
                    client,
                    images_bucket,
                    deliveries_bucket,
                    key,
                    members,
                    [heads[i] for i in group],
                    options,
                    checksums,
                    stop,
                )
                package.archives.append(
                    PackedArchive(
                        number, name, key, archive[0], archive[1], [m.name for m in members]
                    )
                )
            for source, copy in zip(sources, copies, strict=True):
                packed = copy.result()
                check_stop(stop)
                assert packed is not None
                package.files.append(
                    PackedFile(
                        packed.name,
                        packed.source_key,
                        packed.key,
                        packed.bytes,
                        checksums[source.name],
                    )
                )
        except BaseException:
            for future in copies:
                future.cancel()
            for future in copies:
                if not future.cancelled():
                    future.exception()  # wait: a copy still running would land after cleanup
            delete_objects(client, deliveries_bucket, written)
            raise
    return package


def _stat_sources(client: Any, bucket: str, sources: Sequence[SourceFile]) -> list[dict[str, Any]]:
    def head(source: SourceFile) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = client.head_object(Bucket=bucket, Key=source.key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise PackagingError(f"Source image missing: {source.key}") from exc
            raise
        return answer

    with ThreadPoolExecutor(8, thread_name_prefix="stat-source") as pool:
        return list(pool.map(head, sources))


def _copy_file(
    client: Any,
    images_bucket: str,
    deliveries_bucket: str,
    source: SourceFile,
    head: dict[str, Any],
    key: str,
    stop: threading.Event | None = None,
) -> PackedFile:
    check_stop(stop)
    size = int(head["ContentLength"])
    copy_source = {"Bucket": images_bucket, "Key": source.key}
    arguments = {
        "CopySourceIfMatch": head["ETag"],
        "ContentType": head.get("ContentType") or "application/octet-stream",
        "ContentDisposition": f'attachment; filename="{source.name}"',
        "MetadataDirective": "REPLACE",
    }
    # A single copy of a plain (MD5) ETag answers the same ETag: that is the check. Otherwise
    # (a multipart source or a multipart copy) the copy's size is.
    if size < SINGLE_COPY_LIMIT:
        answer = client.copy_object(
            Bucket=deliveries_bucket, Key=key, CopySource=copy_source, **arguments
        )
        if "-" not in str(head["ETag"]):
            if answer["CopyObjectResult"]["ETag"] != head["ETag"]:
                raise UploadVerificationError(f"the copy of {source.key} differs from its source")
            return PackedFile(source.name, source.key, key, size, "")
    else:  # a multipart copy (UploadPartCopy), still server-side
        client.copy(copy_source, deliveries_bucket, key, ExtraArgs=arguments)
    stored = client.head_object(Bucket=deliveries_bucket, Key=key)
    if int(stored["ContentLength"]) != size:
        raise UploadVerificationError(f"the copy of {source.key} differs from its source")
    return PackedFile(source.name, source.key, key, size, "")


class SourceBodies:
    """The bodies of the sources, in order, each GET sent while the one before is read.

    Only one request runs ahead, so at most two bodies are open at once. `IfMatch` ties each
    read to the version that was measured: a source replaced meanwhile fails the delivery.
    """

    def __init__(
        self, client: Any, bucket: str, sources: Sequence[SourceFile], etags: Sequence[str]
    ) -> None:
        self._client, self._bucket = client, bucket
        self._pending = list(zip(sources, etags, strict=True))
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="open-source")
        self._ahead: Future[Any] | None = None
        self._open_next()

    def _open_next(self) -> None:
        if not self._pending:
            self._ahead = None
            return
        source, etag = self._pending.pop(0)
        self._ahead = self._pool.submit(self._open, source, etag)

    def _open(self, source: SourceFile, etag: str) -> Any:
        try:
            return self._client.get_object(Bucket=self._bucket, Key=source.key, IfMatch=etag)[
                "Body"
            ]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in ("404", "NoSuchKey", "NotFound"):
                raise PackagingError(f"Source image missing: {source.key}") from exc
            if code in ("412", "PreconditionFailed"):
                raise PackagingError(f"Source image changed while packaging: {source.key}") from exc
            raise

    def next(self) -> Any:
        """The next source's body (the caller closes it); the one after is opened meanwhile."""
        assert self._ahead is not None, "no sources left"
        ahead = self._ahead
        self._open_next()
        return ahead.result()

    def close(self) -> None:
        if self._ahead is not None and not self._ahead.cancel():
            with contextlib.suppress(Exception):
                self._ahead.result().close()
        self._ahead = None
        self._pool.shutdown(wait=True)


def write_archive(
    client: Any,
    images_bucket: str,
    deliveries_bucket: str,
    key: str,
    members: Sequence[SourceFile],
    heads: Sequence[dict[str, Any]],
    options: PackagingOptions,
    checksums: dict[str, str],
    stop: threading.Event | None = None,
) -> tuple[int, str]:
    """Stream one ZIP of `members` (with their SHA256SUMS) into `key`; its size and ETag.

    Each member's SHA-256 lands in `checksums` under its name.
    """
    writer = MultipartUploadWriter(
        client,
        deliveries_bucket,
        key,
        part_bytes=options.part_bytes,
        concurrency=options.concurrency,
        stop=stop,
    )
    bodies = SourceBodies(client, images_bucket, members, [h["ETag"] for h in heads])
    try:
        archive = StreamingZipWriter(
            writer, date_time=datetime.now(UTC).timetuple()[:6], zip64_limit=options.zip64_limit
        )
        lines = []
        for source, head in zip(members, heads, strict=True):
            check_stop(stop)
            size = int(head["ContentLength"])
            body = bodies.next()
            try:
                entry = archive.add_stream(source.name, size, body.readinto)
                if body.read(1):
                    raise TruncatedSource(f"{source.name}: longer than {size} bytes")
            except TruncatedSource as exc:
                raise PackagingError(f"Source image changed while packaging: {source.key}") from exc
            finally:
                body.close()
            checksums[source.name] = entry.sha256
            lines.append(f"{entry.sha256}  {source.name}\n")
        archive.add_bytes(MANIFEST_NAME, "".join(lines).encode())
        archive.close()
        size = writer.complete()
    except BaseException:
        bodies.close()
        writer.abort()
        raise
    bodies.close()
    assert writer.etag is not None
    return size, writer.etag


def delete_objects(client: Any, bucket: str, keys: Sequence[str]) -> None:
    """Remove `keys` from `bucket` (1000 to a request; missing ones are no error)."""
    for start in range(0, len(keys), 1000):
        batch = keys[start : start + 1000]
        client.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
        )
