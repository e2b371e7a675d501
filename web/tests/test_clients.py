"""Clients without a browser: roles, a search and its htmx swap, a client created and edited
through the forms and read back, booking's duplicate (409) named with a link and created
anyway, a refused email beside its field with nothing stored, and the CSV export."""

from __future__ import annotations

import uuid

from web_harness import WebClient, html, text_of


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
