"""Printing an invoice and its image detail sheet (24 images, each a thumbnail cropped from a
1600 x 1067 preview) as workflow prints them, next to the anchor measured in the same run:
WeasyPrint printing a one-line page (its fixed cost per document).

    make bench-documents

No servers: the templates and thumbnails of `workflow.documents.render` are driven directly,
with the context a 12-line invoice gives them. Repeats alternate the cases.
"""

from __future__ import annotations

import io
import sys
import time
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from _harness import report, summary

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
from PIL import Image  # noqa: E402

from workflow.documents.engine import HTML  # noqa: E402
from workflow.documents.render import (  # noqa: E402
    crop_text,
    money_formatter,
    render_pdf,
    thumbnail,
)
from workflow.invoices.schemas import Crop  # noqa: E402

IMAGES = 24
LINES = 12
REPEATS = 7


def _preview(seed: int) -> bytes:
    image = Image.linear_gradient("L").resize((1600, 1067)).convert("RGB")
    image.paste((seed * 9 % 256, 80, 160), (seed * 40 % 1200, 200, seed * 40 % 1200 + 300, 600))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def _context(previews: list[bytes]) -> dict[str, Any]:
    crop = Crop(x=0.1, y=0.0, width=0.6, height=1.0)
    lines = []
    for number in range(LINES):
        shown = [2 * number, 2 * number + 1]
        lines.append(
            {
                "product_name": f"Product {number + 1}",
                "quantity": 1 + number % 3,
                "unit_price_minor": 2500,
                "total_minor": 2500 * (1 + number % 3),
                "crop_text": crop_text(crop if number % 2 else None),
                "retouch_notes": "Soften the background." if number % 3 == 0 else None,
                "images": [
                    {
                        "label": str(index + 1),
                        "file": f"IMG_{index:04d}.jpg",
                        "thumbnail": thumbnail(previews[index], crop if number % 2 else None),
                    }
                    for index in shown
                ],
            }
        )
    invoice = SimpleNamespace(
        invoice_id="inv-bench",
        subtotal_minor=60000,
        discounts=[],
        tax_minor=4800,
        tax_rate_percent=Decimal("8"),
        total_minor=64800,
        balance_minor=64800,
    )
    return {
        "title": "Invoice inv-bench",
        "studio": {
            "name": "Bench Studio",
            "address": "1 Main St",
            "terms": "Due on receipt.",
            "copyright": "All images are copyright Bench Studio.",
        },
        "facts": [("Invoice", "inv-bench"), ("Date", "2026-12-03")],
        "invoice": invoice,
        "session": SimpleNamespace(session_number="S1"),
        "client_name": "Ann Lee",
        "lines": lines,
        "payments": [],
        "money": money_formatter("USD"),
        "created": "2026-12-03T10:00:00Z",
        "modified": "2026-12-03T10:00:00Z",
    }


def main() -> None:
    previews = [_preview(i) for i in range(IMAGES)]
    anchor_html = "<!doctype html><html><body><p>Invoice</p></body></html>"
    HTML(string=anchor_html).write_pdf()  # warm: fonts and Pango's caches
    render_pdf("invoice.html", **_context(previews))
    anchor, documents, thumbs, sizes = [], [], [], []
    for _ in range(REPEATS):
        started = time.perf_counter()
        HTML(string=anchor_html).write_pdf()
        anchor.append(time.perf_counter() - started)

        started = time.perf_counter()
        context = _context(previews)
        thumbs.append(time.perf_counter() - started)
        invoice = render_pdf("invoice.html", **context)
        sheet = render_pdf("detail_sheet.html", **context)
        documents.append(time.perf_counter() - started)
        sizes.append(len(invoice) + len(sheet))
    one = summary(anchor)
    both = summary(documents)
    made = summary(thumbs)
    rows = [
        ("measure", "median (ms)", "spread"),
        ("a one-line page (anchor)", f"{one['median'] * 1000:.0f}", f"{one['spread_pct']:.0f}%"),
        (
            f"invoice + detail sheet, {LINES} lines, {IMAGES} thumbnails",
            f"{both['median'] * 1000:.0f}",
            f"{both['spread_pct']:.0f}%",
        ),
        ("  of which the cropped thumbnails", f"{made['median'] * 1000:.0f}", ""),
        ("documents / anchor", f"{both['median'] / one['median']:.1f}", ""),
    ]
    report(
        "documents",
        rows,
        {
            "anchor_ms": round(one["median"] * 1000, 1),
            "invoice_and_sheet_ms": round(both["median"] * 1000, 1),
            "thumbnails_ms": round(made["median"] * 1000, 1),
            "documents_over_anchor": round(both["median"] / one["median"], 2),
            "pdf_bytes": sizes[0],
            "lines": LINES,
            "images": IMAGES,
            "repeats": REPEATS,
        },
    )


if __name__ == "__main__":
    main()
