"""Clients without a browser: roles, a search and its htmx swap, a client created and edited
through the forms and read back, booking's duplicate (409) named with a link and created
anyway, a refused email beside its field with nothing stored, and the CSV export."""

from __future__ import annotations

import uuid

from seeded_session import seeded_session
from web_harness import WebClient, WebPlatform, html, text_of


def _unique() -> str:
    return uuid.uuid4().hex[:8]


async def _create(owner: WebClient, **fields: str) -> str:
    await owner.get("/clients/new")
    made = await owner.post("/clients/new", fields)
    assert made.status_code == 303, made.text
    return made.headers["location"].rsplit("/", 1)[-1]


async def test_clients_open_for_studio_and_marketing_reads_only(
    owner: WebClient, staff: WebClient, marketing: WebClient
) -> None:
    tag = _unique()
    client_id = await _create(owner, first_name="Ada", last_name=f"Reader{tag}")

    assert (await owner.get("/clients")).status_code == 200
    assert (await staff.get("/clients")).status_code == 200
    read = await marketing.get(f"/clients/{client_id}")
    assert (await marketing.get("/clients")).status_code == 200
    assert read.status_code == 200
    assert html(read).css_first('form[aria-label="Edit client"]') is None
    assert (await marketing.get("/clients/new")).status_code == 403


async def test_a_search_finds_the_client_and_htmx_gets_the_results_alone(
    owner: WebClient,
) -> None:
    tag = _unique()
    client_id = await _create(
        owner, first_name="Grace", last_name=f"Search{tag}", postal_code="10115"
    )

    full = await owner.get(f"/clients?name=Search{tag}")
    swap = await owner.get(
        f"/clients?name=Search{tag}&postal_code=10115", headers={"HX-Request": "true"}
    )
    nothing = await owner.get(f"/clients?name=Search{tag}&postal_code=99999")

    assert html(full).css_first(f'#results a[href="/clients/{client_id}"]') is not None
    assert "1 client" in text_of(full, "#c-found")
    assert swap.text.lstrip().startswith('<section id="results"')
    assert f"/clients/{client_id}" in swap.text
    assert "No client matches" in text_of(nothing, "#results")


async def test_a_client_is_edited_and_the_change_read_back(owner: WebClient) -> None:
    tag = _unique()
    client_id = await _create(owner, first_name="Edit", last_name=f"Me{tag}", city="Oslo")

    saved = await owner.post(
        f"/clients/{client_id}",
        {"first_name": "Edith", "last_name": f"Me{tag}", "city": "Bergen", "tags": "vip, wed"},
    )
    page = await owner.get(f"/clients/{client_id}")

    assert saved.status_code == 303
    form = html(page)
    assert form.css_first("#f-first_name").attributes["value"] == "Edith"
    assert form.css_first("#f-city").attributes["value"] == "Bergen"
    assert form.css_first("#f-tags").attributes["value"] == "vip, wed"


async def test_a_refused_email_shows_beside_its_field_and_nothing_is_stored(
    owner: WebClient,
) -> None:
    tag = _unique()
    await owner.get("/clients/new")
    refused = await owner.post(
        "/clients/new", {"first_name": "Bad", "last_name": f"Mail{tag}", "email": "not-an-email"}
    )
    found = await owner.get(f"/clients?name=Mail{tag}")

    assert refused.status_code == 422
    assert html(refused).css_first("#e-email") is not None
    assert html(refused).css_first("#f-last_name").attributes["value"] == f"Mail{tag}"
    assert "No client matches" in text_of(found, "#results")


async def test_a_duplicate_is_named_with_a_link_and_can_be_created_anyway(
    owner: WebClient,
) -> None:
    tag = _unique()
    email = f"dup{tag}@example.test"
    first = await _create(owner, first_name="Dup", last_name=f"Licate{tag}", email=email)

    again = await owner.post(
        "/clients/new", {"first_name": "Dup", "last_name": f"Licate{tag}", "email": email}
    )
    link = html(again).css_first(f'#duplicate a[href="/clients/{first}"]')
    anyway = await owner.post(
        "/clients/new",
        {
            "first_name": "Dup",
            "last_name": f"Licate{tag}",
            "email": email,
            "allow_duplicate": "true",
        },
    )
    found = await owner.get(f"/clients?name=Licate{tag}")

    assert again.status_code == 409
    assert link is not None
    assert anyway.status_code == 303
    assert "2 clients" in text_of(found, "#c-found")


async def test_the_export_streams_the_found_clients_as_csv(owner: WebClient) -> None:
    tag = _unique()
    await _create(owner, first_name="Csv", last_name=f"Export{tag}")

    answer = await owner.get(f"/clients/export.csv?name=Export{tag}")

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert f"Export{tag}" in answer.text


async def test_another_client_is_found_merged_into_this_one_and_the_outcome_shown(
    owner: WebClient,
) -> None:
    tag = _unique()
    kept = await _create(owner, first_name="Kim", last_name=f"Kept{tag}", city="Oslo")
    other = await _create(owner, first_name="Kimberly", last_name=f"Other{tag}")

    found = await owner.get(f"/clients/{kept}/merge?q=Other{tag}", headers={"HX-Request": "true"})
    confirm = await owner.get(f"/clients/{kept}/merge?source_id={other}")
    merged = await owner.post(
        f"/clients/{kept}/merge", {"source_id": other, "source_name": f"Kimberly Other{tag}"}
    )
    record = await owner.get(merged.headers["location"])
    gone = await owner.get(f"/clients/{other}")
    listed = await owner.get(f"/clients?name=Other{tag}")

    assert found.text.lstrip().startswith('<div id="merge-candidates"')
    assert html(found).css_first(f'a[href="/clients/{kept}/merge?source_id={other}"]') is not None
    assert f"Merge Kimberly Other{tag} into Kim Kept{tag}?" in text_of(confirm, "#m-confirm")
    assert merged.status_code == 303, merged.text
    assert f"Merged Kimberly Other{tag} into this client: 0 session(s)" in text_of(
        record, ".notice"
    )
    assert gone.status_code == 410
    assert "No client matches" in text_of(listed, "#results")


