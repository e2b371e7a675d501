"""Clients in a real browser: a client made on the form, found by the live search (htmx),
opened, a field edited and seen saved; desktop and phone screenshots, axe."""

from __future__ import annotations

import uuid
from pathlib import Path

from playwright.async_api import Browser, expect
from web_harness import OWNER_EMAIL, OWNER_PASSWORD, WebPlatform, serious_accessibility_problems


async def test_a_client_is_searched_opened_and_edited(
    studio: WebPlatform, browser: Browser, screenshots: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    context = await browser.new_context(bypass_csp=True)
    page = await context.new_page()
    try:
        await page.goto(studio.web + "/login")
        await page.get_by_label("Email").fill(OWNER_EMAIL)
        await page.get_by_label("Password").fill(OWNER_PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await page.wait_for_url(studio.web + "/")

        await page.goto(studio.web + "/clients/new")
        await page.get_by_label("First name").fill("Marta")
        await page.get_by_label("Last name").fill(f"Browser{tag}")
        await page.get_by_label("City").fill("Lisbon")
        await page.get_by_role("button", name="Create client").click()
        await expect(page.get_by_role("heading", name=f"Marta Browser{tag}")).to_be_visible()

        await page.goto(studio.web + "/clients")
        await page.get_by_label("Name").fill(f"Browser{tag}")
        found = page.locator("#results").get_by_role("link", name=f"Marta Browser{tag}")
        await expect(found).to_be_visible()  # swapped in by htmx, no submit
        await page.screenshot(path=screenshots / "clients-search-desktop.png", full_page=True)
        assert await serious_accessibility_problems(page) == []
        await found.click()

        await page.get_by_label("City").fill("Porto")
        await page.get_by_role("button", name="Save").click()
        await expect(page.get_by_role("status")).to_have_text("Saved.")
        await page.reload()
        await expect(page.get_by_label("City")).to_have_value("Porto")
        assert await serious_accessibility_problems(page) == []

        await page.set_viewport_size({"width": 390, "height": 844})
        await page.screenshot(path=screenshots / "clients-record-phone.png", full_page=True)
        width = await page.evaluate("document.documentElement.scrollWidth")
        await page.goto(studio.web + f"/clients?name=Browser{tag}")
        list_width = await page.evaluate("document.documentElement.scrollWidth")
        await page.screenshot(path=screenshots / "clients-search-phone.png", full_page=True)
    finally:
        await context.close()

    assert width <= 390, "the record scrolls sideways on a phone"
    assert list_width <= 390, "the list scrolls sideways on a phone"
