"""Files of a folder, their hashes, and multipart uploads in batches with a progress bar."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

CHUNK = 1024 * 1024


def folder_files(folder: Path) -> list[Path]:
    """The folder's regular files, hidden ones left out, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files"),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )


class CountingReader(io.RawIOBase):
    """A file read in chunks that reports each chunk's size (for the bytes column)."""

    def __init__(self, path: Path, on_read: Callable[[int], None]) -> None:
        self._file = path.open("rb")
        self._on_read = on_read

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size)
        self._on_read(len(data))
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def fileno(self) -> int:
        return self._file.fileno()

    def close(self) -> None:
        self._file.close()
        super().close()


def batches(paths: list[Path], *, max_files: int, max_bytes: int) -> Iterator[list[Path]]:
    batch: list[Path] = []
    size = 0
    for path in paths:
        length = path.stat().st_size
        if batch and (len(batch) >= max_files or size + length > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(path)
        size += length
    if batch:
        yield batch


def upload_batch(
    send: Callable[[list[tuple[str, tuple[str, Any, str]]]], Any],
    batch: list[Path],
    progress: Progress,
    task: TaskID,
) -> Any:
    """Send one multipart request of `batch`; the bar advances by bytes as they are read."""
    readers = [CountingReader(p, lambda n: progress.update(task, advance=n)) for p in batch]
    try:
        return send(
            [
                ("files", (p.name, reader, "application/octet-stream"))
                for p, reader in zip(batch, readers, strict=True)
            ]
        )
    finally:
        for reader in readers:
            reader.close()
