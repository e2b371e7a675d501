"""Deliveries without a browser: a delivery of a session's images packaged and shown with its
files, the client's link URL shown once in the answer that asks for the delivery, a link
issued with its URL shown once, lives in days or hours, revoked and renewed, refusals next to
the form."""

from __future__ import annotations

import httpx
from seeded_session import marketing_get, seeded_session
from web_harness import WebClient, WebPlatform, html, text_of

from kit.testing import eventually


def _delivery_path(answer: httpx.Response) -> str:
    """The delivery page's own address (the answer that asks for a delivery is that page)."""
    return html(answer).css_first("link[rel=canonical]").attributes["href"] or ""


async def _ready_delivery(studio: WebPlatform, owner: WebClient) -> str:
    seeded = await seeded_session(studio.gateway)
    made = await owner.post(
        "/deliveries",
        {"session_id": seeded.session_id, "title": "Lee family", "source": "hires"},
    )
    assert made.status_code == 201, made.text
    path = _delivery_path(made)

    async def ready() -> bool:
        return text_of(await owner.get(path), "#delivery-status") == "ready"

    await eventually(ready, timeout=60, what="the delivery to be packaged", interval=0.5)
    return path


async def test_deliveries_open_for_owner_and_staff_only(
    studio: WebPlatform, owner: WebClient, staff: WebClient
) -> None:
    for client in (owner, staff):
        page = await client.get("/deliveries")
        assert page.status_code == 200
        assert html(page).css_first("h1").text() == "Deliveries"
    new = await staff.get("/deliveries/new?session_id=S1")
    refused = await marketing_get(studio, "/deliveries")

    assert html(new).css_first("#f-session_id").attributes["value"] == "S1"
    assert refused.status_code == 403


async def test_a_delivery_is_packaged_and_a_new_links_url_is_shown_once(
    studio: WebPlatform, owner: WebClient
) -> None:
    path = await _ready_delivery(studio, owner)
    page = await owner.get(path)
    assert [r.css_first("td").text() for r in html(page).css("#delivery-state tbody tr")] == [
        "001.jpg",
        "002.jpg",
    ]
    assert html(page).css_first("#delivery-state").attributes.get("hx-trigger") is None
    block = await owner.get(path, headers={"HX-Request": "true"})
    assert html(block).css_first("h1") is None
    assert text_of(block, "#delivery-status") == "ready"

    issued = await owner.post(
        f"{path}/links",
        {"email": "guest@example.com", "name": "Guest", "pin": "1234", "download_limit": "3"},
    )
    url = html(issued).css_first("#issued-url").attributes["value"] or ""
    again = await owner.get(path)
    listed = await owner.get("/deliveries")

    assert issued.status_code == 201
    assert "/d/" in url
    assert (
        "mailto:guest@example.com?"
        in html(issued).css_first("a[href^='mailto:']").attributes["href"]
    )
    assert html(again).css_first("#issued-url") is None
    assert url not in again.text
    assert "Guest guest@example.com" in text_of(again, "#links tbody")
    assert "0 of 3" in text_of(again, "#links tbody")
    assert "Lee family" in text_of(listed, "table")
    async with httpx.AsyncClient() as client:
        client_page = await client.get(url)
    assert client_page.status_code == 200  # the client's PIN page through the gateway


async def test_a_bad_pin_is_refused_next_to_it_and_links_are_revoked_and_renewed(
    studio: WebPlatform, owner: WebClient
) -> None:
    path = await _ready_delivery(studio, owner)
    before = html(await owner.get(path)).css("#links tbody tr")
    refused = await owner.post(f"{path}/links", {"email": "x@example.com", "pin": "12"})
    assert refused.status_code == 422
    assert html(refused).css_first("#e-pin") is not None
    assert html(refused).css_first("#f-email").attributes["value"] == "x@example.com"
    assert len(html(await owner.get(path)).css("#links tbody tr")) == len(before)

    issued = await owner.post(
        f"{path}/links", {"name": "Grandma", "expires_in": "2", "expires_unit": "days"}
    )
    assert issued.status_code == 201
    page = await owner.get(path)
    row = next(r for r in html(page).css("#links tbody tr") if "Grandma" in r.text())
    renew = row.css_first("form[action$='/renew']").attributes["action"] or ""
    revoke = row.css_first("form[action$='/revoke']").attributes["action"] or ""
    bad_days = await owner.post(renew, {"days": "0"})
    renewed = await owner.post(renew, {"days": "30"})
    revoked = await owner.post(revoke, {})
    after = await owner.get(path)
    row = next(r for r in html(after).css("#links tbody tr") if "Grandma" in r.text())

    assert bad_days.status_code == 422
    assert html(bad_days).css_first("#links .field-error") is not None
    assert renewed.status_code == 303
    assert revoked.status_code == 303
    assert "revoked" in row.text()
    assert row.css_first("form[action$='/revoke']") is None


