"""The studio prints an invoice and its image detail sheet: PDFs made from the record, with the
images' thumbnails cropped as they will print, the same bytes every time for the same record,
and every PDF made recorded by its SHA-256."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from PIL import Image
from pypdf import PdfReader
from workflow_harness import Workflow

from kit.events.contracts.booking import PaymentSucceeded, SessionBooked
from kit.events.contracts.render import PreviewRef, PreviewsCreated


def _photo(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", size, colour)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


async def _session_with_previews(workflow: Workflow, session_id: str) -> list[str]:
    """A booked session of José Álvarez with two imported images, each with a 600x400 preview."""
    starts = datetime(2026, 12, 1, 10, tzinfo=UTC)
    booked = SessionBooked(
        session_id=session_id,
        session_number="S20001",
        client_id="client-jose",
        client_name="José Álvarez",
        session_type_id="portrait",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
    )
    await workflow.deliver(workflow.envelope(booked, subject=session_id))
    answer = await workflow.client.post(
        f"/workflow/sessions/{session_id}/imports",
        files=[
            ("files", (f"IMG_{n}.jpg", _photo((1200, 800), (40 * n, 90, 160)), "image/jpeg"))
            for n in (1, 2)
        ],
        data={"options": json.dumps({"rename": "renumber", "renumber_from": 7})},
        headers={"X-User-Id": "ann"},
    )
    assert answer.status_code == 201, answer.text
    image_ids = [f["image_id"] for f in answer.json()["files"]]
    storage = workflow.context.storage
    bucket = workflow.context.settings.infra.images_bucket
    previews = []
    for index, image_id in enumerate(image_ids):
        key = f"sessions/{session_id}/previews/p{index}.jpg"
        await storage.put(bucket, key, _photo((600, 400), (200, 60 * index, 30)))
        previews.append(PreviewRef(image_id=image_id, key=key, width=600, height=400))
    made = PreviewsCreated(session_id=session_id, previews=previews)
    await workflow.deliver(workflow.envelope(made, subject=session_id))
    return image_ids


async def _invoice(workflow: Workflow, session_id: str, image_ids: list[str]) -> dict[str, Any]:
    prices = await workflow.client.post(
        "/workflow/price-lists",
        json={
            "name": "Portraits",
            "currency": "USD",
            "products": [
                {"name": "8x10 print", "price_minor": 2500, "kind": "physical", "vendor": "Lab"},
                {"name": "Digital file", "price_minor": 4000, "kind": "digital"},
            ],
        },
    )
    assert prices.status_code == 201, prices.text
    products = {p["name"]: p["id"] for p in prices.json()["products"]}
    answer = await workflow.client.post(
        "/workflow/invoices",
        json={
            "client_id": "client-jose",
            "session_id": session_id,
            "price_list_id": prices.json()["id"],
            "lines": [
                {
                    "product_id": products["8x10 print"],
                    "image_ids": [image_ids[0]],
                    "quantity": 2,
                    # 4:5 of a 3:2 image: half its width, all its height... as fractions.
                    "crop": {"x": 0.25, "y": 0.0, "width": 0.5, "height": 0.9375},
                    "retouch_notes": "Soften the shadow under the left eye.",
                },
                {"product_id": products["Digital file"], "image_ids": image_ids, "quantity": 1},
            ],
            "discounts": [{"description": "Loyalty", "percent": "10"}],
            "tax_rate_percent": "8",
        },
        headers={"X-User-Id": "ann"},
    )
    assert answer.status_code == 201, answer.text
    invoice: dict[str, Any] = answer.json()
    return invoice


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def _images(pdf: bytes) -> list[Image.Image]:
    return [
        Image.open(io.BytesIO(image.data))
        for page in PdfReader(io.BytesIO(pdf)).pages
        for image in page.images
    ]


async def test_an_invoice_prints_with_its_lines_thumbnails_totals_and_terms_the_same_every_time(
    workflow: Workflow, unique: str
) -> None:
    session_id = f"doc-{unique}"
    image_ids = await _session_with_previews(workflow, session_id)
    invoice = await _invoice(workflow, session_id, image_ids)
    invoice_id = invoice["invoice_id"]
    url = f"/workflow/invoices/{invoice_id}/invoice.pdf"

    first = await workflow.client.get(url)
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "application/pdf"
    assert first.content.startswith(b"%PDF-")
    assert first.headers["x-document-sha256"] == hashlib.sha256(first.content).hexdigest()
    assert f"invoice-{invoice_id}.pdf" in first.headers["content-disposition"]
    # The same record, the same bytes.
    second = await workflow.client.get(url)
    assert second.content == first.content

    text = _text(first.content)
    for expected in (
        "Our Studio",
        f"Invoice {invoice_id}",
        "José Álvarez",
        "S20001",
        "8x10 print",
        "Digital file",
        "Soften the shadow under the left eye.",
        "Loyalty (10 %)",
        "Tax (8 %)",
        "Balance due",
        "Client's signature",
        "All images are copyright Our Studio",
    ):
        assert expected in text, (expected, text)
    # 2 x 25.00 + 40.00 = 90.00; less 10 % = 81.00; 8 % tax = 6.48; total 87.48.
    assert invoice["total_minor"] == 8748
    for amount in ("$90.00", "$9.00", "$6.48", "$87.48"):
        assert amount in text, (amount, text)
    # The images by their numbers (else their names), as thumbnails: the cropped one is 4:5,
    # the others 3:2.
    for image_id in image_ids:
        image = (await workflow.client.get(f"/workflow/images/{image_id}")).json()
        label = str(image["number"]) if image["number"] is not None else image["name"]
        assert label in text, (label, text)
    shapes = sorted(round(i.width / i.height, 2) for i in _images(first.content))
    assert shapes == [0.8, 1.5, 1.5], shapes

    # A payment changes the invoice: a new document, with the payment and the balance.
    paid = PaymentSucceeded(
        payment_id=f"pay-{unique}",
        client_id="client-jose",
        amount_minor=5000,
        currency="usd",
        invoice_id=invoice_id,
    )
    await workflow.deliver(workflow.envelope(paid, subject=paid.payment_id))
    after = await workflow.client.get(url)
    assert after.status_code == 200
    assert after.content != first.content
    assert "$37.48" in _text(after.content)

    made = await workflow.client.get(f"/workflow/invoices/{invoice_id}/documents")
    assert made.status_code == 200
    hashes = {(d["kind"], d["sha256"]) for d in made.json()}
    assert hashes == {
        ("invoice", hashlib.sha256(first.content).hexdigest()),
        ("invoice", hashlib.sha256(after.content).hexdigest()),
    }


async def test_the_detail_sheet_shows_each_line_with_its_cropped_images_and_notes(
    workflow: Workflow, unique: str
) -> None:
    session_id = f"sheet-{unique}"
    image_ids = await _session_with_previews(workflow, session_id)
    invoice = await _invoice(workflow, session_id, image_ids)
    invoice_id = invoice["invoice_id"]
    sheet = await workflow.client.get(f"/workflow/invoices/{invoice_id}/detail-sheet.pdf")
    assert sheet.status_code == 200, sheet.text
    text = _text(sheet.content)
    assert "Image detail sheet" in text
    assert "1. 8x10 print" in text
    assert "2. Digital file" in text
    assert "Notes for the retoucher" in text
    assert "Soften the shadow under the left eye." in text
    assert "Crop: 50% x 94% from 25%, 0%" in text
    assert len(_images(sheet.content)) == 3
    again = await workflow.client.get(f"/workflow/invoices/{invoice_id}/detail-sheet.pdf")
    assert again.content == sheet.content
    made = (await workflow.client.get(f"/workflow/invoices/{invoice_id}/documents")).json()
    assert [(d["kind"], d["sha256"]) for d in made] == [
        ("detail-sheet", hashlib.sha256(sheet.content).hexdigest())
    ]


async def test_a_missing_invoice_or_kind_is_a_404_in_the_error_shape(workflow: Workflow) -> None:
    missing = await workflow.client.get("/workflow/invoices/inv_nope/invoice.pdf")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    unknown = await workflow.client.get("/workflow/invoices/inv_nope/receipt.pdf")
    assert unknown.status_code == 404


async def test_a_production_orders_summary_names_its_lab_lines_files_crops_and_notes(
    workflow: Workflow, unique: str
) -> None:
    session_id = f"lab-{unique}"
    image_ids = await _session_with_previews(workflow, session_id)
    invoice = await _invoice(workflow, session_id, image_ids)
    split = await workflow.client.post(
        "/workflow/production-orders",
        json={"invoice_ids": [invoice["invoice_id"]], "studio_notes": "Rush: wedding on Friday."},
        headers={"X-User-Id": "ann"},
    )
    assert split.status_code == 201, split.text
    [order] = split.json()["production_orders"]
    order_id = order["production_order_id"]
    url = f"/workflow/production-orders/{order_id}/order-summary.pdf"
    summary = await workflow.client.get(url)
    assert summary.status_code == 200, summary.text
    text = _text(summary.content)
    image = (await workflow.client.get(f"/workflow/images/{image_ids[0]}")).json()
    for expected in (
        f"Order summary {order_id}",
        "For Lab from Our Studio",
        "8x10 print",
        "Rush: wedding on Friday.",
        "Soften the shadow under the left eye.",
        image["name"],
    ):
        assert expected in text, (expected, text)
    # Only the lab's line: the digital file has no lab.
    assert "Digital file" not in text
    [thumbnail] = _images(summary.content)
    assert round(thumbnail.width / thumbnail.height, 2) == 0.8
    assert (await workflow.client.get(url)).content == summary.content
    made = (await workflow.client.get(f"/workflow/production-orders/{order_id}/documents")).json()
    assert [(d["kind"], d["sha256"]) for d in made] == [
        ("order-summary", hashlib.sha256(summary.content).hexdigest())
    ]


async def test_printing_a_document_leaves_the_import_check_refusing_truncated_files(
    workflow: Workflow, unique: str
) -> None:
    """WeasyPrint flips Pillow's process-wide switch for truncated images when imported; an
    import after a PDF was made in the same process still refuses a truncated JPEG."""
    from PIL import ImageFile

    session_id = f"trunc-{unique}"
    image_ids = await _session_with_previews(workflow, session_id)
    invoice = await _invoice(workflow, session_id, image_ids)
    made = await workflow.client.get(f"/workflow/invoices/{invoice['invoice_id']}/invoice.pdf")
    assert made.status_code == 200
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    whole = _photo((1200, 800), (10, 200, 90))
    # Even if some library flips it again, the check sets it for each file it checks.
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    answer = await workflow.client.post(
        f"/workflow/sessions/{session_id}/imports",
        files=[("files", ("CUT.jpg", whole[: len(whole) // 2], "image/jpeg"))],
        headers={"X-User-Id": "ann"},
    )
    assert answer.status_code == 201, answer.text
    [report] = answer.json()["files"]
    assert report["outcome"] == "rejected", report
    assert "truncated" in report["reason"]
