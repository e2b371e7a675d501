"""Clients in a real browser: a client made on the form, found by the live search (htmx),
opened, a field edited and seen saved; desktop and phone screenshots, axe.

Import and merge: a 3-row semicolon CSV uploaded, its columns mapped (booking's suggestion
kept for one, three chosen by hand), the mapping saved as a template, the dry run showing a
refused row and a likely duplicate, the import committed and its progress reaching done, the
new client found; then two clients merged from a record. Buttons pressed with the keyboard,
dark mode, a phone-sized screen, axe; and the import steps under the page's own
Content-Security-Policy with no violation."""

from __future__ import annotations

import uuid
from pathlib import Path

from playwright.async_api import Browser, ConsoleMessage, FilePayload, Page, expect
from web_harness import (
    OWNER_EMAIL,
    OWNER_PASSWORD,
    WebPlatform,
    browser_login,
    serious_accessibility_problems,
)


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


async def _press(page: Page, name: str) -> None:
    button = page.get_by_role("button", name=name, exact=True)
    await button.focus()
    await page.keyboard.press("Enter")


def _file(tag: str) -> FilePayload:
    text = (
        "Given;Family;Reachable at;Town\n"
        f"Ann;Imp{tag};ann{tag}@example.com;Lisbon\n"
        f"Ben;Imp{tag};not-an-email;Évora\n"
        f"Olga;Imp{tag};old{tag}@example.com;Faro\n"
    )
    return FilePayload(name="clients.csv", mimeType="text/csv", buffer=text.encode("cp1252"))


async def test_a_csv_is_mapped_dry_run_imported_and_two_clients_merged(
    studio: WebPlatform, browser: Browser, screenshots: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    template = f"crm {tag}"
    context = await browser.new_context(bypass_csp=True, color_scheme="dark")  # axe
    page = await context.new_page()
    try:
        await browser_login(page, studio.web, "/clients/new")
        await page.get_by_label("First name").fill("Old")
        await page.get_by_label("Last name").fill(f"Client{tag}")
        await page.get_by_label("Email").fill(f"old{tag}@example.com")
        await page.get_by_role("button", name="Create client").click()
        await expect(page.get_by_role("heading", name=f"Old Client{tag}")).to_be_visible()
        old_record = page.url

        await page.goto(studio.web + "/clients")
        await page.get_by_role("link", name="Import clients from a file").click()
        await page.get_by_label("A .csv or .xlsx file").set_input_files(_file(tag))
        await _press(page, "Read the columns")
        source = page.locator("#import-source")
        await expect(source).to_contain_text("Windows-1252")
        await expect(source).to_contain_text("semicolon (;)")
        town = page.get_by_label("Client field for column Town")
        await expect(town).to_have_value("city")  # booking's suggestion
        await page.get_by_label("Client field for column Given").select_option("first_name")
        await page.get_by_label("Client field for column Family").select_option("last_name")
        await page.get_by_label("Client field for column Reachable at").select_option("email")

        await page.get_by_label("Save this mapping as a template named").fill(template)
        await _press(page, "Save template")
        await expect(page.locator(".notice")).to_contain_text(f"Saved as template '{template}'")
        await expect(page.get_by_label("Saved template")).to_have_value(template)
        await expect(page.get_by_label("Client field for column Given")).to_have_value("first_name")

        await _press(page, "Dry run")
        report = page.locator("#import-report")
        await expect(report.locator("#row-3")).to_contain_text("email: not an email address")
        await expect(report.locator("#row-4")).to_contain_text("same email as an existing client")
        await expect(report.locator("#count-created")).to_have_text("1")
        await page.screenshot(path=screenshots / "clients-import-dry-run.png", full_page=True)
        assert await serious_accessibility_problems(page) == []
        await page.set_viewport_size({"width": 390, "height": 844})
        dry_run_width = await page.evaluate("document.documentElement.scrollWidth")
        await page.screenshot(path=screenshots / "clients-import-phone.png", full_page=True)
        await page.set_viewport_size({"width": 1280, "height": 900})

        await _press(page, "Import")
        await page.wait_for_url("**/clients/import/runs/*")
        await expect(page.locator("#import-status")).to_have_text("done", timeout=60_000)
        progress = page.locator("#import-progress")
        await expect(progress).to_contain_text("3 of 3 rows done")
        await expect(page.locator("#import-bar")).to_have_attribute("value", "3")
        created = progress.get_by_role("link", name=f"Ann Imp{tag}")
        await expect(created).to_be_visible()
        await page.screenshot(path=screenshots / "clients-import-done.png", full_page=True)
        assert await serious_accessibility_problems(page) == []

        await page.goto(studio.web + f"/clients?name=Imp{tag}")
        await expect(page.locator("#c-found")).to_contain_text("1 client")
        await expect(page.locator("#results")).to_contain_text("Ann")

        await page.goto(old_record)
        await page.get_by_role("link", name="Merge another client into this one").click()
        await page.get_by_label("Name, email or phone").fill(f"Imp{tag}")
        choose = page.get_by_role("link", name=f"Merge Ann Imp{tag}")
        await expect(choose).to_be_visible()  # live by htmx, no submit
        await choose.focus()
        await page.keyboard.press("Enter")
        await expect(page.locator("#m-confirm")).to_contain_text(
            f"Merge Ann Imp{tag} into Old Client{tag}?"
        )
        assert await serious_accessibility_problems(page) == []
        await page.set_viewport_size({"width": 390, "height": 844})
        merge_width = await page.evaluate("document.documentElement.scrollWidth")
        await page.screenshot(path=screenshots / "clients-merge-phone.png", full_page=True)
        await page.set_viewport_size({"width": 1280, "height": 900})
        await _press(page, f"Merge Ann Imp{tag} into Old Client{tag}")
        await expect(page.get_by_role("status")).to_contain_text(
            f"Merged Ann Imp{tag} into this client"
        )
        await page.goto(studio.web + f"/clients?name=Imp{tag}")
        await expect(page.locator("#results")).to_contain_text("No client matches")
    finally:
        await context.close()

    assert dry_run_width <= 390, "the import's report scrolls sideways on a phone"
    assert merge_width <= 390, "the merge page scrolls sideways on a phone"


async def test_the_import_steps_run_under_the_pages_own_content_security_policy(
    studio: WebPlatform, browser: Browser
) -> None:
    tag = uuid.uuid4().hex[:8]
    context = await browser.new_context(bypass_csp=False)
    page = await context.new_page()
    violations: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            violations.append(message.text)

    page.on("console", watch)
    try:
        await browser_login(page, studio.web, "/clients/import")
        await page.get_by_label("A .csv or .xlsx file").set_input_files(_file(tag))
        await _press(page, "Read the columns")
        await page.get_by_label("Client field for column Given").select_option("first_name")
        await _press(page, "Dry run")
        await expect(page.locator("#import-report #count-created")).to_have_text("3")
    finally:
        await context.close()
    assert violations == []
