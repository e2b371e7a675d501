"""The session record in a real browser: three JPEGs imported through the file input with
progress, their previews in the grid, one rated by pressing 5, two grouped; on a phone too."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect
from seeded_session import photo, seeded_session
from web_harness import OWNER_EMAIL, OWNER_PASSWORD, WebPlatform, serious_accessibility_problems


async def test_a_shoot_is_imported_rated_by_keyboard_and_grouped(
    studio: WebPlatform, browser: Browser, screenshots: Path, tmp_path: Path
) -> None:
    seeded = await seeded_session(studio.gateway, images=1)
    files = []
    for n in (2, 3, 4):
        path = tmp_path / f"{n:03d}.jpg"
        path.write_bytes(photo(n))
        files.append(path)
    context = await browser.new_context(bypass_csp=True)  # for axe; the CSP is tested elsewhere
    page = await context.new_page()
    violations: list[str] = []
    page.on("pageerror", lambda error: violations.append(str(error)))
    try:
        await page.goto(f"{studio.web}/login?next=%2Fsessions%2F{seeded.session_id}")
        await page.get_by_label("Email").fill(OWNER_EMAIL)
        await page.get_by_label("Password").fill(OWNER_PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await page.wait_for_url(f"**/sessions/{seeded.session_id}")
        await page.get_by_label("Choose files, or drop them here").set_input_files(files)
        await page.get_by_role("button", name="Import", exact=True).click()
        await expect(page.locator("#import-report")).to_contain_text("Stored 3")
        await expect(page.locator(".tile")).to_have_count(4)
        # render makes the previews a few seconds later; the grid polls until they are there
        await expect(page.locator(".tile img")).to_have_count(4, timeout=90_000)
        first = page.locator(".tile").first
        await first.focus()
        await page.keyboard.press("5")
        await expect(page.locator(".tile").first.locator(".stars")).to_contain_text("★★★★★")
        await page.locator(".tile").nth(1).get_by_label("select").check()
        await page.locator(".tile").nth(2).get_by_label("select").check()
        await page.get_by_label("New group from the selected images").fill("Album")
        await page.get_by_role("button", name="Make the group").click()
        await expect(page.locator("#groups")).to_contain_text("Album: 2 images")
        await page.screenshot(path=screenshots / "session.png", full_page=True)
        problems = await serious_accessibility_problems(page)
        await page.set_viewport_size({"width": 390, "height": 844})
        width = await page.evaluate("document.documentElement.scrollWidth")
        await page.screenshot(path=screenshots / "session-phone.png", full_page=True)
    finally:
        await context.close()

    assert violations == []
    assert problems == []
    assert width <= 390
