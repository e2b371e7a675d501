"""The issue's walk in one go, in a real browser, as a studio works: after the first run (the
`studio` fixture creates the owner on the first-run page), the owner logs in, creates a room,
its opening hours and a session type on the Settings screens, books a new client on a free
slot of the calendar and drags the booking to another slot, opens the session record from the
booking, imports three JPEGs, rates one by keyboard and groups two, advances the session from
the hub in bulk, enters an invoice for its images, sends it to the lab so that a render job
made on the Render screen fires and its run finishes, delivers the run's outputs, makes a link
and opens it as the client, who downloads a file.

Every step uses only the screens (no API call), under each page's own CSP. The details of each
screen (phone widths, axe, errors, keyboard paths) are checked by the screens' own walks and by
the every-screen check; this one proves the screens join up into a day.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

from playwright.async_api import Browser, Page, expect
from seeded_session import photo
from web_harness import WebPlatform, browser_login

from kit.testing import eventually


async def _settings(page: Page, web: str, room: str, kind: str) -> None:
    """A room open every day 09:00-18:00 and an hour-long session type held in it."""
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    await page.get_by_label("Resource name").fill(room)
    await page.get_by_label("Kind", exact=True).select_option("room")
    await page.get_by_role("button", name="Add resource").click()
    await expect(page.get_by_role("form", name=f"Resource {room}")).to_be_visible()
    hours = page.get_by_role("form", name="New opening hours")
    await hours.get_by_label(room).check()
    for day in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"):
        await hours.get_by_label(day).check()
    await hours.get_by_label("Opens").fill("09:00")
    await hours.get_by_label("Closes").fill("18:00")
    await hours.get_by_role("button", name="Add opening hours").click()
    await expect(page.locator("#hours tbody tr").filter(has_text=room)).to_contain_text(
        "09:00\N{EN DASH}18:00"
    )
    await page.goto(web + "/settings/session-types")
    new_type = page.get_by_role("form", name="New session type")
    await new_type.get_by_label("Name").fill(kind)
    await new_type.get_by_label("Duration (minutes)").fill("60")
    await new_type.get_by_label(room).check()
    await new_type.get_by_role("button", name="Add session type").click()
    await expect(page.locator("main")).to_contain_text(kind)


async def _book_and_drag(
    page: Page, shots: Path, web: str, day: dt.date, room: str, kind: str, last: str
) -> str:
    """Book `last` at 10:00 on `day` from the calendar, drag it to 14:00; the session's id."""
    await page.goto(f"{web}/calendar?day={day.isoformat()}")
    await page.get_by_label("Free slots for").select_option(label=f"{kind} (60 min)")
    await page.get_by_role("button", name="Show").click()
    free = page.get_by_role("link", name=f"Book {room} 10:00")
    room_id = parse_qs(urlsplit(await free.get_attribute("href") or "").query)["resource_id"][0]
    await free.click()
    await expect(page.get_by_role("heading", name="Book a session")).to_be_visible()
    await page.get_by_label("First name").fill("Ann")
    await page.get_by_label("Last name").fill(last)
    await page.get_by_label("Email", exact=True).fill(f"{last.lower()}@clients.test")
    await page.get_by_role("button", name="Book", exact=True).click()
    booking = page.locator("a.booking").filter(has_text=last)
    await expect(booking).to_contain_text("10:00\N{EN DASH}11:00")
    target = page.locator(
        f'td[data-resource-id="{room_id}"][data-starts-at^="{day.isoformat()}T14:00"]'
    )
    await target.scroll_into_view_if_needed()
    await booking.drag_to(target)
    await expect(page.locator("a.booking").filter(has_text=last)).to_contain_text(
        "14:00\N{EN DASH}15:00"
    )
    await page.screenshot(path=shots / "day-calendar.png", full_page=True)
    await page.locator("a.booking").filter(has_text=last).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(last)
    return page.url.rstrip("/").rsplit("/", 1)[-1]


async def _import_rate_group(page: Page, shots: Path, files: list[Path]) -> str:
    """From the booking to its record: three JPEGs in, the first rated 5, two grouped."""

    async def record_open() -> bool:
        await page.get_by_role("link", name="Open the session record").click()
        if await page.get_by_label("Choose files, or drop them here").count():
            return True
        await page.go_back()
        return False

    # workflow learns of the booking from booking's event, moments after it is made
    await eventually(record_open, timeout=30, what="the session record of the booking")
    await page.get_by_label("Choose files, or drop them here").set_input_files(files)
    await page.get_by_role("button", name="Import", exact=True).click()
    await expect(page.locator("#import-report")).to_contain_text("Stored 3")
    await expect(page.locator(".tile img")).to_have_count(3, timeout=90_000)
    await page.locator(".tile").first.focus()
    await page.keyboard.press("5")
    await expect(page.locator(".tile").first.locator(".stars")).to_contain_text("★★★★★")
    await page.locator(".tile").nth(1).get_by_label("select").check()
    await page.locator(".tile").nth(2).get_by_label("select").check()
    await page.get_by_label("New group from the selected images").fill("Album")
    await page.get_by_role("button", name="Make the group").click()
    await expect(page.locator("#groups")).to_contain_text("Album: 2 images")
    await page.screenshot(path=shots / "day-session.png", full_page=True)
    heading = await page.get_by_role("heading", level=1).inner_text()  # "Session <number> ..."
    return heading.split()[1]


async def _advance_from_the_hub(page: Page, shots: Path, number: str) -> None:
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Workflow").click()
    await expect(page.get_by_label(f"Select {number}")).to_be_visible()
    await page.get_by_label(f"Select {number}").check()
    await page.get_by_role("button", name="Advance status of the selected").click()
    await expect(page.get_by_role("status")).to_contain_text("1 advanced")
    await page.screenshot(path=shots / "day-hub.png", full_page=True)


