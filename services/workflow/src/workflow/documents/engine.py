"""WeasyPrint, imported once when the service starts, with Pillow put back as it was.

Importing WeasyPrint sets Pillow's process-wide `ImageFile.LOAD_TRUNCATED_IMAGES` to True,
which would let truncated files through the import checks of the same process (they decode
with Pillow). It is imported here, at start, and the switch restored at once; the import check
also sets it for every file it checks.
"""

from __future__ import annotations

from PIL import ImageFile

_truncated = ImageFile.LOAD_TRUNCATED_IMAGES
from weasyprint import HTML  # noqa: E402
from weasyprint.urls import URLFetcher  # noqa: E402

ImageFile.LOAD_TRUNCATED_IMAGES = _truncated

__all__ = ["HTML", "URLFetcher"]
