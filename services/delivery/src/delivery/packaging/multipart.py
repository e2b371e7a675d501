"""A write-only, forward-only file object that streams into one S3 multipart upload.

`zipfile` writes into it as into a pipe: bytes gather in a buffer, every full part is uploaded
by a small thread pool while the writer goes on, and at most `concurrency` parts wait in
flight, so memory stays at a few parts whatever the object's size. Every part's ETag is checked
against its MD5, and the finished object against the multipart ETag and the byte count.

Blocking (boto3): use it from a worker thread, never on the event loop.
"""

from __future__ import annotations

import hashlib
import io
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


class UploadVerificationError(Exception):
    """S3 stored something other than what was sent."""


class MultipartUploadWriter(io.RawIOBase):
    def __init__(
        self,
        client: Any,
        bucket: str,
        key: str,
        *,
        part_bytes: int,
        concurrency: int,
        content_type: str = "application/zip",
    ) -> None:
        super().__init__()
        self._client = client
        self._bucket = bucket
        self._key = key
        self._part_bytes = part_bytes
        self._buffer = bytearray()
        self._position = 0
        self._part_number = 0
        self._digests: dict[int, bytes] = {}
        self._futures: list[Future[dict[str, Any]]] = []
        self._window = concurrency * 2
        self._slots = threading.BoundedSemaphore(concurrency)
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="upload-part")
        self._upload_id: str = client.create_multipart_upload(
            Bucket=bucket, Key=key, ContentType=content_type
        )["UploadId"]
        self._completed = False
        self.etag: str | None = None

    # --- file object protocol (what zipfile uses) ---
    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self._position

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self._buffer += view
        self._position += len(view)
        while len(self._buffer) >= self._part_bytes:
            part = bytes(self._buffer[: self._part_bytes])
            del self._buffer[: self._part_bytes]
            self._submit(part)
        return len(view)

    # --- upload ---
    def _submit(self, part: bytes) -> None:
        self._raise_failed()
        self._slots.acquire()  # back-pressure: the writer waits while the pool is full
        self._part_number += 1
        number = self._part_number
        try:
            future = self._pool.submit(self._upload_part, number, part)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _: self._slots.release())
        self._futures.append(future)

    def _upload_part(self, number: int, part: bytes) -> dict[str, Any]:
        digest = hashlib.md5(part, usedforsecurity=False).digest()
        answer = self._client.upload_part(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=part,
        )
        etag = str(answer["ETag"]).strip('"')
        if etag != digest.hex():
            raise UploadVerificationError(
                f"part {number} of {self._key}: S3 answered ETag {etag}, sent MD5 {digest.hex()}"
            )
        self._digests[number] = digest
        return {"PartNumber": number, "ETag": answer["ETag"]}

    def _raise_failed(self) -> None:
        # Fail fast: a part that failed stops the writer at its next part, not at the end.
        for future in self._futures[-self._window :]:
            if future.done():
                error = future.exception()
                if error is not None:
                    raise error

    def complete(self) -> int:
        """Upload what is left, complete the upload and verify it; returns the object's size."""
        if self._buffer or self._part_number == 0:
            self._submit(bytes(self._buffer))
            self._buffer.clear()
        parts = [future.result() for future in self._futures]
        self._client.complete_multipart_upload(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": sorted(parts, key=lambda p: p["PartNumber"])},
        )
        self._completed = True
        self._pool.shutdown()
        joined = b"".join(self._digests[n] for n in sorted(self._digests))
        expected = f"{hashlib.md5(joined, usedforsecurity=False).hexdigest()}-{len(parts)}"
        head = self._client.head_object(Bucket=self._bucket, Key=self._key)
        etag = str(head["ETag"]).strip('"')
        if int(head["ContentLength"]) != self._position or etag != expected:
            raise UploadVerificationError(
                f"{self._key}: stored {head['ContentLength']} bytes with ETag {etag}, "
                f"sent {self._position} bytes with ETag {expected}"
            )
        self.etag = etag
        return self._position

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