async def _invoice_render_deliver(
    page: Page, shots: Path, web: str, session_id: str, tag: str
) -> str:
    """A price list and an invoice of the session's images; a lab job fired by sending it to
    the lab; the run's outputs delivered and a link made: the link's URL."""
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Orders").click()
    await page.get_by_label("Price list name").fill(f"Prints {tag}")
    await page.locator("#p-name-1").fill("8x10 print")
    await page.locator("#p-price-1").fill("45")
    await page.locator("#p-vendor-1").fill("Lab One")
    await page.get_by_role("button", name="Create the price list").click()
    await page.get_by_role("link", name="New invoice with this price list").click()
    await page.get_by_label("Session id").fill(session_id)
    await page.get_by_role("button", name="Show the products").click()
    await page.locator("#l-0-product").select_option(label="8x10 print · 45.00 USD")
    await page.locator("#l-0-quantity").fill("3")
    images = await page.locator("#l-0-images option").evaluate_all(
        "options => options.map(o => o.value)"
    )
    await page.locator("#l-0-images").select_option(images)
    await page.get_by_role("button", name="Enter the invoice").click()
    await expect(page.locator("#invoice-total")).to_have_text("135.00 USD")
    invoice_url = page.url
    invoice_id = invoice_url.rsplit("/", 1)[-1]

    await page.get_by_role("link", name="Render", exact=True).click()
    await page.get_by_label("Profile name").fill(f"Lab print {tag}")
    await page.locator("#f-purpose").select_option("final")
    await page.locator("#f-long_edge_px").fill("800")
    await page.get_by_role("button", name="Create the profile").click()
    await expect(page.locator("#profile-version")).to_have_text("1")
    await page.get_by_role("link", name="Render", exact=True).first.click()
    await page.locator("#j-name").fill(f"Send to lab {tag}")
    await page.locator("#j-entity_kind").select_option("invoice")
    await page.locator("#j-select_status").fill("Sent to Lab")
    await page.locator("#j-selection").select_option("ordered")
    await page.get_by_label(re.compile(f"Lab print {tag}")).check()
    await page.locator("#j-finish_status").fill("Received from Lab")
    await page.get_by_role("button", name="Create the job").click()
    await expect(page.locator("#jobs tbody")).to_contain_text(f"Send to lab {tag}")

    await page.goto(invoice_url)
    await page.get_by_label("Move to").select_option(label="Sent to Lab")
    await page.get_by_role("button", name="Change the status").click()

    async def run_listed() -> bool:
        await page.goto(web + "/render")
        return await own_run.count() > 0

    # Another walk's job may fire for this invoice too: this walk's run is its own job's.
    own_run = page.locator("#runs tbody tr", has_text=invoice_id).filter(
        has_text=f"Send to lab {tag}"
    )
    await eventually(run_listed, timeout=30, what="the job's run on the Render screen")
    await own_run.get_by_role("link").click()
    await expect(page.locator("#run-status")).to_have_text("completed", timeout=90_000)
    await expect(page.locator("label[for='run-bar']")).to_contain_text("3 of 3 rendered")
    await page.screenshot(path=shots / "day-render-run.png", full_page=True)

    await page.get_by_role("link", name="Deliver these outputs").click()
    await page.get_by_label("Title").fill(f"Prints {tag}")
    await page.get_by_role("button", name="Package and deliver").click()
    await expect(page.locator("#delivery-status")).to_have_text("ready", timeout=60_000)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Deliveries").click()
    await page.get_by_role("link", name=f"Prints {tag}").first.click()
    await page.get_by_label("Recipient name").fill("Ann")
    await page.get_by_label("Recipient email").fill("ann@clients.test")
    await page.get_by_role("button", name="Make the link").click()
    url = await page.locator("#issued-url").input_value()
    await page.screenshot(path=shots / "day-delivery-link.png", full_page=True)
    return url


async def test_a_studio_day_from_setting_up_to_the_clients_download(
    studio: WebPlatform, browser: Browser, screenshots: Path, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:5]
    room, kind, last = f"Walk room {tag}", f"Walk portrait {tag}", f"Walker{tag}"
    day = dt.date.today() + dt.timedelta(days=23)
    files = []
    for n in (1, 2, 3):
        path = tmp_path / f"{n:03d}.jpg"
        path.write_bytes(photo(n))
        files.append(path)
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    refused: list[str] = []
    page.on("pageerror", lambda error: refused.append(str(error)))
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    try:
        await browser_login(page, studio.web)
        await _settings(page, studio.web, room, kind)
        session_id = await _book_and_drag(page, screenshots, studio.web, day, room, kind, last)
        number = await _import_rate_group(page, screenshots, files)
        await _advance_from_the_hub(page, screenshots, number)
        url = await _invoice_render_deliver(page, screenshots, studio.web, session_id, tag)
    finally:
        await context.close()

    client = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        client_page = await client.new_page()
        answer = await client_page.goto(url)
        assert answer is not None
        assert answer.status == 200
        await client_page.screenshot(path=screenshots / "day-client-link.png", full_page=True)
        first_file = client_page.get_by_role("link", name=re.compile(r"_001_.*\.jpg"))
        href = await first_file.get_attribute("href")
        assert href is not None
        downloaded = await client_page.request.get(urljoin(url, href))
        body = await downloaded.body()
    finally:
        await client.close()

    assert downloaded.ok
    assert downloaded.headers["content-type"] == "image/jpeg"
    assert body[:3] == b"\xff\xd8\xff"  # a JPEG, rendered at 800 px
    assert refused == [], "a script error or a CSP refusal on the way"
