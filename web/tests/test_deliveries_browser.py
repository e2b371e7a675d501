"""A delivery in a real browser: the studio asks for one whose link lasts hours, sees the
client's link URL at once and copies it with the keyboard; the client downloads a file and
resumes it through the same link, and the studio's download log shows one download resumed,
not two; on a phone, and checked by axe."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin

from playwright.async_api import Browser, expect
from seeded_session import seeded_session
from web_harness import WebPlatform, browser_login, serious_accessibility_problems


async def test_the_studio_copies_a_new_deliverys_link_by_keyboard_and_sees_a_resume_logged(
    studio: WebPlatform, browser: Browser, screenshots: Path
) -> None:
    seeded = await seeded_session(studio.gateway)
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, permissions=["clipboard-read", "clipboard-write"]
    )
    violations: list[str] = []
    try:
        page = await context.new_page()
        page.on(
            "console",
            lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
        )
        await browser_login(page, studio.web)
        await page.goto(f"{studio.web}/deliveries/new?session_id={seeded.session_id}")
        await page.get_by_label("Title").fill("Lee family")
        await page.get_by_label("Recipient name").fill("Ann Lee")
        await page.get_by_label("Expires in").fill("4")
        await page.get_by_label("Unit of the link's life").select_option("hours")
        await page.get_by_role("button", name="Package and deliver").click()

        # The client's link is on the answer itself, before packaging ends.
        url = await page.locator("#issued-url").input_value()
        assert "/d/" in url
        await expect(page.locator("section.issued")).to_contain_text("Expires 4 hours after")
        # By keyboard: from the address, Tab reaches the copy button, Enter copies.
        await page.locator("#issued-url").focus()
        await page.keyboard.press("Tab")
        copy = page.get_by_role("button", name="Copy the link")
        await expect(copy).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(page.locator("#issued-url-said")).to_have_text("Copied.")
        await expect(copy).to_be_focused()  # the keyboard user stays where they were
        assert await page.evaluate("navigator.clipboard.readText()") == url
        await expect(page.locator("#delivery-status")).to_have_text("ready", timeout=60_000)
        await page.screenshot(path=screenshots / "deliveries-new-link.png", full_page=True)
        delivery_path = await page.locator("link[rel=canonical]").get_attribute("href")
        assert delivery_path is not None
        logged_in = await context.storage_state()
    finally:
        await context.close()

    # The client: the page, a download that breaks off, and its resume through the link.
    client = await browser.new_context()
    try:
        client_page = await client.new_page()
        answer = await client_page.goto(url)
        assert answer is not None
        assert answer.status == 200
        first_file = client_page.get_by_role("link", name=re.compile(r"\.jpg$")).first
        href = await first_file.get_attribute("href")
        assert href is not None
        start = await client_page.request.get(urljoin(url, href), headers={"range": "bytes=0-999"})
        assert start.status == 206
        rest = await client_page.request.get(urljoin(url, href), headers={"range": "bytes=1000-"})
        assert rest.status == 206
        assert len(await start.body()) == 1000
    finally:
        await client.close()

    phone = await browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        bypass_csp=True,
        storage_state=logged_in,
    )
    try:
        page = await phone.new_page()
        await page.goto(studio.web + delivery_path)
        log = page.locator("section[aria-labelledby='d-log'] tbody tr")
        await expect(log).to_have_count(1)  # one download, not two
        await expect(log.locator("td.resumes")).to_contain_text("1 time")
        links = page.locator("#links tbody")
        await expect(links).to_contain_text("1 downloads")
        width = await page.evaluate("document.documentElement.scrollWidth")
        await page.screenshot(path=screenshots / "deliveries-resumed-phone.png", full_page=True)
        problems = await serious_accessibility_problems(page)
        await page.goto(studio.web + "/deliveries/new")
        new_width = await page.evaluate("document.documentElement.scrollWidth")
        new_problems = await serious_accessibility_problems(page)
    finally:
        await phone.close()

    assert violations == []
    assert width <= 390
    assert new_width <= 390
    assert problems == []
    assert new_problems == []
