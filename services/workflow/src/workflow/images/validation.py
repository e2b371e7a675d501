"""Check one uploaded file and hash it, reading it in chunks (blocking: run in a thread).

JPEG, PNG and TIFF are decoded with Pillow restricted to the format their extension names (a
JPEG is decoded at reduced size, which still reads every byte, so a truncated file fails); a
pixel count above the limit is refused before decoding. Camera RAW files are stored as they are.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from typing import IO

from PIL import Image, ImageFile, UnidentifiedImageError

from workflow.images.decode_budget import PixelBudget

CHUNK = 1024 * 1024
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)

DECODED = {
    ".jpg": ("JPEG", "image/jpeg"),
    ".jpeg": ("JPEG", "image/jpeg"),
    ".png": ("PNG", "image/png"),
    ".tif": ("TIFF", "image/tiff"),
    ".tiff": ("TIFF", "image/tiff"),
}
RAW_EXTENSIONS = frozenset(
    {".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".dng", ".raf", ".orf"}
    | {".rw2", ".pef", ".srw", ".3fr", ".fff", ".iiq", ".erf", ".mos", ".mrw", ".x3f"}
)


@dataclass(frozen=True)
class Checked:
    kind: str  # "image" or "raw"
    content_type: str
    sha256: str
    size: int
    width: int | None = None
    height: int | None = None


class Rejected(Exception):
    """The file cannot be imported; the message is the reason in the import report."""


def kind_of(extension: str) -> str | None:
    if extension in DECODED:
        return "image"
    if extension in RAW_EXTENSIONS:
        return "raw"
    return None


def check_file(
    body: IO[bytes], extension: str, *, max_pixels: int, budget: PixelBudget | None = None
) -> Checked:
    """Hash the file and, for JPEG/PNG/TIFF, prove that it decodes; raises Rejected."""
    kind = kind_of(extension)
    if kind is None:
        raise Rejected(f"unknown file type {extension or '(no extension)'!r}")
    body.seek(0)
    digest = hashlib.sha256()
    size = 0
    for chunk in iter(lambda: body.read(CHUNK), b""):
        digest.update(chunk)
        size += len(chunk)
    if size == 0:
        raise Rejected("the file is empty")
    if kind == "raw":
        return Checked("raw", "application/octet-stream", digest.hexdigest(), size)
    image_format, content_type = DECODED[extension]
    body.seek(0)
    width, height = _decode(body, image_format, max_pixels=max_pixels, budget=budget)
    body.seek(0)
    return Checked("image", content_type, digest.hexdigest(), size, width, height)


def _decode(
    body: IO[bytes], image_format: str, *, max_pixels: int, budget: PixelBudget | None = None
) -> tuple[int, int]:
    # Pillow's own limit follows the setting (medium format reaches 100-150 MP); above it
    # Pillow warns, which this module turns into an error process-wide (warning filters are
    # not thread-safe to change per call).
    Image.MAX_IMAGE_PIXELS = max_pixels
    # Truncated files must fail. Pillow's switch for that is process-wide too, and libraries
    # flip it at import (WeasyPrint sets it to True), so it is set here for every check.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with Image.open(body, formats=[image_format]) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise Rejected(
                    f"decompression bomb: {width}x{height} pixels is more than the "
                    f"limit of {max_pixels}"
                )
            if image_format == "JPEG":
                image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
            if budget is None:
                image.load()
            else:
                decoded_width, decoded_height = image.size  # a JPEG's draft is smaller
                with budget.hold(decoded_width * decoded_height):
                    image.load()
            return width, height
    except Rejected:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise Rejected(f"decompression bomb: {exc}") from None
    except UnidentifiedImageError:
        raise Rejected(f"not a readable {image_format} file") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise Rejected(f"corrupt or truncated {image_format}: {exc}") from None
