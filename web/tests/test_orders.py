"""Orders without a browser: price lists, an invoice entered from a session (totals as
workflow computes them), its status, a Stripe Checkout link and a refund capped by booking."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import httpx
from seeded_session import WORKFLOW, SeededSession, marketing_get, seeded_session
from web_harness import WebClient, WebPlatform, html, text_of

from booking.config import BookingSettings
from booking.testing import checkout_completed, stripe_signature
from kit.testing import eventually


async def _price_list(owner: WebClient, name: str) -> str:
    answer = await owner.post(
        "/orders/price-lists",
        {
            "name": name,
            "currency": "USD",
            "product_name": ["8x10 print", "Digital file", ""],
            "product_price": ["45.00", "12.5", ""],
            "product_kind": ["physical", "digital", "physical"],
            "product_vendor": ["Lab One", "", ""],
        },
    )
    assert answer.status_code == 303, answer.text
    return answer.headers["location"].rsplit("/", 1)[-1]


async def _invoice(owner: WebClient, seeded: SeededSession, price_list_id: str) -> str:
    form = await owner.get(
        f"/orders/invoices/new?session_id={seeded.session_id}&price_list_id={price_list_id}"
    )
    options = html(form).css('select[name="line-0-product"] option')
    product = next(o.attributes["value"] for o in options if "8x10" in o.text())
    answer = await owner.post(
        "/orders/invoices",
        {
            "session_id": seeded.session_id,
            "price_list_id": price_list_id,
            "line-0-product": product,
            "line-0-quantity": "2",
            "line-0-images": seeded.image_ids,
            "discount_description": "Friends",
            "discount_amount": "10",
            "tax_rate_percent": "10",
        },
    )
    assert answer.status_code == 303, answer.text
    return answer.headers["location"].rsplit("/", 1)[-1]


async def _workflow_record(
    studio: WebPlatform, seeded: SeededSession, path: str, **params: str
) -> Any:
    """What workflow holds, read straight through the gateway with the seeding owner's token."""
    async with httpx.AsyncClient(base_url=studio.gateway) as gw:
        answer = await gw.get(
            f"{WORKFLOW}{path}",
            params=params,
            headers={"Authorization": f"Bearer {seeded.token}"},
        )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_orders_open_for_owner_and_staff_only(
    studio: WebPlatform, owner: WebClient, staff: WebClient
) -> None:
    for client in (owner, staff):
        page = await client.get("/orders")
        assert page.status_code == 200
        assert html(page).css_first("h1").text() == "Orders"
    refused = await marketing_get(studio, "/orders")
    production = await staff.get("/orders/production")

    assert refused.status_code == 403
    assert production.status_code == 200


async def test_a_price_list_made_in_the_form_is_listed_with_its_products(
    owner: WebClient,
) -> None:
    price_list_id = await _price_list(owner, "Spring 2026")
    listed = await owner.get("/orders")
    shown = await owner.get(f"/orders/price-lists/{price_list_id}")

    assert "Spring 2026" in text_of(listed, "section[aria-labelledby='o-lists']")
    rows = [r.text(separator=" ", strip=True) for r in html(shown).css("tbody tr")]
    assert rows == ["8x10 print 45.00 USD physical Lab One", "Digital file 12.50 USD digital"]


async def test_a_refused_price_list_says_why_next_to_the_field_and_keeps_the_input(
    owner: WebClient,
) -> None:
    before = await owner.get("/orders")
    answer = await owner.post(
        "/orders/price-lists",
        {
            "name": "Bad currency",
            "currency": "dollars",
            "product_name": ["Print"],
            "product_price": ["5"],
            "product_kind": ["physical"],
            "product_vendor": [""],
        },
    )
    after = await owner.get("/orders")

    assert answer.status_code == 422
    tree = html(answer)
    assert tree.css_first("#e-currency") is not None
    assert tree.css_first("#f-name").attributes["value"] == "Bad currency"
    assert tree.css_first("#p-name-1").attributes["value"] == "Print"
    lists = "section[aria-labelledby='o-lists'] ul"
    assert (
        "Bad currency" not in (html(after).css_first(lists) or html(before).css_first("h1")).text()
    )


