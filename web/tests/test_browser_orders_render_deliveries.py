"""Orders, Render and Deliveries in a real browser, as a studio works: a price list, an invoice
for a session, a render job made on the Render screen that fires when the invoice is sent to
the lab (its run followed live until it finishes), then a delivery of the run's outputs and a
link opened by the client in a browser of their own; on a phone, and checked by axe."""

from __future__ import annotations

import io
import re
import uuid
from pathlib import Path
from urllib.parse import urljoin

from PIL import Image
from playwright.async_api import Browser, BrowserContext, Page, expect
from seeded_session import seeded_session
from web_harness import (
    WebPlatform,
    browser_login,
    serious_accessibility_problems,
)

from kit.testing import eventually


async def _login(context: BrowserContext, studio: WebPlatform) -> Page:
    page = await context.new_page()
    await browser_login(page, studio.web)
    return page


async def test_an_invoice_fires_a_render_job_whose_outputs_are_delivered_to_the_client(
    studio: WebPlatform, browser: Browser, screenshots: Path
) -> None:
    seeded = await seeded_session(studio.gateway)
    tag = uuid.uuid4().hex[:6]
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, permissions=["clipboard-read", "clipboard-write"]
    )
    violations: list[str] = []
    page = await _login(context, studio)
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    try:
        # --- A price list, made on the Orders screen (the keyboard shortcut "g o" opens it).
        await page.keyboard.press("g")
        await page.keyboard.press("o")
        await expect(page.get_by_role("heading", name="Orders", exact=True)).to_be_visible()
        await page.get_by_label("Price list name").fill(f"Prints {tag}")
        await page.locator("#p-name-1").fill("8x10 print")
        await page.locator("#p-price-1").fill("45")
        await page.locator("#p-vendor-1").fill("Lab One")
        await page.get_by_role("button", name="Create the price list").click()
        await expect(
            page.get_by_role("heading", name=re.compile("Price list Prints"))
        ).to_be_visible()
        await page.screenshot(path=screenshots / "orders-price-list.png", full_page=True)

        # --- The invoice for the session: one line of 8x10 prints of both frames.
        await page.get_by_role("link", name="New invoice with this price list").click()
        await page.get_by_label("Session id").fill(seeded.session_id)
        await page.get_by_role("button", name="Show the products").click()
        await page.locator("#l-0-product").select_option(label="8x10 print · 45.00 USD")
        await page.locator("#l-0-quantity").fill("2")
        await page.locator("#l-0-images").select_option(seeded.image_ids)
        # Prints cropped for an 8x10 (4:5, centred on each 3:2 frame); the lab gets the crop.
        await page.locator("#l-0-crop").select_option("8:10")
        await page.get_by_role("button", name="Add a line").focus()
        await page.keyboard.press("Enter")
        await expect(page.locator("fieldset.line")).to_have_count(4)
        await expect(page.locator("#l-3-product")).to_be_focused()
        await expect(page.locator("#l-0-crop")).to_have_value("8:10")
        await page.get_by_role("button", name="Enter the invoice").click()
        await expect(page.locator("#invoice-total")).to_have_text("90.00 USD")
        await expect(page.locator("#invoice-status")).to_have_text("Order Entered")
        invoice_url = page.url
        invoice_id = invoice_url.rsplit("/", 1)[-1]
        await page.screenshot(path=screenshots / "orders-invoice.png", full_page=True)
        # The printed invoice opens from its page, with the studio's login (the PDF is kept).
        printed = page.get_by_role("link", name="Invoice (PDF)")
        await expect(printed).to_be_visible()
        href = await printed.get_attribute("href") or ""
        pdf = await page.context.request.get(urljoin(page.url, href))
        assert pdf.status == 200
        assert pdf.headers["content-type"] == "application/pdf"
        body = await pdf.body()
        assert body.startswith(b"%PDF-")
        (screenshots / "orders-invoice.pdf").write_bytes(body)

        # --- On the Render screen: a final profile and the lab's job for invoices.
        await page.get_by_role("link", name="Render", exact=True).click()
        await page.get_by_label("Profile name").fill(f"Lab print {tag}")
        await page.locator("#f-purpose").select_option("final")
        await page.locator("#f-long_edge_px").fill("800")
        await page.get_by_role("button", name="Create the profile").click()
        await expect(page.locator("#profile-version")).to_have_text("1")
        await page.get_by_role("link", name="Render", exact=True).first.click()
        await page.locator("#j-name").fill(f"Send to lab {tag}")
        await page.locator("#j-entity_kind").select_option("invoice")
        await page.locator("#j-select_status").fill("Sent to Lab")
        await page.locator("#j-selection").select_option("ordered")
        await page.get_by_label(re.compile(f"Lab print {tag}")).check()
        await page.locator("#j-finish_status").fill("Received from Lab")
        await page.get_by_role("button", name="Create the job").click()
        await expect(page.locator("#jobs tbody")).to_contain_text(f"Send to lab {tag}")

        # --- Sending the invoice to the lab fires the job; its run is followed live.
        await page.goto(invoice_url)
        await page.get_by_label("Move to").select_option(label="Sent to Lab")
        await page.get_by_role("button", name="Change the status").click()
        await expect(page.locator("#invoice-status")).to_have_text(
            re.compile("Sent to Lab|Received from Lab")
        )

        # Another walk's job may fire for this invoice too: this one's run is its own job's.
        own_run = page.locator("#runs tbody tr", has_text=invoice_id).filter(
            has_text=f"Send to lab {tag}"
        )

        async def run_listed() -> bool:
            await page.goto(studio.web + "/render")
            return await own_run.count() > 0

        await eventually(run_listed, timeout=30, what="the job's run on the Render screen")
        await own_run.get_by_role("link").click()
        await expect(page.locator("#run-status")).to_have_text("completed", timeout=90_000)
        await expect(page.locator("#run-progress")).not_to_have_attribute("hx-trigger", "every 2s")
        await expect(page.locator("label[for='run-bar']")).to_contain_text("2 of 2 rendered")
        await page.screenshot(path=screenshots / "render-run.png", full_page=True)
        run_url = page.url
        await page.goto(invoice_url)
        await expect(page.locator("#invoice-status")).to_have_text("Received from Lab")

        # --- The run's outputs delivered; a link made for the client and copied.
        await page.goto(run_url)
        await page.get_by_role("link", name="Deliver these outputs").click()
        await expect(page.get_by_label("The outputs of a render run")).to_be_checked()
        await page.get_by_label("Title").fill(f"Prints {tag}")
        await page.get_by_role("button", name="Package and deliver").click()
        await expect(page.locator("#delivery-status")).to_have_text("ready", timeout=60_000)
        await (
            page.get_by_role("navigation", name="Main")
            .get_by_role("link", name="Deliveries")
            .click()
        )
        await expect(page.locator("main table")).to_contain_text(f"Prints {tag}")
        await page.get_by_role("link", name=f"Prints {tag}").first.click()
        await page.get_by_label("Recipient name").fill("Ann Lee")
        await page.get_by_label("Recipient email").fill("ann@example.com")
        await page.get_by_label("Download limit").fill("5")
        await page.get_by_role("button", name="Make the link").click()
        url = await page.locator("#issued-url").input_value()
        assert "/d/" in url
        await page.get_by_role("button", name="Copy the link").click()
        await expect(page.locator(".copied")).to_have_text("Copied.")
        assert await page.evaluate("navigator.clipboard.readText()") == url
        await page.screenshot(path=screenshots / "deliveries-link.png", full_page=True)
        delivery_url = page.url
        # The phone reuses this login (the gateway limits an account's logins a minute).
        logged_in = await context.storage_state()
    finally:
        await context.close()

    # --- The client opens the link in a browser of their own.
    client = await browser.new_context()
    try:
        client_page = await client.new_page()
        answer = await client_page.goto(url)
        assert answer is not None
        assert answer.status == 200
        await expect(client_page.locator("body")).to_contain_text(re.compile(r"\.jpg"))
        await client_page.screenshot(
            path=screenshots / "deliveries-client-page.png", full_page=True
        )
        first_file = client_page.get_by_role("link", name=re.compile(r"_001_.*\.jpg"))
        href = await first_file.get_attribute("href")
        assert href is not None
        downloaded = await client_page.request.get(urljoin(url, href))
        assert downloaded.ok
        assert downloaded.headers["content-type"] == "image/jpeg"
        with Image.open(io.BytesIO(await downloaded.body())) as printed:
            assert abs(printed.width / printed.height - 4 / 5) < 0.01, printed.size
    finally:
        await client.close()

    # --- The same pages on a phone, and axe on each of them.
    phone = await browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        bypass_csp=True,
        storage_state=logged_in,
    )
    widths: dict[str, int] = {}
    problems: dict[str, list[object]] = {}
    try:
        page = await phone.new_page()
        for name, target in (
            ("orders", studio.web + "/orders"),
            ("orders-invoice", invoice_url),
            ("render", studio.web + "/render"),
            ("render-run", run_url),
            ("deliveries", delivery_url.split("/links")[0]),
        ):
            await page.goto(target)
            widths[name] = await page.evaluate("document.documentElement.scrollWidth")
            await page.screenshot(path=screenshots / f"{name}-phone.png", full_page=True)
            problems[name] = list(await serious_accessibility_problems(page))
        log = await page.locator("section[aria-labelledby='d-log'] tbody").inner_text()
    finally:
        await phone.close()

    assert "_001_" in log  # the client's download, in the studio's download log
    assert violations == []
    assert {name: w for name, w in widths.items() if w > 390} == {}
    assert {name: p for name, p in problems.items() if p} == {}
