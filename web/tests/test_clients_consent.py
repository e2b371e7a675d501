"""Clients' marketing consent in the web app: given on the new-client form with how, shown on
the record with its history, withdrawn with Unsubscribe, the list filtered by it; search
finds a client whatever the accents typed; a marketing user's record shows no staff notes.
One browser walk: consent given and withdrawn with the keyboard, on a phone, axe."""

from __future__ import annotations

import uuid
from pathlib import Path

from playwright.async_api import Browser, expect
from seeded_session import marketing_get
from web_harness import (
    WebClient,
    WebPlatform,
    browser_login,
    html,
    serious_accessibility_problems,
    text_of,
)


def _unique() -> str:
    return uuid.uuid4().hex[:8]


async def _create(owner: WebClient, **fields: str) -> str:
    await owner.get("/clients/new")
    made = await owner.post("/clients/new", fields)
    assert made.status_code == 303, made.text
    return made.headers["location"].rsplit("/", 1)[-1]


async def test_consent_given_on_the_form_is_shown_filtered_and_withdrawn_by_unsubscribe(
    owner: WebClient,
) -> None:
    tag = _unique()
    yes = await _create(
        owner,
        first_name="Yara",
        last_name=f"Consent{tag}",
        marketing_consent="on",
        marketing_consent_method="paper_form",
        marketing_consent_note="Signed at the shoot",
    )
    no = await _create(owner, first_name="Noah", last_name=f"Consent{tag}")

    record = await owner.get(f"/clients/{yes}")
    state = text_of(record, "#consent-state").strip()
    assert state.startswith("Given")
    assert "Paper form" in state
    assert "Signed at the shoot" in text_of(record, "#consent")
    assert html(record).css_first('form[aria-label="Unsubscribe"]') is not None
    never = await owner.get(f"/clients/{no}")
    assert "never recorded" in text_of(never, "#consent-state")
    assert html(never).css_first('form[aria-label="Unsubscribe"]') is None

    given = await owner.get(f"/clients?name=Consent{tag}&marketing_consent=true")
    assert html(given).css_first(f'#results a[href="/clients/{yes}"]') is not None
    assert html(given).css_first(f'#results a[href="/clients/{no}"]') is None
    assert "1 client" in text_of(given, "#c-found")
    not_given = await owner.get(f"/clients?name=Consent{tag}&marketing_consent=false")
    assert "1 client" in text_of(not_given, "#c-found")
    assert html(not_given).css_first(f'#results a[href="/clients/{no}"]') is not None
    export = await owner.get(f"/clients/export.csv?name=Consent{tag}&marketing_consent=true")
    assert "Yara" in export.text
    assert "Noah" not in export.text

    gone = await owner.post(
        f"/clients/{yes}/unsubscribe", {"method": "email", "note": "Replied STOP"}
    )
    assert gone.status_code == 303, gone.text
    after = await owner.get(gone.headers["location"])
    assert "Unsubscribed" in text_of(after, '[role="status"]')
    assert "withdrawn" in text_of(after, "#consent-state")
    assert "By email" in text_of(after, "#consent-state")
    assert "History (2)" in text_of(after, "#consent")
    assert html(after).css_first('form[aria-label="Unsubscribe"]') is None
    given = await owner.get(f"/clients?name=Consent{tag}&marketing_consent=true")
    assert "0 clients" in text_of(given, "#c-found")


async def test_a_consent_method_without_a_change_records_nothing(owner: WebClient) -> None:
    tag = _unique()
    client_id = await _create(owner, first_name="Sam", last_name=f"Same{tag}")
    # Saving the form again with a method but the box still unticked changes no consent.
    saved = await owner.post(
        f"/clients/{client_id}",
        {"first_name": "Sam", "last_name": f"Same{tag}", "marketing_consent_method": "phone"},
    )
    assert saved.status_code == 303, saved.text
    assert "never recorded" in text_of(await owner.get(f"/clients/{client_id}"), "#consent-state")


async def test_the_search_finds_a_client_whatever_the_accents_typed(owner: WebClient) -> None:
    tag = _unique()
    client_id = await _create(owner, first_name="Zoë", last_name=f"Müller{tag}")
    for typed in (f"zoe muller{tag}", f"ZOE MÜLLER{tag}", f"muller{tag}"):
        found = await owner.get("/clients", params={"name": typed})
        assert html(found).css_first(f'#results a[href="/clients/{client_id}"]') is not None, typed


async def test_a_marketing_user_sees_consent_but_not_the_staff_notes(
    studio: WebPlatform, owner: WebClient
) -> None:
    tag = _unique()
    client_id = await _create(
        owner,
        first_name="Nia",
        last_name=f"Notes{tag}",
        notes=f"Secret staff note {tag}",
        marketing_consent="on",
    )
    assert f"Secret staff note {tag}" in (await owner.get(f"/clients/{client_id}")).text

    seen = await marketing_get(studio, f"/clients/{client_id}")
    assert seen.status_code == 200
    assert f"Secret staff note {tag}" not in seen.text
    assert text_of(seen, "#consent-state").strip().startswith("Given")
    assert html(seen).css_first('form[aria-label="Unsubscribe"]') is None


async def test_consent_is_given_and_withdrawn_in_the_browser_with_the_keyboard(
    studio: WebPlatform, browser: Browser, screenshots: Path
) -> None:
    tag = _unique()
    context = await browser.new_context()
    page = await context.new_page()
    try:
        await browser_login(page, studio.web, "/clients/new")
        await page.get_by_label("First name").fill("Kai")
        await page.get_by_label("Last name").fill(f"Keys{tag}")
        await page.get_by_label("Agrees to marketing messages").check()
        await page.get_by_label("How it was given or withdrawn").select_option("in_person")
        await page.get_by_label("Consent note").fill("Asked at the counter")
        await page.get_by_role("button", name="Create client").focus()
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("heading", name=f"Kai Keys{tag}")).to_be_visible()
        await expect(page.locator("#consent-state")).to_contain_text("Given")
        await expect(page.locator("#consent-state")).to_contain_text("In person")
        assert await serious_accessibility_problems(page) == []

        await page.set_viewport_size({"width": 390, "height": 844})
        await page.get_by_label("How the client asked").select_option("phone")
        await page.get_by_role("button", name="Unsubscribe").focus()
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("status")).to_contain_text("Unsubscribed")
        await expect(page.locator("#consent-state")).to_contain_text("withdrawn")
        await page.locator("#consent summary").focus()
        await page.keyboard.press("Enter")  # opens the history
        await expect(page.locator(".consent-history li")).to_have_count(2)
        width = await page.evaluate("document.documentElement.scrollWidth")
        await page.screenshot(path=screenshots / "clients-consent-phone.png", full_page=True)
        assert await serious_accessibility_problems(page) == []

        await page.goto(studio.web + f"/clients?name=Keys{tag}")
        await page.get_by_label("Marketing consent").select_option("true")
        await expect(page.locator("#c-found")).to_contain_text("0 clients")
        await page.get_by_label("Marketing consent").select_option("false")
        await expect(
            page.locator("#results").get_by_role("link", name=f"Kai Keys{tag}")
        ).to_be_visible()
        list_width = await page.evaluate("document.documentElement.scrollWidth")
        await page.screenshot(path=screenshots / "clients-consent-list-phone.png", full_page=True)
        assert await serious_accessibility_problems(page) == []
    finally:
        await context.close()
    assert width <= 390, "the record scrolls sideways on a phone"
    assert list_width <= 390, "the list scrolls sideways on a phone"
