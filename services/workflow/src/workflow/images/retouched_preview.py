"""A retouched version's preview: a small JPEG made from the stored file the first time a screen
asks, then kept beside the other previews (browsers show no TIFF, and a retouched file is at
full resolution). Its key is kept on the image, so deleting the image or replacing the
retouched version deletes it too."""

from __future__ import annotations

import io

from PIL import Image, ImageOps

from workflow.images.decode_budget import PixelBudget

# The long edge of a retouched preview, as the screens show previews.
LONG_EDGE = 1024


def preview_key(session_id: str, stored_name: str, sha256: str) -> str:
    """Named by the retouched file's content, so a replaced version never shows the old one."""
    stem = stored_name.rpartition(".")[0] or stored_name
    return f"sessions/{session_id}/previews/retouched/{stem}-{sha256[:16]}.jpg"


def preview_jpeg(body: bytes, *, max_pixels: int, budget: PixelBudget) -> bytes:
    """`body` (a JPEG, PNG or TIFF that passed the import's checks) as an sRGB-ish JPEG at most
    `LONG_EDGE` pixels long, turned upright by its EXIF orientation; decoded within the
    process's pixel budget."""
    Image.MAX_IMAGE_PIXELS = max_pixels
    with Image.open(io.BytesIO(body)) as image:
        image.draft("RGB", (LONG_EDGE, LONG_EDGE))  # JPEG: decode at a reduced scale
        width, height = image.size
        with budget.hold(width * height):
            return _small(image)


def _small(image: Image.Image) -> bytes:
    upright = ImageOps.exif_transpose(image)
    upright.thumbnail((LONG_EDGE, LONG_EDGE))
    if upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    out = io.BytesIO()
    upright.save(out, "JPEG", quality=85)
    return out.getvalue()