async def test_a_client_cannot_be_merged_into_itself_and_a_merge_needs_the_csrf_token(
    owner: WebClient,
) -> None:
    tag = _unique()
    one = await _create(owner, first_name="Solo", last_name=f"Self{tag}")
    two = await _create(owner, first_name="Duo", last_name=f"Self{tag}")

    itself = await owner.post(f"/clients/{one}/merge", {"source_id": one})
    no_token = await owner.http.post(f"/clients/{one}/merge", data={"source_id": two})
    still = await owner.get(f"/clients/{two}")

    assert itself.status_code == 422
    assert "cannot be merged into itself" in text_of(itself, "main")
    assert no_token.status_code == 403
    assert still.status_code == 200


async def test_a_duplicate_on_create_is_merged_into_the_existing_client(
    owner: WebClient,
) -> None:
    tag = _unique()
    email = f"same{tag}@example.test"
    existing = await _create(owner, first_name="Sam", last_name=f"Same{tag}", email=email)
    typed = {
        "first_name": "Sam",
        "last_name": f"Same{tag}",
        "email": email,
        "city": "Gdansk",
        "phone": "+48 555 010 203",
        "tags": "wedding",
    }

    refused = await owner.post("/clients/new", typed)
    merged = await owner.post("/clients/new", typed | {"merge_into": existing})
    record = await owner.get(merged.headers["location"])
    found = await owner.get(f"/clients?name=Same{tag}")

    assert refused.status_code == 409
    offer = html(refused).css_first(f'#duplicate button[name="merge_into"][value="{existing}"]')
    assert offer is not None
    assert "same email" in text_of(refused, "#duplicate")
    assert merged.status_code == 303
    assert merged.headers["location"].startswith(f"/clients/{existing}?")
    assert "city, phone, tags" in text_of(record, ".notice")
    assert html(record).css_first("#f-city").attributes["value"] == "Gdansk"
    assert html(record).css_first("#f-tags").attributes["value"] == "wedding"
    assert "1 client" in text_of(found, "#c-found")


async def test_an_edit_into_a_duplicate_offers_the_merge_and_saving_anyway(
    owner: WebClient,
) -> None:
    tag = _unique()
    email = f"twin{tag}@example.test"
    first = await _create(owner, first_name="Tia", last_name=f"Twin{tag}", email=email)
    second = await _create(owner, first_name="Tom", last_name=f"Twin{tag}")
    edit = {"first_name": "Tom", "last_name": f"Twin{tag}", "email": email}

    refused = await owner.post(f"/clients/{second}", edit)
    anyway = await owner.post(f"/clients/{second}", edit | {"allow_duplicate": "true"})
    record = await owner.get(f"/clients/{second}")

    assert refused.status_code == 409
    merge = html(refused).css_first(
        f'#duplicate a[href="/clients/{second}/merge?source_id={first}"]'
    )
    assert merge is not None
    assert anyway.status_code == 303
    assert html(record).css_first("#f-email").attributes["value"] == email


async def test_the_record_lists_the_clients_invoices_and_deliveries(
    studio: WebPlatform, owner: WebClient
) -> None:
    seeded = await seeded_session(studio.gateway)
    price_list = await owner.post(
        "/orders/price-lists",
        {
            "name": f"Record {_unique()}",
            "currency": "USD",
            "product_name": ["8x10 print"],
            "product_price": ["45.00"],
            "product_kind": ["physical"],
            "product_vendor": ["Lab One"],
        },
    )
    price_list_id = price_list.headers["location"].rsplit("/", 1)[-1]
    entry = await owner.get(
        f"/orders/invoices/new?session_id={seeded.session_id}&price_list_id={price_list_id}"
    )
    product = html(entry).css_first('select[name="line-0-product"] option[value]:not([value=""])')
    assert product is not None
    invoice = await owner.post(
        "/orders/invoices",
        {
            "session_id": seeded.session_id,
            "price_list_id": price_list_id,
            "line-0-product": product.attributes["value"],
            "line-0-quantity": "1",
        },
    )
    assert invoice.status_code == 303, invoice.text
    invoice_id = invoice.headers["location"].rsplit("/", 1)[-1]
    delivery = await owner.post(
        "/deliveries",
        {"session_id": seeded.session_id, "title": "Record family", "source": "hires"},
    )
    # The answer to the new-delivery form is the delivery's page (it shows the link's URL).
    assert delivery.status_code == 201, delivery.text
    delivery_path = html(delivery).css_first("link[rel=canonical]").attributes["href"]

    record = await owner.get(f"/clients/{seeded.client_id}")

    invoices = "section[aria-labelledby=c-invoices]"
    deliveries = "section[aria-labelledby=c-deliveries]"
    assert html(record).css_first(f'{invoices} a[href="/orders/invoices/{invoice_id}"]')
    assert "45.00 USD" in text_of(record, invoices)
    assert html(record).css_first(f'{deliveries} a[href="{delivery_path}"]')
    assert "Record family" in text_of(record, deliveries)