async def test_an_invoice_from_a_session_shows_workflows_totals_and_its_status_changes(
    studio: WebPlatform, owner: WebClient
) -> None:
    seeded = await seeded_session(studio.gateway)
    price_list_id = await _price_list(owner, "Invoices")
    invoice_id = await _invoice(owner, seeded, price_list_id)
    page = await owner.get(f"/orders/invoices/{invoice_id}")

    # 2 x 45.00 = 90.00, less 10.00, plus 10 % tax: 88.00 (workflow's arithmetic).
    assert text_of(page, "#invoice-total") == "88.00 USD"
    assert text_of(page, "#invoice-balance") == "88.00 USD"
    assert text_of(page, "#invoice-status") == "Order Entered"
    listed = await owner.get("/orders")
    assert invoice_id in text_of(listed, "section[aria-labelledby='o-invoices']")

    version = html(page).css_first('input[name="expected_version"]').attributes["value"]
    moved = await owner.post(
        f"/orders/invoices/{invoice_id}/status",
        {"to_status_id": "", "note": "to the lab", "expected_version": version},
    )
    stale = await owner.post(
        f"/orders/invoices/{invoice_id}/status",
        {"to_status_id": "", "note": "again", "expected_version": version},
    )
    after = await owner.get(f"/orders/invoices/{invoice_id}")

    assert moved.status_code == 303
    assert stale.status_code == 409
    assert html(stale).css_first("#e-status") is not None
    assert text_of(after, "#invoice-status") != "Order Entered"
    assert "to the lab" in text_of(after, "section[aria-labelledby='i-status']")


async def test_the_invoice_page_opens_the_invoice_and_detail_sheet_pdfs_workflow_prints(
    studio: WebPlatform, owner: WebClient, staff: WebClient
) -> None:
    seeded = await seeded_session(studio.gateway)
    invoice_id = await _invoice(owner, seeded, await _price_list(owner, "Documents"))
    page = await owner.get(f"/orders/invoices/{invoice_id}")
    links = {a.text(): a.attributes["href"] for a in html(page).css(".documents a")}
    assert set(links) == {"Invoice (PDF)", "Image detail sheet (PDF)"}
    for client in (owner, staff):
        for href in links.values():
            answer = await client.get(href)
            assert answer.status_code == 200, answer.text
            assert answer.headers["content-type"] == "application/pdf"
            assert answer.content.startswith(b"%PDF-")
            assert answer.headers["x-document-sha256"] == hashlib.sha256(answer.content).hexdigest()
    # Both kinds are on workflow's record of documents made, by their hashes.
    made = await _workflow_record(studio, seeded, f"/invoices/{invoice_id}/documents")
    assert {d["kind"] for d in made} == {"invoice", "detail-sheet"}
    unknown = await owner.get(f"/orders/invoices/{invoice_id}/receipt.pdf")
    assert unknown.status_code in (404, 422)


async def test_an_invoice_without_lines_is_refused_with_the_platforms_message(
    studio: WebPlatform, owner: WebClient
) -> None:
    seeded = await seeded_session(studio.gateway, images=1)
    price_list_id = await _price_list(owner, "Empty")
    answer = await owner.post(
        "/orders/invoices",
        {"session_id": seeded.session_id, "price_list_id": price_list_id, "tax_rate_percent": "7"},
    )
    invoices = await _workflow_record(studio, seeded, "/invoices", session_id=seeded.session_id)

    assert answer.status_code == 422
    assert html(answer).css_first("form p.error") is not None
    assert html(answer).css_first("#f-tax_rate_percent").attributes["value"] == "7"
    assert invoices == []


async def test_a_checkout_link_is_shown_and_a_refund_past_the_payment_is_refused(
    studio: WebPlatform, owner: WebClient
) -> None:
    seeded = await seeded_session(studio.gateway, images=1)
    invoice_id = await _invoice(owner, seeded, await _price_list(owner, "Payments"))

    async def link_made() -> bool:
        answer = await owner.post(f"/orders/invoices/{invoice_id}/payments", {"amount": "20"})
        if answer.status_code == 303:
            return True
        assert answer.status_code == 422, answer.text  # booking has not heard of it yet
        return False

    await eventually(link_made, timeout=30, what="booking to learn of the invoice", interval=0.5)
    page = await owner.get(f"/orders/invoices/{invoice_id}")
    url = html(page).css_first("input.checkout-url").attributes["value"] or ""
    assert url.startswith("http")
    assert "20.00 USD" in text_of(page, "#payments")

    payment_id = re.search(r"/payments/([^/]+)/refunds", page.text)
    assert payment_id is None  # nothing paid yet, nothing to refund
    async with httpx.AsyncClient(base_url=studio.gateway) as gw:
        payments = (
            await gw.get(
                "/api/booking/payments",
                params={"invoice_id": invoice_id},
                headers={"Authorization": f"Bearer {seeded.token}"},
            )
        ).json()
        body = checkout_completed(payments[0]["id"])
        headers = stripe_signature(body, BookingSettings().secret("stripe_webhook_secret"))
        paid = await gw.post("/public/payments/stripe-webhook", content=body, headers=headers)
        assert paid.status_code == 200, paid.text
    pid = payments[0]["id"]

    too_much = await owner.post(
        f"/orders/invoices/{invoice_id}/payments/{pid}/refunds", {"amount": "25", "reason": "x"}
    )
    assert too_much.status_code in (409, 422), too_much.text
    assert html(too_much).css_first(f"#e-refund-{pid}") is not None
    assert html(too_much).css_first(f"#r-amount-{pid}").attributes["value"] == "25"
    part = await owner.post(
        f"/orders/invoices/{invoice_id}/payments/{pid}/refunds", {"amount": "5", "reason": "late"}
    )
    after = await owner.get(f"/orders/invoices/{invoice_id}")

    assert part.status_code == 303, part.text
    assert "Refund 5.00 USD" in text_of(after, "#payments")

    async def payment_recorded() -> bool:
        page = await owner.get(f"/orders/invoices/{invoice_id}")
        return "20.00 USD" in text_of(page, "#payments") and bool(
            html(page).css_first("#invoice-payments")
        )

    await eventually(payment_recorded, timeout=30, what="workflow to record the payment")


