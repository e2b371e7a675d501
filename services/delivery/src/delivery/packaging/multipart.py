"""A write-only, forward-only sink that streams into one S3 multipart upload.

Bytes are written (or read by the caller, see `space`/`commit`) straight into part buffers
taken from a small pool: a full buffer is uploaded by a thread pool while the writer fills
the next one, and when every buffer is in flight the writer waits. Memory is therefore
`concurrency + 1` parts whatever the object's size, and each byte is copied into memory once.

Integrity: every part carries its CRC-32, which S3 checks on receipt (a mismatch is refused)
and answers back; the finished object is checked for its size, its multipart ETag (built
from the ETags S3 gave the parts) and its composite CRC-32.

Blocking (boto3): use it from a worker thread, never on the event loop.
"""

from __future__ import annotations

import base64
import hashlib
import queue
import threading
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


class UploadVerificationError(Exception):
    """S3 stored something other than what was sent."""


class PackagingStopped(Exception):
    """The work was told to stop: its packer no longer holds the delivery (another one took it
    over) or its process is stopping. What it wrote is removed; the delivery is left as it is."""


def check_stop(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise PackagingStopped("the packer no longer holds this delivery")


def _b64_crc32(value: int) -> str:
    return base64.b64encode(value.to_bytes(4, "big")).decode()


class MultipartUploadWriter:
    def __init__(
        self,
        client: Any,
        bucket: str,
        key: str,
        *,
        part_bytes: int,
        concurrency: int,
        content_type: str = "application/zip",
        stop: threading.Event | None = None,
    ) -> None:
        self._stop = stop
        self._client = client
        self._bucket = bucket
        self._key = key
        self._part_bytes = part_bytes
        self._buffers = concurrency + 1  # at most this many parts exist at once
        self._free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        self._allocated = 0
        self._part: bytearray | None = None
        self._filled = 0
        self._position = 0
        self._part_number = 0
        self._futures: list[Future[dict[str, Any]]] = []
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="upload-part")
        self._upload_id: str = client.create_multipart_upload(
            Bucket=bucket, Key=key, ContentType=content_type, ChecksumAlgorithm="CRC32"
        )["UploadId"]
        self._completed = False
        self.etag: str | None = None

    # --- the sink protocol (what StreamingZipWriter uses) ---

    def tell(self) -> int:
        return self._position

    def write(self, data: bytes) -> int:
        view = memoryview(data).cast("B")
        done = 0
        while done < len(view):
            space = self.space(len(view) - done)
            count = len(space)
            space[:] = view[done : done + count]
            self.commit(count)
            done += count
        return done

    def space(self, limit: int) -> memoryview:
        """A writable view of the current part, at most `limit` bytes long."""
        part = self._current()
        end = min(self._part_bytes, self._filled + limit)
        return memoryview(part)[self._filled : end]

    def commit(self, count: int) -> None:
        self._filled += count
        self._position += count
        if self._filled == self._part_bytes:
            self._submit()

    # --- parts ---

    def _current(self) -> bytearray:
        if self._part is None:
            self._raise_failed()
            if self._allocated < self._buffers:
                self._allocated += 1
                self._part = bytearray(self._part_bytes)
            else:
                self._part = self._free.get()  # back-pressure: wait for an upload to finish
                self._raise_failed()
            self._filled = 0
        return self._part

    def _submit(self) -> None:
        part, filled = self._part, self._filled
        assert part is not None
        check_stop(self._stop)  # checked at every part: a stopped packer sends no more
        self._part, self._filled = None, 0
        self._part_number += 1
        try:
            future = self._pool.submit(self._upload_part, self._part_number, part, filled)
        except BaseException:
            self._free.put(part)
            raise
        self._futures.append(future)

    def _upload_part(self, number: int, part: bytearray, filled: int) -> dict[str, Any]:
        try:
            # A full part goes as it is; only the last, short one is copied out.
            body = part if filled == len(part) else bytes(memoryview(part)[:filled])
            crc = _b64_crc32(zlib.crc32(body))
            answer = self._client.upload_part(
                Bucket=self._bucket,
                Key=self._key,
                UploadId=self._upload_id,
                PartNumber=number,
                Body=body,
                ChecksumCRC32=crc,
            )
            etag = str(answer["ETag"])
            stored = answer.get("ChecksumCRC32")
            if stored is None:  # a server that keeps no checksums: its ETag is the part's MD5
                stored_ok = etag.strip('"') == hashlib.md5(body, usedforsecurity=False).hexdigest()
            else:
                stored_ok = stored == crc
            if not stored_ok:
                raise UploadVerificationError(
                    f"part {number} of {self._key}: S3 answered {stored or etag}, sent CRC-32 {crc}"
                )
            return {"PartNumber": number, "ETag": etag, "ChecksumCRC32": crc}
        finally:
            self._free.put(part)

    def _raise_failed(self) -> None:
        # Fail fast: a part that failed stops the writer at its next part, not at the end.
        for future in self._futures:
            if future.done():
                error = future.exception()
                if error is not None:
                    raise error

    def complete(self) -> int:
        """Upload what is left, complete the upload and verify it; returns the object's size."""
        if self._filled or self._part_number == 0:
            self._current()
            self._submit()
        parts = sorted((f.result() for f in self._futures), key=lambda p: p["PartNumber"])
        check_stop(self._stop)
        self._client.complete_multipart_upload(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": parts},
        )
        self._completed = True
        self._pool.shutdown()
        self._verify(parts)
        return self._position

    def _verify(self, parts: list[dict[str, Any]]) -> None:
        tags = b"".join(bytes.fromhex(p["ETag"].strip('"')) for p in parts)
        etag = f"{hashlib.md5(tags, usedforsecurity=False).hexdigest()}-{len(parts)}"
        crcs = b"".join(base64.b64decode(p["ChecksumCRC32"]) for p in parts)
        composite = f"{_b64_crc32(zlib.crc32(crcs))}-{len(parts)}"
        head = self._client.head_object(Bucket=self._bucket, Key=self._key, ChecksumMode="ENABLED")
        stored_etag = str(head["ETag"]).strip('"')
        stored_crc = head.get("ChecksumCRC32")
        if (
            int(head["ContentLength"]) != self._position
            or stored_etag != etag
            or (stored_crc is not None and stored_crc != composite)
        ):
            raise UploadVerificationError(
                f"{self._key}: stored {head['ContentLength']} bytes, ETag {stored_etag}, "
                f"CRC-32 {stored_crc}; sent {self._position} bytes, ETag {etag}, CRC-32 {composite}"
            )
        self.etag = stored_etag

    def abort(self) -> None:
        """Give the upload up: nothing of it stays visible."""
        for future in self._futures:
            future.cancel()
        self._pool.shutdown(wait=True)
        if not self._completed:
            self._client.abort_multipart_upload(
                Bucket=self._bucket, Key=self._key, UploadId=self._upload_id
            )
        self._completed = True
