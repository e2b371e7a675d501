"""ZIP64: archives beyond the classic limits are written as ZIP64 and unpack with `zipfile`.

Past 65,535 entries is cheap to reach for real (tiny entries, streamed into the real S3
server). Past 4 GiB is not, so the size and offset paths run with the writer's limit lowered:
the same code writes the same records, only sooner.
"""

from __future__ import annotations

import asyncio
import io
import os
import struct
import zipfile
from typing import Any

from delivery.packaging.multipart import MultipartUploadWriter
from delivery.packaging.package import PackagingOptions, build_package, file_names
from delivery.packaging.zipstream import COUNT_LIMIT, StreamingZipWriter
from kit.storage import S3Storage

STAMP = (2026, 5, 17, 14, 30, 12)
ZIP64_END = b"PK\x06\x06"
ZIP64_LOCATOR = b"PK\x06\x07"


class MemorySink:
    """The sink protocol over a BytesIO (what the multipart writer does, minus S3)."""

    def __init__(self) -> None:
        self.out = io.BytesIO()
        self._space = bytearray()

    def tell(self) -> int:
        return self.out.tell()

    def write(self, data: bytes) -> int:
        return self.out.write(data)

    def space(self, limit: int) -> memoryview:
        self._space = bytearray(limit)
        return memoryview(self._space)

    def commit(self, count: int) -> None:
        self.out.write(self._space[:count])


def reader_of(data: bytes, *, step: int = 7000) -> Any:
    """A `readinto` over `data` that gives at most `step` bytes a call, like a socket."""
    stream = io.BytesIO(data)

    def read_into(view: memoryview) -> int:
        return stream.readinto(view[:step])

    return read_into


def zip64_extra_of(info: zipfile.ZipInfo) -> tuple[int, ...]:
    """The 64-bit fields of a central directory entry's ZIP64 extra (header id 1)."""
    header_id, length = struct.unpack("<HH", info.extra[:4])
    assert header_id == 1
    return struct.unpack(f"<{length // 8}Q", info.extra[4 : 4 + length])


def test_entries_and_offsets_beyond_the_limit_are_written_as_zip64() -> None:
    limit = 50_000  # stands for 4 GiB
    small, large, after = os.urandom(1_000), os.urandom(120_000), os.urandom(3_000)
    sink = MemorySink()
    writer = StreamingZipWriter(sink, date_time=STAMP, zip64_limit=limit)
    writer.add_stream("small.jpg", len(small), reader_of(small))
    writer.add_stream("large.jpg", len(large), reader_of(large))  # size beyond the limit
    writer.add_stream("after.jpg", len(after), reader_of(after))  # offset beyond the limit
    writer.add_bytes("SHA256SUMS", b"sums\n")
    size = writer.close()
    data = sink.out.getvalue()
    assert size == len(data)

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None  # every CRC-32 checked
        assert archive.read("small.jpg") == small
        assert archive.read("large.jpg") == large
        assert archive.read("after.jpg") == after
        assert archive.read("SHA256SUMS") == b"sums\n"
        infos = {i.filename: i for i in archive.infolist()}
        assert infos["small.jpg"].extra == b""  # below the limit: classic fields
        assert zip64_extra_of(infos["large.jpg"]) == (len(large), len(large))
        assert zip64_extra_of(infos["after.jpg"]) == (infos["after.jpg"].header_offset,)
        assert infos["after.jpg"].header_offset > limit
        assert infos["large.jpg"].date_time == STAMP
    # The central directory starts past the limit: ZIP64 end record and locator, then the end.
    assert data.rfind(ZIP64_END) < data.rfind(ZIP64_LOCATOR) < data.rfind(b"PK\x05\x06")


def test_below_every_limit_the_archive_is_a_classic_zip() -> None:
    sink = MemorySink()
    writer = StreamingZipWriter(sink, date_time=STAMP)
    body = os.urandom(10_000)
    writer.add_stream("a.jpg", len(body), reader_of(body))
    writer.close()
    data = sink.out.getvalue()
    assert ZIP64_END not in data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.read("a.jpg") == body


async def test_more_than_65535_entries_stream_into_s3_as_zip64_and_unpack(
    storage: S3Storage, unique: str
) -> None:
    bucket = f"t-{unique}-dlv"
    await storage.ensure_bucket(bucket)
    count = COUNT_LIMIT + 10  # the classic end record holds at most 65,535 entries

    def write() -> tuple[int, str]:
        writer = MultipartUploadWriter(
            storage.client, bucket, "many.zip", part_bytes=5 * 1024 * 1024, concurrency=2
        )
        try:
            archive = StreamingZipWriter(writer, date_time=STAMP)
            for number in range(count):
                archive.add_bytes(f"{number:05d}.txt", str(number).encode())
            archive.close()
            size = writer.complete()
        except BaseException:
            writer.abort()
            raise
        assert writer.etag is not None
        return size, writer.etag

    size, etag = await asyncio.to_thread(write)
    assert etag.endswith("-2")  # over 5 MiB: the end records were written across parts
    body = await storage.get_bytes(bucket, "many.zip")
    assert len(body) == size
    assert ZIP64_END in body[-200:]
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = archive.namelist()
        assert len(names) == count
        assert archive.read("00000.txt") == b"0"
        assert archive.read(f"{count - 1:05d}.txt") == str(count - 1).encode()
        assert archive.testzip() is None


async def test_a_delivery_archive_past_the_zip64_limit_unpacks_with_its_manifest(
    storage: S3Storage, unique: str
) -> None:
    images, deliveries = f"t-{unique}-img", f"t-{unique}-dlv"
    await storage.ensure_bucket(images)
    await storage.ensure_bucket(deliveries)
    originals = {f"sessions/s1/hires/IMG_{i}.jpg": os.urandom(2_000_000 + i) for i in range(3)}
    for key, body in originals.items():
        await storage.put(images, key, body)

    package = await asyncio.to_thread(
        build_package,
        storage.client,
        images_bucket=images,
        deliveries_bucket=deliveries,
        prefix="deliveries/d64",
        archive_stem="d64",
        sources=file_names(list(originals)),
        options=PackagingOptions(
            part_bytes=5 * 1024 * 1024,
            concurrency=2,
            archive_cap_bytes=1024**3,
            zip64_limit=1_500_000,  # every image is "larger than 4 GiB"
        ),
    )
    [packed] = package.archives
    body = await storage.get_bytes(deliveries, packed.key)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.testzip() is None
        for key, original in originals.items():
            name = key.rsplit("/", 1)[1]
            assert archive.read(name) == original
            assert zip64_extra_of(archive.getinfo(name))[:2] == (len(original), len(original))
        sums = archive.read("SHA256SUMS").decode().splitlines()
    assert [line.split("  ")[1] for line in sums] == [k.rsplit("/", 1)[1] for k in originals]
    assert ZIP64_END in body[-200:]