async def test_cash_and_the_card_terminal_pay_an_invoice_and_workflow_shows_it_paid(
    studio: WebPlatform, owner: WebClient
) -> None:
    seeded = await seeded_session(studio.gateway, images=1)
    invoice_id = await _invoice(owner, seeded, await _price_list(owner, "Desk payments"))
    path = f"/orders/invoices/{invoice_id}/payments/recorded"

    async def cash_taken() -> bool:
        answer = await owner.post(
            path, {"method": "cash", "amount": "30", "reference": "receipt 17"}
        )
        if answer.status_code == 303:
            return True
        assert answer.status_code == 422, answer.text  # booking has not heard of it yet
        return False

    await eventually(cash_taken, timeout=30, what="booking to learn of the invoice", interval=0.5)
    bad = await owner.post(path, {"method": "cheque", "amount": "3O", "reference": ""})
    rest = await owner.post(path, {"method": "card_terminal", "amount": "", "reference": ""})
    nothing_left = await owner.post(path, {"method": "cash", "amount": "", "reference": ""})

    assert bad.status_code == 422
    assert text_of(bad, "#e-rec-amount")
    assert html(bad).css_first("#rec-amount").attributes["value"] == "3O"
    assert rest.status_code == 303, rest.text
    assert nothing_left.status_code == 409
    assert "Nothing is open" in text_of(nothing_left, "#payments")

    async def paid_in_full() -> bool:
        page = await owner.get(f"/orders/invoices/{invoice_id}")
        return text_of(page, "#invoice-balance") == "0.00 USD"

    await eventually(paid_in_full, timeout=30, what="workflow to record both payments")
    page = await owner.get(f"/orders/invoices/{invoice_id}")
    payments = text_of(page, "#payments")
    assert "30.00 USD" in payments
    assert "Cash (receipt 17) · recorded by" in payments
    assert "The studio's card terminal" in payments
    assert html(page).css_first('form[aria-label="Record a payment taken at the studio"]') is None


async def test_an_invoice_is_sent_to_production_and_its_order_moved_and_noted_on_its_page(
    studio: WebPlatform, owner: WebClient
) -> None:
    seeded = await seeded_session(studio.gateway, images=1)
    invoice_id = await _invoice(owner, seeded, await _price_list(owner, "Lab prints"))

    sent = await owner.post(
        f"/orders/invoices/{invoice_id}/production", {"studio_notes": "Rush for Friday"}
    )
    link = html(sent).css_first('a[href^="/orders/production/"]')
    order_path = link.attributes["href"] or ""
    before = await owner.get(order_path)
    version = html(before).css_first('input[name="expected_version"]').attributes["value"]
    moved = await owner.post(
        f"{order_path}/status",
        {"to_status_id": "", "note": "At the lab", "expected_version": version},
    )
    stale = await owner.post(
        f"{order_path}/status", {"to_status_id": "", "note": "", "expected_version": version}
    )
    noted = await owner.post(
        f"{order_path}/notes", {"vendor_notes": "Lustre paper", "studio_notes": "Rush for Friday"}
    )
    after = await owner.get(order_path)
    hub = await owner.get("/orders/production?vendor=Lab+One")

    assert sent.status_code == 201
    assert link.text() == "Lab One"
    assert "1 line" in text_of(sent, "section")
    assert "8x10 print" in text_of(before, "table")
    assert moved.status_code == 303
    assert stale.status_code == 409
    assert text_of(stale, "#e-status")
    assert noted.status_code == 303
    assert text_of(after, "#order-status") != text_of(before, "#order-status")
    assert "At the lab" in text_of(after, "ol.plain")
    assert html(after).css_first("#f-vendor_notes").text() == "Lustre paper"
    assert order_path in hub.text
    # The lab's order summary opens from the order's page, as a PDF.
    summary_href = html(after).css_first(".documents a").attributes["href"] or ""
    summary = await owner.get(summary_href)
    assert summary.status_code == 200, summary.text
    assert summary.headers["content-type"] == "application/pdf"
    assert summary.content.startswith(b"%PDF-")
    assert "order-summary-" in summary.headers["content-disposition"]


