"""The session record in a real browser: three JPEGs imported through the file input with
progress, their previews in the grid, one rated by pressing 5, two grouped; on a phone too.
Then its tools, under the page's own CSP: the slideshow reordered by keyboard and by drag, two
images compared side by side, a recipe saved with its live preview, a retouched upload and a
memory card's dry run."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, Page, expect
from seeded_session import photo, seeded_session
from test_sessions_tools import memory_card
from web_harness import (
    OWNER_EMAIL,
    OWNER_PASSWORD,
    WebPlatform,
    browser_login,
    serious_accessibility_problems,
)

from render.imaging.adjustments import tone_table
from render.imaging.specs import Adjustments


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


# The elements that reach past the viewport's right edge, for the failure message.
WIDER_THAN_THE_SCREEN = """() => Array.from(document.querySelectorAll('main *'))
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 8).map(e => e.tagName + '#' + e.id + '.' + e.className + ' '
    + Math.round(e.getBoundingClientRect().right))"""


async def _order(page: Page) -> list[str]:
    ids: list[str] = await page.locator("#slides .slide").evaluate_all(
        "nodes => nodes.map(n => n.dataset.id)"
    )
    return ids


async def _pixel(page: Page) -> list[int]:
    """The live preview's centre pixel (RGB)."""
    value: list[int] = await page.locator("#recipe-preview").evaluate(
        "c => Array.from(c.getContext('2d').getImageData(c.width / 2, c.height / 4, 1, 1).data)"
        ".slice(0, 3)"
    )
    return value


