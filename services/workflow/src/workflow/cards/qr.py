"""QR session cards: print them, and find them among a card's frames (blocking: run in a thread).

A card's QR code holds `studio-session:<session number>`, so a QR code that happens to be in a
picture (a menu, a poster) is never taken for a card. A QR code seen but not decoded marks the
frame as an unreadable card (see plan.py). Frames are scanned at reduced size (a
JPEG is decoded at 1/2, 1/4 or 1/8 scale straight from its DCT data), which keeps a
24-megapixel frame far below a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import IO

import segno
import zxingcpp
from PIL import Image, ImageOps

from workflow.cards import pdf

PREFIX = "studio-session:"
SCAN_EDGE = 2000
DATETIME_ORIGINAL = 0x9003
EXIF_IFD = 0x8769
# The printed QR code: its side and its distance from the page top, in points.
QR_SIDE = 380.0
QR_TOP = 90.0


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
    """One A4 page per session: its number as a large QR code (vector), the number, the
    client's name and the start, as real PDF text."""
    return pdf.document([_page(page) for page in pages])


def _page(card: CardPage) -> pdf.Page:
    page = pdf.Page()
    matrix = segno.make(card_text(card.session_number), error="h", micro=False).matrix
    module = QR_SIDE / len(matrix)
    left = (page.width - QR_SIDE) / 2
    top = page.height - QR_TOP
    boxes = []
    for row, cells in enumerate(matrix):
        column = 0
        while column < len(cells):
            if not cells[column]:
                column += 1
                continue
            run = column
            while run < len(cells) and cells[run]:
                run += 1
            y = top - (row + 1) * module
            boxes.append((left + column * module, y, (run - column) * module, module))
            column = run
    page.rectangles(boxes)
    below = QR_TOP + QR_SIDE
    page.centered_text(card.session_number, top=below + 60, size=32)
    page.centered_text(card.client, top=below + 100, size=20)
    page.centered_text(card.starts_at, top=below + 130, size=20)
    return page


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
    found = list(zxingcpp.read_barcodes(gray, formats=qr_only, return_errors=True))
    if not any(code.valid and code.text.startswith(PREFIX) for code in found):
        # A slightly blurred card defeats the default (local average) binarizer, which then
        # often sees no QR code at all; a fixed threshold still reads it, or at least sees a
        # QR code it cannot decode, so the frames after it are not filed under the previous
        # card. (A card blurred past that is a plain frame to any scanner.)
        found += zxingcpp.read_barcodes(
            gray, formats=qr_only, return_errors=True, binarizer=zxingcpp.Binarizer.FixedThreshold
        )
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
