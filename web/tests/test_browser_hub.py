"""The hub in a real browser: select two sessions by keyboard, advance them in bulk, see the
outcome and the new status; change one session's status in the status dialog by keyboard;
on a phone-sized screen too, with no serious axe finding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.async_api import Browser, expect
from seeded_session import seeded_session
from web_harness import (
    WebPlatform,
    browser_login,
    serious_accessibility_problems,
)


async def test_two_sessions_are_advanced_in_bulk_from_the_hub(
    studio: WebPlatform, browser: Browser, screenshots: Path
) -> None:
    sessions = [await seeded_session(studio.gateway, images=1) for _ in range(2)]
    context = await browser.new_context(bypass_csp=False)
    page = await context.new_page()
    try:
        await browser_login(page, studio.web, "/hub")
        for s in sessions:
            box = page.get_by_label(f"Select {s.number}")
            await box.focus()
            await page.keyboard.press("Space")
            await expect(box).to_be_checked()
        await page.get_by_role("button", name="Advance status of the selected").click()
        outcome = page.get_by_role("status")
        await expect(outcome).to_contain_text("2 advanced")
        await expect(outcome).to_contain_text("Capture Images Pending")
        await page.screenshot(path=screenshots / "hub.png", full_page=True)
        await page.set_viewport_size({"width": 390, "height": 844})
        width = await page.evaluate("document.documentElement.scrollWidth")
        await page.screenshot(path=screenshots / "hub-phone.png", full_page=True)
    finally:
        await context.close()
    assert width <= 390


async def test_the_hub_has_no_serious_accessibility_problem(
    studio: WebPlatform, browser: Browser
) -> None:
    context = await browser.new_context(bypass_csp=True)
    page = await context.new_page()
    try:
        await browser_login(page, studio.web, "/hub")
        problems = await serious_accessibility_problems(page)
    finally:
        await context.close()
    assert problems == []


async def test_one_session_gets_a_chosen_status_and_due_date_in_the_dialog_by_keyboard(
    studio: WebPlatform, browser: Browser, screenshots: Path
) -> None:
    seeded = await seeded_session(studio.gateway, images=1)
    due = (datetime.now(UTC) + timedelta(days=10)).date()
    context = await browser.new_context(bypass_csp=False)
    page = await context.new_page()
    try:
        await browser_login(page, studio.web, "/hub")
        await page.get_by_label(f"Change the status of {seeded.number}").focus()
        await page.keyboard.press("Enter")
        dialog = page.locator("dialog#status-dialog")
        await expect(dialog).to_be_visible()
        status = dialog.get_by_label("New status")
        await expect(status).to_be_focused()
        await expect(status.locator("option:checked")).to_contain_text("Capture Images Pending")
        await page.keyboard.press("Escape")
        await expect(dialog).to_be_hidden()
        await page.get_by_label(f"Change the status of {seeded.number}").click()
        await expect(dialog).to_be_visible()
        retouch = await status.locator("option", has_text="Retouch Pending").get_attribute("value")
        await status.select_option(value=retouch)
        await dialog.get_by_label("Due date").fill((due - timedelta(days=30)).isoformat())
        await dialog.get_by_role("button", name="Change status").click()
        await expect(dialog.locator("#e-due-date")).to_contain_text("in the past")
        await dialog.get_by_label("Due date").fill(due.isoformat())
        await dialog.get_by_label("Note for the history").fill("waiting for the client")
        await page.screenshot(path=screenshots / "hub-status-dialog.png")
        await dialog.get_by_role("button", name="Change status").click()
        await page.wait_for_url(studio.web + "/hub")
        row = page.locator("tr", has=page.get_by_label(f"Select {seeded.number}"))
        await expect(row).to_contain_text(due.isoformat())
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.get_by_label(f"Change the status of {seeded.number}").click()
        await expect(dialog).to_contain_text("waiting for the client")
        width = await page.evaluate("document.documentElement.scrollWidth")
        await page.screenshot(path=screenshots / "hub-status-dialog-phone.png")
    finally:
        await context.close()
    assert width <= 390
