"""The studio finds clients whatever the accents and the case it types: "Zoe" finds "Zoë",
"muller" finds "Müller", "jose alvarez" finds "José Álvarez", in names, email and
organization, in the list and the export; clients stored before the search keys existed are
found once the background backfill has refolded them (and by their old keys until then)."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from kit.mongo import Document
from kit.testing import build_app, eventually, running


async def add(booking: httpx.AsyncClient, **fields: Any) -> str:
    response = await booking.post("/clients", json=fields)
    assert response.status_code == 201, response.text
    client_id: str = response.json()["id"]
    return client_id


async def ids(booking: httpx.AsyncClient, **params: Any) -> set[str]:
    response = await booking.get("/clients", params=params)
    assert response.status_code == 200, response.text
    return {c["id"] for c in response.json()["items"]}


async def test_search_ignores_accents_and_case_in_names_email_and_organization(
    booking: httpx.AsyncClient,
) -> None:
    zoe = await add(booking, first_name="Zoë", last_name="Brontë", email="zoe@example.com")
    muller = await add(
        booking, first_name="Jörg", last_name="Müller", organization="Bäckerei Größe"
    )
    jose = await add(
        booking, first_name="José", last_name="Álvarez", email="José.Álvarez@Correo.es"
    )
    lars = await add(booking, first_name="Lars", last_name="Østergård", organization="Ærø ApS")
    plain = await add(booking, first_name="Zoe", last_name="Plain")

    assert await ids(booking, name="Zoe") == {zoe, plain}
    assert await ids(booking, name="ZOË") == {zoe, plain}  # accents typed also match bare ones
    assert await ids(booking, name="muller") == {muller}
    assert await ids(booking, name="MÜLLER jorg") == {muller}
    assert await ids(booking, name="jose") == {jose}
    assert await ids(booking, name="Jose Alvarez") == {jose}
    assert await ids(booking, name="ostergard") == {lars}
    assert await ids(booking, organization="backerei grosse") == {muller}  # ß is ss
    assert await ids(booking, organization="aero") == {lars}
    assert await ids(booking, email="jose.alvarez@") == {jose}
    assert await ids(booking, name="zoe", email="example.com") == {zoe}
    assert await ids(booking, name="zo.") == set()  # still matched literally, not as a pattern

    export = await booking.get("/clients/export.csv", params={"name": "muller"})
    assert export.status_code == 200
    assert [r["id"] for r in csv.DictReader(io.StringIO(export.text))] == [muller]

    # An edit refolds: the old name no longer matches, the new one does without its accents.
    changed = await booking.patch(f"/clients/{jose}", json={"last_name": "Núñez"})
    assert changed.status_code == 200, changed.text
    assert await ids(booking, name="alvarez") == set()
    assert await ids(booking, name="jose nunez") == {jose}


async def test_clients_stored_before_the_search_keys_are_refolded_in_the_background(
    booking: httpx.AsyncClient, db: AsyncDatabase[Document], unique: str
) -> None:
    zoe = await add(booking, first_name="Zoë", last_name="Earlier")
    ines = await add(booking, first_name="Inés", last_name="Earlier")
    # As an older version of booking stored them: no search keys.
    await db["clients"].update_many({}, {"$unset": {"search": ""}})

    # Until the backfill runs, the old case-insensitive match still finds them.
    assert await ids(booking, name="ZOË") == {zoe}
    assert await ids(booking, name="zoe") == set()

    # A process starting on the database refolds them, then accents no longer matter.
    async with running(build_app("booking", database=f"t_{unique}")) as restarted:

        async def refolded() -> bool:
            return await db["clients"].count_documents({"search.v": 1}) == 2

        await eventually(refolded, timeout=30, what="the search keys backfill")
        assert await ids(restarted, name="zoe") == {zoe}
        assert await ids(restarted, name="ines earlier") == {ines}
    stored = await db["clients"].find_one({"_id": zoe})
    assert stored is not None
    assert stored["search"]["first_name"] == "zoe"
    assert stored["version"] == 1  # refolding is not a change of the client
