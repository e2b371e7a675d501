"""Images made in the tests with Pillow, and a booked session to import them into."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import UTC, datetime, timedelta

import segno
from PIL import Image, ImageFilter
from workflow_harness import Workflow

from kit.events.contracts.booking import SessionBooked


def picture(
    image_format: str = "JPEG", *, size: tuple[int, int] = (64, 48), shade: int = 0
) -> bytes:
    image = Image.new("RGB", size, (shade % 256, (shade * 7) % 256, 120))
    for x in range(0, size[0], 4):
        image.putpixel((x, x % size[1]), (255, 255 - shade % 256, 0))
    out = io.BytesIO()
    image.save(out, format=image_format)
    return out.getvalue()


def decompression_bomb() -> bytes:
    """A small PNG whose header claims 30000 x 30000 pixels."""
    png = bytearray(picture("PNG", size=(8, 8)))
    # IHDR data sits at bytes 16..29 (width, height, ...), its CRC right after.
    png[16:24] = struct.pack(">II", 30_000, 30_000)
    png[29:33] = struct.pack(">I", zlib.crc32(bytes(png[12:29])) & 0xFFFFFFFF)
    return bytes(png)


async def booked_session(workflow: Workflow, session_id: str, number: str = "S10001") -> str:
    starts_at = datetime(2026, 12, 1, 10, tzinfo=UTC)
    booked = SessionBooked(
        session_id=session_id,
        session_number=number,
        client_id="client-1",
        session_type_id="portrait",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
    )
    await workflow.deliver(workflow.envelope(booked, subject=session_id))
    return session_id


def frame(
    taken_at: datetime | None,
    *,
    card: str | None = None,
    blur: float = 0,
    shade: int = 0,
    size: tuple[int, int] = (900, 600),
) -> bytes:
    """A JPEG frame as a camera writes it (EXIF DateTimeOriginal), optionally showing a session
    card's QR code held up in front of the lens."""
    image = Image.new("RGB", size, (80 + shade % 100, 110, 140))
    if card is not None:
        code = io.BytesIO()
        segno.make(f"studio-session:{card}", error="h").save(code, kind="png", scale=8, border=4)
        code.seek(0)
        qr = Image.open(code).convert("RGB")
        image.paste(qr, ((size[0] - qr.width) // 2, (size[1] - qr.height) // 2))
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    exif = Image.Exif()
    if taken_at is not None:
        exif.get_ifd(0x8769)[0x9003] = taken_at.strftime("%Y:%m:%d %H:%M:%S")
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=90)
    return out.getvalue()