async def test_the_slideshow_compare_recipe_retouched_and_memory_card_tools_in_a_browser(
    studio: WebPlatform, browser: Browser, screenshots: Path, tmp_path: Path
) -> None:
    seeded = await seeded_session(studio.gateway, images=3)
    first, second, third = seeded.image_ids
    record = f"/sessions/{seeded.session_id}"
    retouched = tmp_path / "001-retouched.jpg"
    retouched.write_bytes(photo(7))
    frames = []
    for _, (name, body, _type) in memory_card(seeded.number):
        (tmp_path / name).write_bytes(body)
        frames.append(tmp_path / name)
    context = await browser.new_context(bypass_csp=False)  # the page's own CSP, as shipped
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        await browser_login(page, studio.web, record)
        # render makes the previews a few seconds after the import; the grid polls for them
        await expect(page.locator(".tile img")).to_have_count(3, timeout=90_000)
        await page.reload()

        # Slideshow by keyboard: the Down button of the first, with Enter; focus stays on it.
        down = page.get_by_role("button", name="Move 001.jpg down")
        await down.focus()
        await page.keyboard.press("Enter")
        await expect(page.locator("#slideshow-status")).to_have_text(
            "001.jpg is now number 2 of 3."
        )
        assert await _order(page) == [second, first, third]
        focused = await page.evaluate("document.activeElement.id")
        # ...and by drag: the last image onto the first place.
        await (
            page.locator("#slides .slide")
            .nth(2)
            .drag_to(page.locator("#slides .slide").nth(0), target_position={"x": 20, "y": 3})
        )
        await expect(page.locator("#slideshow-status")).to_have_text("The new order is saved.")
        await page.reload()
        dragged = await _order(page)

        # Compare two selected images side by side.
        await page.locator(f'.tile input[value="{first}"]').check()
        await page.locator(f'.tile input[value="{third}"]').check()
        await page.get_by_role("button", name="Compare the selected side by side").click()
        await expect(page.locator("#compare figure")).to_have_count(2)
        shown = await page.locator("#compare img").evaluate_all(
            "images => images.map(i => i.complete && i.naturalWidth > 0)"
        )
        await page.screenshot(path=screenshots / "session-compare.png", full_page=True)
        compare_path = page.url.removeprefix(studio.web)

        # A recipe with its live preview: brighter by keyboard on the slider, a 1:1 crop.
        await page.goto(f"{studio.web}{record}#grid")
        await page.get_by_role("link", name="Edit 001.jpg: crop, adjust, retouched").click()
        await expect(page.locator("#recipe-preview[data-drawn]")).to_have_count(1)
        before = await _pixel(page)
        slider = page.get_by_label("Brightness")
        await slider.focus()
        for _ in range(40):
            await page.keyboard.press("ArrowRight")
        await expect(page.locator("#o-brightness")).to_have_text("40")
        await page.wait_for_function(
            "() => Number(document.getElementById('recipe-preview').dataset.drawn) > 1"
        )
        brighter = await _pixel(page)
        await page.get_by_label("Name").last.fill("Square")
        await page.get_by_label("Aspect ratio").last.select_option("1:1")
        await page.get_by_label("width %").last.fill("40")
        height = await page.get_by_label("height %").last.input_value()
        await page.screenshot(path=screenshots / "session-recipe.png", full_page=True)
        await page.get_by_role("button", name="Save as version 1").click()
        await expect(page.locator("#recipe [role=status]")).to_have_text("Version 1 saved.")

        # A retouched version, then it is in the session's retouched folder.
        await page.get_by_label("Upload the retouched file").set_input_files(retouched)
        await page.get_by_role("button", name="Upload the retouched version").click()
        await expect(page.locator("#retouched")).to_contain_text("001-retouched.jpg")
        await page.goto(f"{studio.web}{record}")
        await expect(page.locator("#retouched-folder")).to_contain_text("001-retouched.jpg")

        # A memory card's dry run: the frame after the blurred card has no session.
        await page.get_by_role("link", name="Import a memory card sorted by QR cards").click()
        await page.get_by_label("The card's files").set_input_files(frames)
        await page.get_by_role("button", name="Stage the frames and show the dry run").click()
        # staging scans each frame for a QR code: seconds on a busy machine
        await expect(page.locator("#warnings")).to_contain_text(
            "2 frames follow an unreadable card", timeout=60_000
        )
        card_address = page.url  # the card's own page, after the upload with progress
        await expect(page.locator("#corrections")).to_contain_text(
            "follows an unreadable card (IMG_0003.jpg)"
        )
        await page.screenshot(path=screenshots / "memory-card-dry-run.png", full_page=True)
        action = await page.locator("#corrections form").get_attribute("action") or ""
        card_path = action.removesuffix("/commit")
        await page.set_viewport_size({"width": 390, "height": 844})
        card_width = await page.evaluate("document.documentElement.scrollWidth")
        await page.screenshot(path=screenshots / "memory-card-phone.png", full_page=True)
        await page.goto(f"{studio.web}{record}/images/{first}")
        image_width = await page.evaluate("document.documentElement.scrollWidth")
        too_wide = await page.evaluate(WIDER_THAN_THE_SCREEN)
        await page.screenshot(path=screenshots / "session-recipe-phone.png", full_page=True)
    finally:
        await context.close()

    # axe is injected as a script, which the page's own CSP would refuse: a second tab, dark.
    axe_context = await browser.new_context(bypass_csp=True, color_scheme="dark")
    axe_page = await axe_context.new_page()
    problems: dict[str, object] = {}
    try:
        await browser_login(axe_page, studio.web, record)
        for path in (record, f"{record}/images/{first}", compare_path, card_path):
            await axe_page.goto(studio.web + path)
            problems[path] = await serious_accessibility_problems(axe_page)
        await axe_page.screenshot(path=screenshots / "memory-card-dark.png", full_page=True)
    finally:
        await axe_context.close()

    assert errors == [], "a script error or a CSP refusal in the page"
    assert focused == f"down-{first}"
    assert dragged == [third, second, first]
    assert shown == [True, True]
    # The preview follows render's own tone formula (within rounding).
    table = tone_table(Adjustments(brightness=40))
    assert table is not None
    assert brighter[0] > before[0]
    assert all(abs(table[b] - a) <= 1 for a, b in zip(brighter, before, strict=True)), (
        before,
        brighter,
    )
    assert height == "60.00"  # 40% of 900 px is 360 px: 60% of 600 px
    assert card_width <= 390
    assert card_address == f"{studio.web}{card_path}?session={seeded.session_id}"
    assert image_width <= 390, too_wide
    assert all(found == [] for found in problems.values()), problems
