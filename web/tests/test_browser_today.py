"""Today and the login in a real browser: a phone-sized screen, dark mode, the keyboard, no
Content-Security-Policy violation, and no serious accessibility problem (axe)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import playwright
from playwright.async_api import Browser, Page, expect
from web_harness import (
    CHROMIUM,
    OWNER_EMAIL,
    OWNER_PASSWORD,
    WebPlatform,
    serious_accessibility_problems,
)


def test_debians_chromium_is_the_major_version_playwright_was_built_for() -> None:
    browsers = Path(playwright.__file__).parent / "driver" / "package" / "browsers.json"
    bundled = next(
        b["browserVersion"]
        for b in json.loads(browsers.read_text())["browsers"]
        if b["name"] == "chromium"
    )
    installed = subprocess.run(
        [CHROMIUM, "--version"], capture_output=True, text=True, check=True
    ).stdout
    found = re.search(r"(\d+)\.\d+\.\d+\.\d+", installed)
    assert found is not None, installed
    assert found.group(1) == bundled.split(".")[0], (
        f"Debian's chromium is {found.group(0)} but Playwright "
        f"{playwright.__version__} drives Chromium {bundled}: pin the Playwright release whose "
        "bundled Chromium major matches (pyproject.toml)"
    )


async def test_today_works_on_a_phone_in_dark_mode_by_keyboard(
    studio: WebPlatform, browser: Browser, screenshots: Path
) -> None:
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, color_scheme="dark", is_mobile=True
    )
    page = await context.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    try:
        await page.goto(studio.web + "/login")
        await page.keyboard.press("Tab")  # the skip link first
        await page.keyboard.press("Tab")
        await page.keyboard.press("Tab")
        await page.keyboard.type(OWNER_EMAIL)
        await page.keyboard.press("Tab")
        await page.keyboard.type(OWNER_PASSWORD)
        await page.keyboard.press("Enter")
        await page.wait_for_url(studio.web + "/")
        await expect(page.get_by_role("heading", name="Today")).to_be_visible()
        width = await page.evaluate("document.documentElement.scrollWidth")
        background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
        await page.screenshot(path=screenshots / "today-phone-dark.png", full_page=True)
    finally:
        await context.close()

    assert width <= 390, "the page scrolls sideways on a phone"
    assert background == "rgb(21, 21, 20)"
    assert violations == []


async def test_today_in_light_mode_has_no_serious_accessibility_problem(
    studio: WebPlatform, browser: Browser, screenshots: Path
) -> None:
    # axe is injected as a script, which the page's own CSP would (rightly) refuse.
    context = await browser.new_context(bypass_csp=True, color_scheme="light")
    page = await context.new_page()
    try:
        await login_in(page, studio)
        await page.screenshot(path=screenshots / "today.png", full_page=True)
        problems = await serious_accessibility_problems(page)
        await page.goto(studio.web + "/static/css/app.css")
        await context.clear_cookies()
        await page.goto(studio.web + "/login")
        login_problems = await serious_accessibility_problems(page)
    finally:
        await context.close()

    assert problems == []
    assert login_problems == []


async def test_a_wrong_password_is_shown_next_to_the_form_in_the_browser(
    studio: WebPlatform, browser: Browser
) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    try:
        await page.goto(studio.web + "/login")
        await page.get_by_label("Email").fill(OWNER_EMAIL)
        await page.get_by_label("Password").fill("wrong")
        await page.get_by_role("button", name="Log in").click()
        alert = page.get_by_role("alert").filter(has_text="wrong")
        await expect(alert).to_have_text("The email or the password is wrong.")
    finally:
        await context.close()


async def login_in(page: Page, studio: WebPlatform) -> None:
    await page.goto(studio.web + "/login")
    await page.get_by_label("Email").fill(OWNER_EMAIL)
    await page.get_by_label("Password").fill(OWNER_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(studio.web + "/")
