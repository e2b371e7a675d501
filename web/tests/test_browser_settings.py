"""Settings in a real browser: the owner creates a resource and its opening hours through the
forms, by keyboard and mouse, on a desktop and on a phone; axe finds nothing serious."""

from __future__ import annotations

import uuid
from pathlib import Path

from playwright.async_api import Browser, expect
from web_harness import OWNER_EMAIL, OWNER_PASSWORD, WebPlatform, serious_accessibility_problems


async def test_the_owner_creates_a_resource_and_its_opening_hours(
    studio: WebPlatform, browser: Browser, screenshots: Path
) -> None:
    context = await browser.new_context(bypass_csp=True)
    page = await context.new_page()
    name = f"Daylight studio {uuid.uuid4().hex[:4]}"
    try:
        await page.goto(studio.web + "/login")
        await page.get_by_label("Email").fill(OWNER_EMAIL)
        await page.get_by_label("Password").fill(OWNER_PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await page.wait_for_url(studio.web + "/")
        await page.get_by_role("link", name="Settings").click()
        await expect(page.get_by_role("heading", name="Resources", exact=True)).to_be_visible()

        await page.get_by_label("Resource name").fill(name)
        await page.get_by_label("Kind", exact=True).select_option("room")
        await page.get_by_role("button", name="Add resource").click()
        await expect(page.get_by_role("form", name=f"Resource {name}")).to_be_visible()

        hours = page.get_by_role("form", name="New opening hours")
        await hours.get_by_label(name).check()
        for day in ("Mon", "Tue", "Wed", "Thu", "Fri"):
            await hours.get_by_label(day).check()
        await hours.get_by_label("Opens").fill("09:00")
        await hours.get_by_label("Closes").fill("18:00")
        await hours.get_by_role("button", name="Add opening hours").press("Enter")
        row = page.locator("#hours tbody tr").filter(has_text=name)
        await expect(row).to_contain_text("Mon, Tue, Wed, Thu, Fri")
        await expect(row).to_contain_text("09:00\N{EN DASH}18:00")
        await page.screenshot(path=screenshots / "settings.png", full_page=True)
        problems = await serious_accessibility_problems(page)

        await page.set_viewport_size({"width": 390, "height": 844})
        await page.goto(studio.web + "/settings/session-types")
        width = await page.evaluate("document.documentElement.scrollWidth")
        await page.screenshot(path=screenshots / "settings-session-types-phone.png", full_page=True)
        await page.goto(studio.web + "/settings")
        phone_width = await page.evaluate("document.documentElement.scrollWidth")
        await page.screenshot(path=screenshots / "settings-phone.png", full_page=True)
        more = await serious_accessibility_problems(page)

        await page.goto(studio.web + "/settings/studio")
        await page.get_by_label("Studio name").fill(f"Daylight Portraits {name[-4:]}")
        await page.get_by_label("Refund it in full", exact=True).check()
        await page.get_by_label("Studio name").press("Enter")
        await expect(page.get_by_role("status")).to_have_text("Saved.")
        await expect(page.get_by_label("Studio name")).to_have_value(
            f"Daylight Portraits {name[-4:]}"
        )
        await expect(page.get_by_label("Refund it in full", exact=True)).to_be_checked()
        await page.screenshot(path=screenshots / "settings-studio-phone.png", full_page=True)
        await page.get_by_label("The studio keeps it").check()  # as the other tests expect
        await page.get_by_role("button", name="Save the studio's settings").press("Enter")
        await expect(page.get_by_label("The studio keeps it")).to_be_checked()
    finally:
        await context.close()

    assert problems == []
    assert more == []
    assert width <= 390, "the session types page scrolls sideways on a phone"
    assert phone_width <= 390, "the settings page scrolls sideways on a phone"
