"""The studio finds clients by name, email, phone, organization, tags, ZIP and creation date,
page by page and sorted, and exports what it found as CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from kit.mongo import Document


async def add(booking: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await booking.post("/clients", json=fields)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def ids(booking: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await booking.get("/clients", params=params)
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["items"]]


async def test_the_studio_finds_clients_by_each_criterion_and_their_combination(
    booking: httpx.AsyncClient, db: AsyncDatabase[Document]
) -> None:
    ann = await add(
        booking,
        first_name="Ann",
        last_name="O'Neil",
        email="ann@oneil.ie",
        organization="Dublin Rowing Club",
        phones=[{"number": "+353 1 555 0101", "sms": True}],
        address={"postal_code": "D02 X285", "city": "Dublin"},
        tags=["team", "sports"],
    )
    bea = await add(
        booking,
        first_name="Bea",
        last_name="Annersley",
        email="bea@example.com",
        organization="Rowing Weekly",
        phones=[{"number": "555-0199"}],
        address={"postal_code": "90210"},
        tags=["press"],
    )
    cal = await add(booking, organization="Calder School", address={"postal_code": "90210"})
    # Created "last week", straight in the database, to have something to filter out by date.
    await db["clients"].update_one(
        {"_id": cal["id"]}, {"$set": {"created_at": datetime.now(UTC) - timedelta(days=7)}}
    )

    assert set(await ids(booking, name="ann")) == {ann["id"], bea["id"]}  # first or last name
    assert await ids(booking, name="ann o'neil") == [ann["id"]]  # every word must match
    assert await ids(booking, email="EXAMPLE.com") == [bea["id"]]
    assert await ids(booking, phone="(555) 0199") == [bea["id"]]
    assert await ids(booking, phone="3531") == [ann["id"]]
    assert set(await ids(booking, organization="rowing")) == {ann["id"], bea["id"]}
    assert await ids(booking, tag="team") == [ann["id"]]
    assert await ids(booking, tag=["team", "press"]) == []  # all tags given must be there
    assert set(await ids(booking, postal_code="90210")) == {bea["id"], cal["id"]}
    assert await ids(booking, postal_code="d02x285") == [ann["id"]]
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert set(await ids(booking, created_from=since)) == {ann["id"], bea["id"]}
    assert await ids(booking, created_to=since) == [cal["id"]]
    assert await ids(booking, organization="rowing", postal_code="90210") == [bea["id"]]
    assert await ids(booking, name="a.*") == []  # text is matched literally, not as a pattern


async def test_lists_come_in_pages_sorted_as_asked(booking: httpx.AsyncClient) -> None:
    names = ["delta", "Alpha", "charlie", "Bravo", "echo"]
    for name in names:
        await add(booking, last_name=name, email=f"{name.lower()}@example.com")

    first = (await booking.get("/clients", params={"page_size": 2})).json()
    assert first["total"] == 5
    assert [c["last_name"] for c in first["items"]] == ["Alpha", "Bravo"]  # case-insensitive
    third = (await booking.get("/clients", params={"page_size": 2, "page": 3})).json()
    assert [c["last_name"] for c in third["items"]] == ["echo"]

    by_email_desc = (await booking.get("/clients", params={"sort": "-email"})).json()
    assert [c["last_name"] for c in by_email_desc["items"]] == [
        "echo",
        "delta",
        "charlie",
        "Bravo",
        "Alpha",
    ]
    newest_first = (await booking.get("/clients", params={"sort": "-created_at"})).json()
    assert [c["last_name"] for c in newest_first["items"]] == list(reversed(names))


@pytest.mark.parametrize(
    "params",
    [
        {"page": 0},
        {"page_size": 201},
        {"sort": "shoe_size"},
        {"created_from": "yesterday"},
        {"created_from": "2026-02-01T00:00:00Z", "created_to": "2026-01-01T00:00:00Z"},
        {"name": "x" * 201},
    ],
)
async def test_a_malformed_search_answers_422_in_the_error_shape(
    booking: httpx.AsyncClient, params: dict[str, Any]
) -> None:
    paging = {"page", "page_size"} & set(params)
    for route in ["/clients"] + ([] if paging else ["/clients/export.csv"]):
        response = await booking.get(route, params=params)
        assert response.status_code == 422, (route, response.text)
        assert set(response.json()) == {"error", "message", "detail", "request_id"}


async def test_the_filtered_list_exports_as_csv(booking: httpx.AsyncClient) -> None:
    ann = await add(
        booking,
        first_name="Ann",
        last_name="Archer",
        email="ann@example.com",
        phones=[{"number": "+1 555 0100", "sms": True}, {"number": "555 0101"}],
        address={"street": "1 Main St", "city": "Springfield", "postal_code": "12345"},
        tags=["family", "vip"],
        notes='=HYPERLINK("http://evil")',
        marketing_consent=True,
    )
    await add(booking, first_name="Bob", last_name="Baker", address={"postal_code": "99999"})
    deleted = await add(booking, last_name="Gone", address={"postal_code": "12345"})
    await booking.delete(f"/clients/{deleted['id']}")

    response = await booking.get("/clients/export.csv", params={"postal_code": "12345"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 1
    [row] = rows
    assert row["id"] == ann["id"]
    assert row["phone"] == "'+1 555 0100"  # a leading + would start a spreadsheet formula
    assert row["phone_sms"] == "yes"
    assert row["other_phones"] == "555 0101"
    assert row["tags"] == "family, vip"
    assert row["notes"] == '\'=HYPERLINK("http://evil")'
    assert row["marketing_consent"] == "yes"
    assert row["city"] == "Springfield"
