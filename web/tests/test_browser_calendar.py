"""The calendar in a real browser: book a client by selecting a free slot, drag the booking
onto another slot and see it there; desktop and phone screenshots; axe finds nothing serious."""

from __future__ import annotations

import uuid
from pathlib import Path

from playwright.async_api import Browser, expect
from test_calendar import DAY, studio_setup
from web_harness import OWNER_EMAIL, OWNER_PASSWORD, WebPlatform, serious_accessibility_problems


async def test_a_client_is_booked_from_a_free_slot_and_dragged_to_another(
    studio: WebPlatform, browser: Browser, screenshots: Path
) -> None:
    setup = await studio_setup(studio)
    last = f"Drag{uuid.uuid4().hex[:5]}"
    context = await browser.new_context(bypass_csp=True)
    page = await context.new_page()
    try:
        await page.goto(studio.web + "/login")
        await page.get_by_label("Email").fill(OWNER_EMAIL)
        await page.get_by_label("Password").fill(OWNER_PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await page.wait_for_url(studio.web + "/")
        await page.goto(f"{studio.web}/calendar?day={DAY.isoformat()}&type={setup['type']['id']}")

        await page.get_by_role("link", name=f"Book {setup['name']} 10:00").press("Enter")
        await expect(page.get_by_role("heading", name="Book a session")).to_be_visible()
        await page.get_by_label("First name").fill("Ann")
        await page.get_by_label("Last name").fill(last)
        await page.get_by_label("Email", exact=True).fill(f"{last.lower()}@clients.test")
        await page.get_by_role("button", name="Book", exact=True).click()

        booking = page.locator("a.booking").filter(has_text=last)
        await expect(booking).to_contain_text("10:00\N{EN DASH}11:00")
        await page.screenshot(path=screenshots / "calendar.png", full_page=True)
        problems = await serious_accessibility_problems(page)

        target = page.locator(
            f'td[data-resource-id="{setup["resource"]["id"]}"][data-starts-at^="{DAY.isoformat()}T14:00"]'
        )
        await target.scroll_into_view_if_needed()
        await booking.drag_to(target)
        await page.screenshot(path=screenshots / "calendar-dropped.png")
        await expect(page.locator("a.booking").filter(has_text=last)).to_contain_text(
            "14:00\N{EN DASH}15:00"
        )
        await page.reload()
        await expect(page.locator("a.booking").filter(has_text=last)).to_contain_text(
            "14:00\N{EN DASH}15:00"
        )
        await page.screenshot(path=screenshots / "calendar-moved.png", full_page=True)

        await page.set_viewport_size({"width": 390, "height": 844})
        await page.reload()
        width = await page.evaluate("document.documentElement.scrollWidth")
        await page.screenshot(path=screenshots / "calendar-phone.png", full_page=True)
        await page.locator("a.booking").filter(has_text=last).click()
        await expect(page.get_by_role("heading", level=1)).to_contain_text(last)
        await page.screenshot(path=screenshots / "calendar-session-phone.png", full_page=True)
        session_problems = await serious_accessibility_problems(page)
    finally:
        await context.close()

    assert problems == []
    assert session_problems == []
    assert width <= 390, "the calendar scrolls sideways on a phone"