async def test_a_delivery_of_a_session_delivery_does_not_know_is_refused_in_the_form(
    owner: WebClient,
) -> None:
    answer = await owner.post(
        "/deliveries", {"session_id": "no such/session", "title": "Nobody", "source": "hires"}
    )
    listed = await owner.get("/deliveries")

    assert answer.status_code == 422
    assert html(answer).css_first("#e-session_id") is not None
    assert html(answer).css_first("#f-title").attributes["value"] == "Nobody"
    assert "Nobody" not in listed.text


async def test_the_link_url_is_shown_when_the_delivery_is_asked_for_and_can_expire_in_hours(
    studio: WebPlatform, owner: WebClient
) -> None:
    seeded = await seeded_session(studio.gateway)
    made = await owner.post(
        "/deliveries",
        {
            "session_id": seeded.session_id,
            "title": "Park family",
            "source": "hires",
            "name": "Jo Park",
            "expires_in": "6",
            "expires_unit": "hours",
        },
    )
    assert made.status_code == 201, made.text
    url = html(made).css_first("#issued-url").attributes["value"] or ""
    path = _delivery_path(made)
    assert "/d/" in url
    assert "Link for Jo Park" in text_of(made, "section.issued")
    assert "Expires 6 hours after the delivery is ready" in text_of(made, "section.issued")

    async def ready() -> bool:
        return text_of(await owner.get(path), "#delivery-status") == "ready"

    await eventually(ready, timeout=60, what="the delivery to be packaged", interval=0.5)
    again = await owner.get(path)
    assert html(again).css_first("#issued-url") is None
    assert url not in again.text
    async with httpx.AsyncClient() as client:
        client_page = await client.get(url)
    assert client_page.status_code == 200  # the URL shown at creation is the client's page

    row = next(r for r in html(again).css("#links tbody tr") if "Jo Park" in r.text())
    renew = row.css_first("form[action$='/renew']").attributes["action"] or ""
    assert (await owner.post(renew, {"days": "3", "unit": "hours"})).status_code == 303
    too_long = await owner.post(
        f"{path}/links", {"name": "Guest", "expires_in": "999999", "expires_unit": "hours"}
    )
    assert too_long.status_code == 422
    assert html(too_long).css_first("#e-expires_in") is not None
    assert html(too_long).css_first("#f-expires_unit option[selected]").text() == "hours"
    guest = await owner.post(
        f"{path}/links", {"name": "Guest", "expires_in": "2", "expires_unit": "hours"}
    )
    assert guest.status_code == 201
    assert html(guest).css_first("#issued-url") is not None


async def test_a_delivery_offering_the_sessions_invoices_lets_the_client_download_them(
    studio: WebPlatform, owner: WebClient
) -> None:
    seeded = await seeded_session(studio.gateway, images=1)
    auth = {"Authorization": f"Bearer {seeded.token}"}
    async with httpx.AsyncClient(base_url=studio.gateway, headers=auth, timeout=60) as gw:
        prices = await gw.post(
            "/api/workflow/workflow/price-lists",
            json={
                "name": f"Prints {seeded.session_id}",
                "currency": "USD",
                "products": [{"name": "8x10 print", "price_minor": 2500, "kind": "physical"}],
            },
        )
        assert prices.status_code == 201, prices.text
        invoice = await gw.post(
            "/api/workflow/workflow/invoices",
            json={
                "client_id": seeded.client_id,
                "session_id": seeded.session_id,
                "price_list_id": prices.json()["id"],
                "lines": [{"product_id": prices.json()["products"][0]["id"], "quantity": 1}],
            },
        )
        assert invoice.status_code == 201, invoice.text
    invoice_id = invoice.json()["invoice_id"]
    form = await owner.get("/deliveries/new")
    assert html(form).css_first('input[name="include_invoices"]') is not None
    made = await owner.post(
        "/deliveries",
        {
            "session_id": seeded.session_id,
            "title": "With invoice",
            "source": "hires",
            "include_invoices": "1",
            "name": "Ann",
        },
    )
    assert made.status_code == 201, made.text
    url = html(made).css_first("#issued-url").attributes["value"] or ""
    path = _delivery_path(made)

    async def ready() -> bool:
        return text_of(await owner.get(path), "#delivery-status") == "ready"

    await eventually(ready, timeout=60, what="the delivery to be packaged", interval=0.5)
    # The client's page, through the gateway: the invoice is there, and its PDF downloads.
    async with httpx.AsyncClient(timeout=60) as client:
        page = await client.get(url, headers={"accept": "text/html"})
        assert page.status_code == 200
        assert f"/invoices/{invoice_id}.pdf" in page.text
        pdf = await client.get(f"{url}/invoices/{invoice_id}.pdf")
    assert pdf.status_code == 200, pdf.text
    assert pdf.content.startswith(b"%PDF-")
