"""A forward-only ZIP writer for stored (uncompressed) entries, ZIP64 when needed.

Images do not compress, so entries are stored. The writer never seeks: each entry's CRC-32
follows its bytes in a data descriptor, as `zipfile` does on a pipe. Entry bytes are read
straight into the sink's own buffer (`space` / `commit`), so a multipart sink uploads the very
buffer the source was read into, with no copy in between. ZIP64 records are written when an
entry's size, an offset, the central directory or the entry count passes the classic limits;
the limits are parameters so that tests can prove the ZIP64 path without writing 4 GiB.

Blocking: use it from a worker thread.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

ZIP64_LIMIT = 0xFFFFFFFF  # sizes and offsets beyond this need ZIP64
COUNT_LIMIT = 0xFFFF  # entry counts from this on need ZIP64
READ_CHUNK = 1024 * 1024

_LOCAL = b"PK\x03\x04"
_DESCRIPTOR = b"PK\x07\x08"
_CENTRAL = b"PK\x01\x02"
_END64 = b"PK\x06\x06"
_END64_LOCATOR = b"PK\x06\x07"
_END = b"PK\x05\x06"
_FLAG_DESCRIPTOR = 0x08
_FLAG_UTF8 = 0x800
_VERSION = 20
_VERSION_ZIP64 = 45
_MADE_BY_UNIX = 3 << 8
_FILE_MODE = 0o644 << 16


class ZipSink(Protocol):
    """Where the archive goes: `write` for headers, `space`/`commit` for entry bytes."""

    def tell(self) -> int: ...

    def write(self, data: bytes) -> int: ...

    def space(self, limit: int) -> memoryview:
        """A writable view of at most `limit` bytes at the current position."""
        ...

    def commit(self, count: int) -> None:
        """The first `count` bytes of the last `space` are written."""
        ...


ReadInto = Callable[[memoryview], int]


class TruncatedSource(Exception):
    """A source gave fewer bytes than its entry announced."""


@dataclass(frozen=True)
class ZipEntry:
    name: str
    size: int
    crc32: int
    sha256: str
    offset: int


def _dos_time(stamp: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = stamp
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


class StreamingZipWriter:
    def __init__(
        self,
        sink: ZipSink,
        *,
        date_time: tuple[int, int, int, int, int, int],
        zip64_limit: int = ZIP64_LIMIT,
        count_limit: int = COUNT_LIMIT,
    ) -> None:
        self._sink = sink
        self._time, self._date = _dos_time(date_time)
        self._zip64_limit = zip64_limit
        self._count_limit = count_limit
        self._entries: list[ZipEntry] = []
        self._closed = False

    @property
    def entries(self) -> list[ZipEntry]:
        return list(self._entries)

    def add_stream(self, name: str, size: int, read_into: ReadInto) -> ZipEntry:
        """Add an entry of exactly `size` bytes read with `read_into` (e.g. a body's readinto)."""
        offset = self._local_header(name, size)
        crc, digest, remaining = 0, hashlib.sha256(), size
        while remaining:
            view = self._sink.space(min(remaining, READ_CHUNK))
            count = read_into(view)
            if count <= 0:
                raise TruncatedSource(f"{name}: {size - remaining} of {size} bytes")
            chunk = view[:count]
            crc = zlib.crc32(chunk, crc)
            digest.update(chunk)
            self._sink.commit(count)
            remaining -= count
        return self._finish_entry(name, size, crc, digest.hexdigest(), offset)

    def add_bytes(self, name: str, data: bytes) -> ZipEntry:
        """Add a small entry held in memory (the manifest)."""
        offset = self._local_header(name, len(data))
        self._sink.write(data)
        entry_sha = hashlib.sha256(data).hexdigest()
        return self._finish_entry(name, len(data), zlib.crc32(data), entry_sha, offset)

    def close(self) -> int:
        """Write the central directory and end records; returns the archive's size."""
        if self._closed:
            return self._sink.tell()
        self._closed = True
        start = self._sink.tell()
        for entry in self._entries:
            self._sink.write(self._central_header(entry))
        end = self._sink.tell()
        size = end - start
        count = len(self._entries)
        if count >= self._count_limit or start > self._zip64_limit or size > self._zip64_limit:
            self._sink.write(
                _END64
                + struct.pack(
                    "<QHHIIQQQQ",
                    44,
                    _MADE_BY_UNIX | _VERSION_ZIP64,
                    _VERSION_ZIP64,
                    0,
                    0,
                    count,
                    count,
                    size,
                    start,
                )
            )
            self._sink.write(_END64_LOCATOR + struct.pack("<IQI", 0, end, 1))
            count, size, start = 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF
        self._sink.write(_END + struct.pack("<HHHHIIH", 0, 0, count, count, size, start, 0))
        return self._sink.tell()

    # --- records ---

    def _is_zip64(self, size: int) -> bool:
        return size > self._zip64_limit

    def _local_header(self, name: str, size: int) -> int:
        if self._closed:
            raise ValueError("the archive is closed")
        offset = self._sink.tell()
        encoded, flags = self._encode(name)
        extra = b""
        version = _VERSION
        stored_size = 0  # sizes and CRC follow the data, in the descriptor
        if self._is_zip64(size):
            extra = struct.pack("<HHQQ", 1, 16, 0, 0)
            version, stored_size = _VERSION_ZIP64, 0xFFFFFFFF
        self._sink.write(
            _LOCAL
            + struct.pack(
                "<HHHHHIIIHH",
                version,
                flags | _FLAG_DESCRIPTOR,
                0,
                self._time,
                self._date,
                0,
                stored_size,
                stored_size,
                len(encoded),
                len(extra),
            )
            + encoded
            + extra
        )
        return offset

    def _finish_entry(self, name: str, size: int, crc: int, sha256: str, offset: int) -> ZipEntry:
        if self._is_zip64(size):
            self._sink.write(_DESCRIPTOR + struct.pack("<IQQ", crc, size, size))
        else:
            self._sink.write(_DESCRIPTOR + struct.pack("<III", crc, size, size))
        entry = ZipEntry(name, size, crc, sha256, offset)
        self._entries.append(entry)
        return entry

    def _central_header(self, entry: ZipEntry) -> bytes:
        encoded, flags = self._encode(entry.name)
        fields: list[int] = []  # the ZIP64 extra holds what does not fit, in this order
        size = entry.size
        if self._is_zip64(entry.size):
            fields += [entry.size, entry.size]
            size = 0xFFFFFFFF
        offset = entry.offset
        if entry.offset > self._zip64_limit:
            fields.append(entry.offset)
            offset = 0xFFFFFFFF
        extra = struct.pack(f"<HH{len(fields)}Q", 1, 8 * len(fields), *fields) if fields else b""
        version = _VERSION_ZIP64 if fields else _VERSION
        return (
            _CENTRAL
            + struct.pack(
                "<HHHHHHIIIHHHHHII",
                _MADE_BY_UNIX | version,
                version,
                flags | _FLAG_DESCRIPTOR,
                0,
                self._time,
                self._date,
                entry.crc32,
                size,
                size,
                len(encoded),
                len(extra),
                0,
                0,
                0,
                _FILE_MODE,
                offset,
            )
            + encoded
            + extra
        )

    @staticmethod
    def _encode(name: str) -> tuple[bytes, int]:
        try:
            return name.encode("ascii"), 0
        except UnicodeEncodeError:
            return name.encode("utf-8"), _FLAG_UTF8
