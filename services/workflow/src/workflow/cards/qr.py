"""QR session cards: print them, and find them among a card's frames (blocking: run in a thread).

A card's QR code holds `studio-session:<session number>`, so a QR code that happens to be in a
picture (a menu, a poster) is never taken for a card. Frames are scanned at reduced size (a
JPEG is decoded at 1/2, 1/4 or 1/8 scale straight from its DCT data), which keeps a
24-megapixel frame far below a second.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import IO

import segno
import zxingcpp
from PIL import Image, ImageDraw, ImageFont, ImageOps

PREFIX = "studio-session:"
SCAN_EDGE = 2000
DATETIME_ORIGINAL = 0x9003
EXIF_IFD = 0x8769
PAGE = (1240, 1754)  # A4 at 150 dpi


@dataclass(frozen=True)
class CardPage:
    session_number: str
    client: str
    starts_at: str


@dataclass(frozen=True)
class Scan:
    session_number: str | None  # the card's session number when the frame is a card
    unreadable_qr: bool  # a QR code was seen but could not be read (blurred?)
    foreign_qr: str | None  # a readable QR code that is not a session card
    capture_time: datetime | None


def card_text(session_number: str) -> str:
    return f"{PREFIX}{session_number}"


def cards_pdf(pages: list[CardPage]) -> bytes:
    """One A4 page per session: its number as a large QR code, the number and the client."""
    rendered = [_page(page) for page in pages]
    out = io.BytesIO()
    rendered[0].save(out, format="PDF", save_all=True, append_images=rendered[1:], resolution=150)
    return out.getvalue()


def _page(page: CardPage) -> Image.Image:
    sheet = Image.new("RGB", PAGE, "white")
    code = io.BytesIO()
    segno.make(card_text(page.session_number), error="h", micro=False).save(
        code, kind="png", scale=24, border=4
    )
    code.seek(0)
    qr = Image.open(code, formats=["PNG"]).convert("RGB")
    qr = qr.resize((900, 900), Image.Resampling.NEAREST)
    sheet.paste(qr, ((PAGE[0] - 900) // 2, 200))
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=64)
    small = ImageFont.load_default(size=40)
    for y, text, face in (
        (1180, page.session_number, font),
        (1290, page.client, small),
        (1360, page.starts_at, small),
    ):
        width = draw.textlength(text, font=face)
        draw.text(((PAGE[0] - width) / 2, y), text, fill="black", font=face)
    return sheet


def scan_frame(body: IO[bytes], image_format: str) -> Scan:
    """Look for a session card's QR code in a frame, reading a reduced-size decode."""
    body.seek(0)
    with Image.open(body, formats=[image_format]) as image:
        capture_time = _capture_time(image)
        if image_format == "JPEG":
            image.draft("L", (SCAN_EDGE, SCAN_EDGE))
        gray = ImageOps.exif_transpose(image).convert("L")
    gray.thumbnail((SCAN_EDGE, SCAN_EDGE))
    qr_only = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    found = zxingcpp.read_barcodes(gray, formats=qr_only, return_errors=True)
    number: str | None = None
    foreign: str | None = None
    unreadable = False
    for code in found:
        if not code.valid:
            unreadable = True
        elif code.text.startswith(PREFIX) and len(code.text) > len(PREFIX):
            number = code.text[len(PREFIX) :]
        else:
            foreign = code.text[:200]
    return Scan(number, unreadable and number is None, foreign, capture_time)


def _capture_time(image: Image.Image) -> datetime | None:
    try:
        raw = image.getexif().get_ifd(EXIF_IFD).get(DATETIME_ORIGINAL)
        return datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S") if raw else None
    except (ValueError, TypeError, KeyError):
        return None
