"""A typo in a query parameter of a clients route is a 422 naming it, in the one error body
shape, instead of answering as if it were not there (a whole unfiltered list, an export of
every client, a create that ignores the caller's intent)."""

from __future__ import annotations

import httpx


def problems(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert set(body) == {"error", "message", "detail", "request_id"}
    assert body["error"] == "validation_error"
    return [p["location"] for p in body["detail"]]


async def test_an_unknown_filter_on_the_client_list_is_a_422_naming_it(
    booking: httpx.AsyncClient,
) -> None:
    made = await booking.post(
        "/clients", json={"first_name": "Ann", "address": {"postal_code": "02134"}}
    )
    assert made.status_code == 201, made.text

    wrong = await booking.get("/clients", params={"postcode": "99999", "page_size": 10})
    assert problems(wrong) == [["query", "postcode"]]
    assert "postal_code" in wrong.json()["detail"][0]["message"]  # says what it takes
    assert problems(await booking.get("/clients/export.csv", params={"nmae": "x"})) == [
        ["query", "nmae"]
    ]
    assert problems(
        await booking.get(f"/clients/{made.json()['id']}", params={"fields": "email"})
    ) == [["query", "fields"]]

    # The declared ones still work, repeated ones included.
    right = await booking.get("/clients", params={"postal_code": "02134", "tag": ["a", "b"]})
    assert right.status_code == 200, right.text
    found = await booking.get("/clients", params={"postal_code": "02134"})
    assert [c["id"] for c in found.json()["items"]] == [made.json()["id"]]


async def test_a_misspelt_flag_on_a_write_writes_nothing(booking: httpx.AsyncClient) -> None:
    body = {"first_name": "Bo", "email": "bo@example.com"}
    assert (await booking.post("/clients", json=body)).status_code == 201
    again = await booking.post("/clients", json=body, params={"allow_duplicates": "true"})
    assert problems(again) == [["query", "allow_duplicates"]]
    listed = await booking.get("/clients", params={"email": "bo@example.com"})
    assert listed.json()["total"] == 1
