"""A studio keeps its client records: create, read, update, soft-delete, with duplicate checks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from kit.mongo import Document

from .conftest import BookingEvents


def a_client(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "organization": "Analytical Engines Ltd",
        "email": "  Ada.Lovelace@Example.COM ",
        "phones": [{"number": "+44 (20) 7946-0018", "sms": True}, {"number": "020 7946 0019"}],
        "address": {
            "street": "12 St James's Square",
            "city": "London",
            "region": "Greater London",
            "postal_code": "SW1Y 4JH",
            "country": "GB",
        },
        "tags": ["wedding", "vip", "wedding"],
        "notes": "Prefers mornings.",
        "marketing_consent": True,
    }
    body.update(overrides)
    return body


def error_shape(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "message", "detail", "request_id"}, body
    return body


async def test_a_receptionist_creates_a_client_and_reads_it_back(
    booking: httpx.AsyncClient, db: AsyncDatabase[Document], events: BookingEvents
) -> None:
    created = await booking.post("/clients", json=a_client())
    assert created.status_code == 201, created.text
    client = created.json()
    assert client["email"] == "Ada.Lovelace@Example.COM"
    assert client["tags"] == ["wedding", "vip"]
    assert client["phones"][0] == {"number": "+44 (20) 7946-0018", "sms": True}

    read = await booking.get(f"/clients/{client['id']}")
    assert read.status_code == 200
    assert read.json() == client

    stored = await db["clients"].find_one({"_id": client["id"]})
    assert stored is not None
    assert stored["email_key"] == "ada.lovelace@example.com"
    assert stored["phone_keys"] == ["+442079460018", "02079460019"]
    assert stored["name_zip_key"] == "ada lovelace|sw1y4jh"

    [event] = await events.about([client["id"]], count=1)
    assert event.type == "booking.client.created.v1"
    assert event.data["phone"] == "+44 (20) 7946-0018"
    assert event.data["phones"][1] == {"number": "020 7946 0019", "sms": False}
    assert event.data["address"]["postal_code"] == "SW1Y 4JH"
    assert event.data["marketing_consent"] is True
    assert "notes" not in event.data


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"first_name": None, "last_name": None, "organization": None}, None),
        ({"email": "not-an-email"}, "email"),
        ({"phones": [{"number": "call me maybe"}]}, "phones"),
        ({"phones": [{"number": "12"}]}, "phones"),
        ({"address": {"postal_code": "x" * 21}}, "address"),
        ({"favourite_colour": "teal"}, "favourite_colour"),
        ({"tags": [""]}, "tags"),
    ],
)
async def test_a_client_with_bad_fields_is_refused_with_a_422_naming_the_field_storing_nothing(
    booking: httpx.AsyncClient, db: AsyncDatabase[Document], body: dict[str, Any], field: str | None
) -> None:
    response = await booking.post("/clients", json=a_client(**body))
    assert response.status_code == 422, response.text
    problem = error_shape(response)
    assert problem["error"] == "validation_error"
    if field is not None:
        assert any(field in p["location"] for p in problem["detail"]), problem
    assert await db["clients"].count_documents({}) == 0


@pytest.mark.parametrize(
    ("second", "matched_on"),
    [
        ({"first_name": "Augusta", "email": "ADA.lovelace@example.com ", "phones": []}, "email"),
        (
            {"first_name": "Augusta", "email": None, "phones": [{"number": "+44 20 79460018"}]},
            "phone",
        ),
        (
            {"email": "other@example.com", "phones": [], "address": {"postal_code": "sw1y4jh"}},
            "name_and_postal_code",
        ),
    ],
)
async def test_a_likely_duplicate_answers_409_with_the_existing_id_unless_told_to_create_anyway(
    booking: httpx.AsyncClient,
    db: AsyncDatabase[Document],
    second: dict[str, Any],
    matched_on: str,
) -> None:
    first = (await booking.post("/clients", json=a_client())).json()

    refused = await booking.post("/clients", json=a_client(**second))
    assert refused.status_code == 409, refused.text
    problem = error_shape(refused)
    assert problem["detail"]["duplicate_of"] == first["id"]
    assert matched_on in problem["detail"]["matched_on"]
    assert await db["clients"].count_documents({}) == 1

    anyway = await booking.post(
        "/clients", params={"allow_duplicate": "true"}, json=a_client(**second)
    )
    assert anyway.status_code == 201
    assert anyway.json()["id"] != first["id"]
    assert await db["clients"].count_documents({}) == 2


async def test_updating_a_client_changes_only_the_fields_sent_and_announces_the_change(
    booking: httpx.AsyncClient, events: BookingEvents
) -> None:
    client = (await booking.post("/clients", json=a_client())).json()

    response = await booking.patch(
        f"/clients/{client['id']}",
        json={
            "tags": ["family"],
            "notes": None,
            "address": {"postal_code": "EC1A 1BB", "city": "London"},
        },
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["tags"] == ["family"]
    assert updated["notes"] is None
    assert updated["address"] == {
        "street": None,
        "city": "London",
        "region": None,
        "postal_code": "EC1A 1BB",
        "country": None,
    }
    assert updated["email"] == client["email"]
    assert updated["phones"] == client["phones"]
    assert updated["updated_at"] > client["updated_at"]

    found = await events.about([client["id"]], count=2)
    assert [e.type for e in found] == ["booking.client.created.v1", "booking.client.updated.v1"]
    assert found[1].data["tags"] == ["family"]
    assert found[1].data["address"]["postal_code"] == "EC1A 1BB"


async def test_an_update_that_would_leave_a_client_nameless_or_a_duplicate_is_refused(
    booking: httpx.AsyncClient,
) -> None:
    ada = (await booking.post("/clients", json=a_client())).json()
    bob = (
        await booking.post(
            "/clients",
            json={
                "first_name": "Bob",
                "email": "bob@example.com",
                "phones": [{"number": "555 0100"}],
            },
        )
    ).json()

    nameless = await booking.patch(f"/clients/{bob['id']}", json={"first_name": None})
    assert nameless.status_code == 422
    assert error_shape(nameless)["error"] == "unprocessable"

    duplicate = await booking.patch(
        f"/clients/{bob['id']}", json={"email": "ada.lovelace@example.com"}
    )
    assert duplicate.status_code == 409
    assert error_shape(duplicate)["detail"]["duplicate_of"] == ada["id"]

    bad = await booking.patch(f"/clients/{bob['id']}", json={"marketing_consent": "maybe"})
    assert bad.status_code == 422

    unchanged = (await booking.get(f"/clients/{bob['id']}")).json()
    assert unchanged["email"] == "bob@example.com"
    assert unchanged["first_name"] == "Bob"


async def test_a_deleted_client_disappears_from_lists_answers_410_and_is_announced_once(
    booking: httpx.AsyncClient, events: BookingEvents
) -> None:
    client = (await booking.post("/clients", json=a_client())).json()
    other = (await booking.post("/clients", json={"last_name": "Babbage"})).json()

    assert (await booking.delete(f"/clients/{client['id']}")).status_code == 204
    assert (await booking.delete(f"/clients/{client['id']}")).status_code == 204  # harmless again

    gone = await booking.get(f"/clients/{client['id']}")
    assert gone.status_code == 410
    assert error_shape(gone)["detail"] == {"client_id": client["id"], "merged_into": None}
    listed = (await booking.get("/clients")).json()
    assert [c["id"] for c in listed["items"]] == [other["id"]]
    assert listed["total"] == 1
    assert (await booking.patch(f"/clients/{client['id']}", json={"notes": "x"})).status_code == 410

    # The same email may be used again once the old record is deleted.
    again = await booking.post("/clients", json=a_client())
    assert again.status_code == 201

    found = await events.about([client["id"]], count=2)
    assert [e.type for e in found] == ["booking.client.created.v1", "booking.client.deleted.v1"]
    assert found[1].data == {"client_id": client["id"], "merged_into": None}


async def test_an_unknown_client_answers_404_in_the_error_shape(booking: httpx.AsyncClient) -> None:
    for response in (
        await booking.get("/clients/nope"),
        await booking.patch("/clients/nope", json={"notes": "x"}),
        await booking.delete("/clients/nope"),
    ):
        assert response.status_code == 404
        assert error_shape(response)["error"] == "not_found"
