"""Maps in a real browser: the owner makes a heat map of tagged clients and sees it drawn in
its sandboxed frame (Leaflet and the heat layer from the platform itself, under the map page's
own policy, nothing refused; no tiles here: no tile server is set in tests) and the usage
ledger; desktop and phone screenshots, axe."""

from __future__ import annotations

import uuid
from pathlib import Path

from playwright.async_api import Browser, expect
from web_harness import OWNER_EMAIL, OWNER_PASSWORD, WebPlatform, serious_accessibility_problems


async def test_a_heat_map_is_made_and_shown_with_the_ledger(
    studio: WebPlatform, browser: Browser, screenshots: Path
) -> None:
    tag = f"bmap{uuid.uuid4().hex[:6]}"
    context = await browser.new_context()
    page = await context.new_page()
    refused: list[str] = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    try:
        await page.goto(studio.web + "/login")
        await page.get_by_label("Email").fill(OWNER_EMAIL)
        await page.get_by_label("Password").fill(OWNER_PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await page.wait_for_url(studio.web + "/")
        await page.goto(studio.web + "/clients/new")
        await page.get_by_label("Last name").fill(f"Heat{tag}")
        await page.get_by_label("Postal code").fill("14623")
        await page.get_by_label("Tags").fill(tag)
        await page.get_by_role("button", name="Create client").click()
        await expect(page.get_by_role("heading", name=f"Heat{tag}")).to_be_visible()

        await page.goto(studio.web + "/maps")
        await page.get_by_label("Heat map").check()
        await page.get_by_label("Title").fill(f"Heat {tag}")
        await page.get_by_label("Clients with the tags").fill(tag)
        await page.get_by_role("button", name="Make the map").click()
        await expect(page.get_by_role("heading", name=f"Heat {tag}")).to_be_visible()
        await expect(page.locator("iframe.map-frame")).to_be_visible()
        drawn = page.frame_locator("iframe.map-frame")
        await expect(drawn.locator(".leaflet-container")).to_be_visible()
        await expect(drawn.locator("canvas.leaflet-heatmap-layer")).to_be_attached()
        await expect(drawn.locator(".leaflet-control-zoom-in")).to_be_visible()
        await expect(page.locator("#usage tbody tr").first).to_be_visible()
        await page.screenshot(path=screenshots / "maps-heat-desktop.png", full_page=True)
        assert await serious_accessibility_problems(page) == []
        await page.set_viewport_size({"width": 390, "height": 844})
        width = await page.evaluate("document.documentElement.scrollWidth")
        await page.screenshot(path=screenshots / "maps-heat-phone.png", full_page=True)
    finally:
        await context.close()

    assert width <= 390, "the map page scrolls sideways on a phone"
    assert refused == [], refused
