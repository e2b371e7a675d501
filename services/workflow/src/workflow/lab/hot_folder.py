"""A lab's hot folder on this machine (an in-house printer's queue): the order is written as
the SFTP transport writes it, into `<hot folder>/<order id>/`: each file under a temporary
name, checked, renamed; then `MANIFEST.sha256`, the summary and `ORDER_COMPLETE` last, so the
printer's software never picks up half an order. An order already complete with the same
manifest is not written again."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from workflow.lab.sftp import (
    COMPLETE_NAME,
    MANIFEST_NAME,
    SUMMARY_NAME,
    OrderConflict,
    OrderFile,
    SendReceipt,
    SourceChanged,
    check_plain_name,
    manifest_of,
)

CHUNK = 1024 * 1024


async def write_order(
    folder: Path, order_id: str, files: Sequence[OrderFile], *, summary_pdf: bytes | None
) -> SendReceipt:
    check_plain_name(order_id, "order id")
    return await asyncio.to_thread(_write, folder, order_id, list(files), summary_pdf)


def _write(
    folder: Path, order_id: str, files: list[OrderFile], summary_pdf: bytes | None
) -> SendReceipt:
    everything = list(files)
    if summary_pdf is not None:
        everything.append(OrderFile.from_bytes(SUMMARY_NAME, summary_pdf))
    manifest = manifest_of(everything)
    target = folder / order_id
    complete = target / COMPLETE_NAME
    if complete.exists():
        if (target / MANIFEST_NAME).read_bytes() == manifest:
            return _receipt(order_id, target, manifest, already=True, sent=[], size=0)
        raise OrderConflict(f"The hot folder holds another complete order {order_id}.")
    target.mkdir(parents=True, exist_ok=True)
    sent, size = [], 0
    for item in everything:
        final = target / item.name
        if final.exists() and _sha256(final) == item.sha256:
            continue
        _copy(item, target / f".{item.name}.part", final)
        sent.append(item.name)
        size += item.size
    _put(target, MANIFEST_NAME, manifest)
    # As the SFTP transport marks it: the manifest's own checksum line.
    _put(
        target, COMPLETE_NAME, f"{hashlib.sha256(manifest).hexdigest()}  {MANIFEST_NAME}\n".encode()
    )
    return _receipt(order_id, target, manifest, already=False, sent=sent, size=size)


def _copy(item: OrderFile, temporary: Path, final: Path) -> None:
    digest = hashlib.sha256()
    with item.open() as source, temporary.open("wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    if digest.hexdigest() != item.sha256 or temporary.stat().st_size != item.size:
        temporary.unlink(missing_ok=True)
        raise SourceChanged(f"{item.name} does not match its recorded size and SHA-256.")
    os.replace(temporary, final)


def _put(target: Path, name: str, body: bytes) -> None:
    temporary = target / f".{name}.part"
    temporary.write_bytes(body)
    os.replace(temporary, target / name)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _receipt(
    order_id: str, target: Path, manifest: bytes, *, already: bool, sent: list[str], size: int
) -> SendReceipt:
    return SendReceipt(
        order_id=order_id,
        remote_path=str(target),
        already_complete=already,
        sent=tuple(sent),
        skipped=(),
        removed=(),
        attempts=1,
        bytes_sent=size,
        manifest_sha256=hashlib.sha256(manifest).hexdigest(),
    )
