"""A minimal vector PDF writer for the session cards: filled rectangles and Helvetica text.

Text is real PDF text (searchable, selectable, printed sharp), in the standard Helvetica font
that every PDF reader has, so nothing is embedded. Helvetica's simple encoding (WinAnsi,
cp1252) covers Western European names; other letters are written without their accents when
that makes them Latin (Nguyễn -> Nguyen), else as `?`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

A4 = (595.28, 841.89)  # points
# Helvetica's advance widths (per 1000 units of the font size), characters 32 to 126.
_WIDTHS = (
    [278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278]
    + [556] * 10
    + [278, 278, 584, 584, 584, 556, 1015]
    + [667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833]
    + [722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611]
    + [278, 278, 278, 469, 556, 333]
    + [556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833]
    + [556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500]
    + [334, 260, 334, 584]
)
_DEFAULT_WIDTH = 556


def encodable(text: str) -> bytes:
    """The text in WinAnsi (cp1252), accents dropped where only that makes it fit."""
    out = bytearray()
    for char in text:
        try:
            out += char.encode("cp1252")
        except UnicodeEncodeError:
            plain = unicodedata.normalize("NFKD", char).encode("ascii", "ignore")
            out += plain or b"?"
    return bytes(out)


def text_width(text: bytes, size: float) -> float:
    units = sum(_WIDTHS[c - 32] if 32 <= c <= 126 else _DEFAULT_WIDTH for c in text)
    return units * size / 1000


def _literal(text: bytes) -> bytes:
    escaped = text.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + escaped + b")"


@dataclass
class Page:
    """Drawing operations of one page, in points from the bottom left corner."""

    width: float = A4[0]
    height: float = A4[1]
    operations: list[bytes] = field(default_factory=list)

    def rectangles(self, boxes: list[tuple[float, float, float, float]]) -> None:
        """Fill these (x, y, width, height) rectangles black."""
        if boxes:
            self.operations.append(b"0 g")
            self.operations.extend(b"%.2f %.2f %.2f %.2f re" % box for box in boxes)
            self.operations.append(b"f")

    def centered_text(self, text: str, *, top: float, size: float) -> None:
        """One line of Helvetica, centered, its baseline `top` points below the page's top."""
        encoded = encodable(text)
        x = (self.width - text_width(encoded, size)) / 2
        y = self.height - top
        self.operations.append(
            b"BT /F1 %.1f Tf 0 g %.2f %.2f Td %s Tj ET" % (size, x, y, _literal(encoded))
        )

    def content(self) -> bytes:
        return b"\n".join(self.operations)


def document(pages: list[Page]) -> bytes:
    """The PDF file: catalog, page tree, the Helvetica font, then each page and its content."""
    objects: list[bytes] = [b"", b"", b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "]
    objects[2] += b"/Encoding /WinAnsiEncoding >>"
    kids = []
    for page in pages:
        content = page.content()
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content) + 1, content))
        contents_ref = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>"
            % (page.width, page.height, contents_ref)
        )
        kids.append(b"%d 0 R" % len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