async def test_an_invoice_takes_lines_added_in_the_form_each_with_its_own_crop_and_notes(
    studio: WebPlatform, owner: WebClient
) -> None:
    seeded = await seeded_session(studio.gateway)
    price_list_id = await _price_list(owner, "Many lines")
    form = await owner.get(
        f"/orders/invoices/new?session_id={seeded.session_id}&price_list_id={price_list_id}"
    )
    options = html(form).css('select[name="line-0-product"] option')
    prints = next(o.attributes["value"] for o in options if "8x10" in o.text())
    files = next(o.attributes["value"] for o in options if "Digital" in o.text())
    first, second = seeded.image_ids
    typed: dict[str, object] = {
        "session_id": seeded.session_id,
        "price_list_id": price_list_id,
        "line_rows": "3",
        "line-0-product": prints,
        "line-0-images": [first],
        "line-0-crop": "4:5",
        "line-0-notes": "soften the background",
    }
    # Two more rows, asked for one at a time: nothing is entered, what was typed stays.
    four = await owner.post("/orders/invoices", {**typed, "add_line": "1"})
    assert four.status_code == 200
    assert len(html(four).css("fieldset.line")) == 4
    assert "autofocus" in html(four).css_first("#l-3-product").attributes
    assert html(four).css_first("#l-0-crop option[selected]").attributes["value"] == "4:5"
    five = await owner.post("/orders/invoices", {**typed, "line_rows": "4", "add_line": "1"})
    assert len(html(five).css("fieldset.line")) == 5
    entered = await owner.post(
        "/orders/invoices",
        {
            **typed,
            "line_rows": "5",
            "line-2-product": prints,
            "line-2-images": [second],
            "line-2-crop": "custom",
            "line-2-x": "10",
            "line-2-y": "5",
            "line-2-width": "80",
            "line-2-height": "90",
            "line-4-product": files,
            "line-4-quantity": "3",
            "line-4-price": "9.99",
            "line-4-images": [first, second],
        },
    )
    assert entered.status_code == 303, entered.text
    invoice_id = entered.headers["location"].rsplit("/", 1)[-1]
    stored = await _workflow_record(studio, seeded, f"/invoices/{invoice_id}")
    page = await owner.get(f"/orders/invoices/{invoice_id}")

    ratio, custom, digital = stored["lines"]
    # 4:5 centred on a 900 x 600 frame: the full height and 480 of the 900 pixels.
    assert ratio["crop"]["height"] == 1
    assert abs(ratio["crop"]["width"] - 480 / 900) < 1e-6
    assert abs(ratio["crop"]["x"] - 210 / 900) < 1e-6
    assert ratio["retouch_notes"] == "soften the background"
    assert {k: round(custom["crop"][k], 4) for k in ("x", "y", "width", "height")} == {
        "x": 0.1,
        "y": 0.05,
        "width": 0.8,
        "height": 0.9,
    }
    assert digital["crop"] is None
    assert (digital["quantity"], digital["unit_price_minor"]) == (3, 999)
    rows = html(page).css("tr.invoice-line")
    assert len(rows) == 3
    assert "Retouch: soften the background" in rows[0].text()
    assert rows[0].css_first("svg.crop-view rect") is not None
    assert "80.0 \u00d7 90.0 % at 10.0, 5.0 %" in rows[1].text()
    assert "edit recipes" in rows[2].text()


