"""A client books online in a real browser on a phone, by keyboard, with the page's own
Content-Security-Policy on: choose a session, a free time and give their details, see the
confirmation, then move the booking through its link; axe finds nothing serious."""

from __future__ import annotations

import uuid
from pathlib import Path

from playwright.async_api import Browser, expect
from test_book import DAY, online_type
from web_harness import WebPlatform, serious_accessibility_problems


async def test_a_client_books_on_a_phone_by_keyboard_and_moves_the_booking(
    studio: WebPlatform, browser: Browser, screenshots: Path
) -> None:
    stype = await online_type(studio)
    last = f"Phone{uuid.uuid4().hex[:5]}"
    context = await browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    page = await context.new_page()
    try:
        await page.goto(studio.web + "/book")
        await page.get_by_role("link", name=f"Choose a time for {stype['name']}").click()
        await page.goto(f"{studio.web}/book/{stype['id']}?from={DAY.isoformat()}")
        problems = await serious_accessibility_problems(page)
        width = await page.evaluate("document.documentElement.scrollWidth")
        await page.screenshot(path=screenshots / "book-phone.png", full_page=True)

        # The first day with free times (another test may have closed the studio on a day).
        first_day = page.locator("fieldset.times div.day").first
        day_name = await first_day.get_attribute("aria-label") or ""
        await first_day.get_by_label("10:00").focus()
        await page.keyboard.press("Space")
        await page.get_by_label("Last name").fill(last)
        await page.get_by_label("Email").fill(f"{last.lower()}@clients.test")
        await page.get_by_label("Email").press("Enter")

        await expect(page.get_by_role("heading", name="You are booked")).to_be_visible()
        await expect(page.locator("main")).to_contain_text("10:00")
        await page.screenshot(path=screenshots / "book-confirmed-phone.png", full_page=True)
        problems += await serious_accessibility_problems(page)

        await page.get_by_role("link", name="Move to another time").click()
        moved_day = page.get_by_role("group", name=day_name)
        await moved_day.get_by_label("14:00").check()
        await page.get_by_role("button", name="Move to this time").press("Enter")
        await expect(page.get_by_role("status")).to_contain_text("Moved.")
        await expect(page.locator("main")).to_contain_text("14:00")
        await page.screenshot(path=screenshots / "book-moved-phone.png", full_page=True)
        problems += await serious_accessibility_problems(page)
    finally:
        await context.close()

    assert problems == []
    assert width <= 390, "the booking page scrolls sideways on a phone"
