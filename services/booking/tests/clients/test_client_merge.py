"""Two records turn out to be one person: merging moves the sessions and payments across."""

from __future__ import annotations

from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from kit.mongo import Document

from .conftest import BookingEvents


async def add(booking: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await booking.post("/clients", json=fields, params={"allow_duplicate": "true"})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def history(db: AsyncDatabase[Document], client_id: str, *sessions: str) -> None:
    """Sessions and payments of `client_id`, as scheduling and payments store them."""
    await db["sessions"].insert_many(
        [{"_id": s, "number": f"S-{s}", "client_id": client_id} for s in sessions]
    )
    await db["payments"].insert_one({"_id": f"pay-{sessions[0]}", "client_id": client_id})


async def test_merging_moves_sessions_and_payments_and_deletes_the_duplicate_once(
    booking: httpx.AsyncClient, db: AsyncDatabase[Document], events: BookingEvents
) -> None:
    keep = await add(booking, first_name="Jo", last_name="March", email="jo@march.com")
    twin = await add(booking, first_name="Josephine", last_name="March", email="jo@march.com")
    bystander = await add(booking, first_name="Amy", last_name="March")
    await history(db, keep["id"], "s1")
    await history(db, twin["id"], "s2", "s3")
    await history(db, bystander["id"], "s4")

    merged = await booking.post(f"/clients/{keep['id']}/merge", json={"source_id": twin["id"]})
    assert merged.status_code == 200, merged.text
    assert merged.json()["sessions_moved"] == 2
    assert merged.json()["payments_moved"] == 1
    assert merged.json()["client"]["id"] == keep["id"]

    owners = {s["_id"]: s["client_id"] async for s in db["sessions"].find()}
    assert owners == {"s1": keep["id"], "s2": keep["id"], "s3": keep["id"], "s4": bystander["id"]}
    payers = {p["_id"]: p["client_id"] async for p in db["payments"].find()}
    assert payers == {"pay-s1": keep["id"], "pay-s2": keep["id"], "pay-s4": bystander["id"]}

    gone = await booking.get(f"/clients/{twin['id']}")
    assert gone.status_code == 410
    assert gone.json()["detail"]["merged_into"] == keep["id"]
    listed = {c["id"] for c in (await booking.get("/clients")).json()["items"]}
    assert listed == {keep["id"], bystander["id"]}

    # A retry (a lost answer, a double click) changes nothing and says the same.
    again = await booking.post(f"/clients/{keep['id']}/merge", json={"source_id": twin["id"]})
    assert again.status_code == 200
    assert again.json()["merged_client_id"] == twin["id"]
    assert again.json()["sessions_moved"] == 0

    found = await events.about([twin["id"]], count=2)
    assert [e.type for e in found] == ["booking.client.created.v1", "booking.client.deleted.v1"]
    assert found[1].data == {"client_id": twin["id"], "merged_into": keep["id"]}


async def test_a_merge_that_was_interrupted_finishes_when_repeated(
    booking: httpx.AsyncClient, db: AsyncDatabase[Document]
) -> None:
    keep = await add(booking, last_name="Laurence")
    twin = await add(booking, last_name="Laurence")
    await history(db, twin["id"], "s1", "s2")
    # The first attempt moved one session and then the process died.
    await db["sessions"].update_one({"_id": "s1"}, {"$set": {"client_id": keep["id"]}})

    merged = await booking.post(f"/clients/{keep['id']}/merge", json={"source_id": twin["id"]})
    assert merged.status_code == 200
    assert await db["sessions"].count_documents({"client_id": twin["id"]}) == 0
    assert await db["payments"].count_documents({"client_id": keep["id"]}) == 1


async def test_merges_that_make_no_sense_are_refused_in_the_error_shape(
    booking: httpx.AsyncClient,
) -> None:
    keep = await add(booking, last_name="Bhaer")
    other = await add(booking, last_name="Brooke")
    deleted = await add(booking, last_name="Gone")
    await booking.delete(f"/clients/{deleted['id']}")

    cases = [
        (keep["id"], {"source_id": keep["id"]}, 422),  # into itself
        (keep["id"], {"source_id": "nobody"}, 404),
        ("nobody", {"source_id": other["id"]}, 404),
        (keep["id"], {"source_id": deleted["id"]}, 410),  # deleted, not merged into keep
        (deleted["id"], {"source_id": other["id"]}, 410),  # into a deleted client
        (keep["id"], {}, 422),
        (keep["id"], {"source_id": ""}, 422),
    ]
    for target, body, status in cases:
        response = await booking.post(f"/clients/{target}/merge", json=body)
        assert response.status_code == status, (target, body, response.text)
        assert set(response.json()) == {"error", "message", "detail", "request_id"}
    assert (await booking.get(f"/clients/{other['id']}")).status_code == 200