async def test_a_line_crop_workflow_or_the_form_refuses_is_named_on_its_line_and_nothing_entered(
    studio: WebPlatform, owner: WebClient
) -> None:
    seeded = await seeded_session(studio.gateway, images=1)
    price_list_id = await _price_list(owner, "Refused crops")
    form = await owner.get(
        f"/orders/invoices/new?session_id={seeded.session_id}&price_list_id={price_list_id}"
    )
    options = html(form).css('select[name="line-0-product"] option')
    prints = next(o.attributes["value"] for o in options if "8x10" in o.text())
    base = {
        "session_id": seeded.session_id,
        "price_list_id": price_list_id,
        "line-0-product": prints,
        "line-0-images": seeded.image_ids,
    }
    # The form's own check: a ratio needs the line's images.
    no_images = await owner.post(
        "/orders/invoices",
        {**base, "line-0-images": [], "line-2-product": prints, "line-2-crop": "5:7"},
    )
    # Workflow's check: 60 % from the left plus 60 % wide leaves the image.
    outside = await owner.post(
        "/orders/invoices",
        {
            **base,
            "line-1-product": prints,
            "line-1-images": seeded.image_ids,
            "line-1-crop": "custom",
            "line-1-x": "60",
            "line-1-y": "0",
            "line-1-width": "60",
            "line-1-height": "50",
            "line-1-notes": "keep me",
        },
    )
    invoices = await _workflow_record(studio, seeded, "/invoices", session_id=seeded.session_id)

    assert no_images.status_code == 422
    assert html(no_images).css_first("#line-2-error") is not None
    assert "Line 3" in html(no_images).css_first("form p.error").text()
    assert outside.status_code == 422
    assert "outside the image" in html(outside).css_first("#line-1-error").text()
    assert html(outside).css_first("#line-0-error") is None
    assert html(outside).css_first("#l-1-notes").text() == "keep me"
    assert html(outside).css_first("#l-1-x").attributes["value"] == "60"
    assert invoices == []


async def test_the_owner_adds_an_sftp_lab_whose_password_is_never_shown_and_staff_only_read(
    studio: WebPlatform, owner: WebClient, staff: WebClient
) -> None:
    import asyncssh

    host_key = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    name = f"Lab {hashlib.sha256(host_key.encode()).hexdigest()[:8]}"
    form = {
        "name": name,
        "contact_email": "orders@lab.example",
        "kind": "sftp",
        "host": "sftp.lab.example",
        "port": "2222",
        "username": "studio",
        "remote_folder": "/incoming",
        "known_host_key": host_key,
        "auth": "password",
        "password": "very-secret-lab-password",
    }
    bad = await owner.post("/orders/vendors", {**form, "known_host_key": "ssh-ed25519 nope"})
    assert bad.status_code == 422
    assert "host key" in text_of(bad, "p.error")
    # What was typed stays, the password excepted.
    assert html(bad).css_first("#f-host").attributes["value"] == "sftp.lab.example"
    assert "very-secret-lab-password" not in bad.text

    made = await owner.post("/orders/vendors", form)
    assert made.status_code == 303, made.text
    page = await owner.get(made.headers["location"])
    assert name in text_of(page, "section[aria-labelledby='v-list']")
    assert "studio@sftp.lab.example:2222/incoming" in page.text
    assert "Set; leave empty to keep it." in page.text
    assert "very-secret-lab-password" not in page.text
    # Staff see the labs, not the form; their change is refused by the gateway.
    listed = await staff.get("/orders/vendors")
    assert name in listed.text
    assert html(listed).css_first("#f-host") is None
    refused = await staff.post("/orders/vendors", {**form, "name": name + " 2"})
    assert refused.status_code == 403

    # The lab's callback secret is shown once, with where the lab sends its events.
    vendor_path = made.headers["location"].split("?")[0]
    shown = await owner.post(f"{vendor_path}/callback-secret", {})
    assert shown.status_code == 200, shown.text
    secret = text_of(shown, "#callback-secret")
    assert len(secret) >= 40
    assert shown.headers["cache-control"] == "no-store"
    assert f"/lab/{vendor_path.rsplit('/', 1)[-1]}/events" in shown.text
    assert secret not in (await owner.get(vendor_path)).text


async def test_an_order_without_a_lab_render_is_not_sent_and_the_page_says_why(
    studio: WebPlatform, owner: WebClient
) -> None:
    seeded = await seeded_session(studio.gateway, images=1)
    invoice_id = await _invoice(owner, seeded, await _price_list(owner, "Lab sends"))
    sent = await owner.post(f"/orders/invoices/{invoice_id}/production", {})
    order_path = html(sent).css_first('a[href^="/orders/production/"]').attributes["href"] or ""
    page = await owner.get(order_path)
    assert "No lab record for Lab One" in text_of(page, "#lab")
    refused = await owner.post(f"{order_path}/send", {})
    assert refused.status_code == 409
    assert "no vendor record" in text_of(refused, "#lab p.error")
