"""Marketing selections honour consent: a client's marketing consent is recorded with when and
how it was given or withdrawn (create, edit, import, unsubscribe), lists and exports filter by
it, and marketing users never see the staff-only notes."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from .conftest import BookingEvents

OWNER = {"X-User-Id": "owner-olga", "X-User-Role": "owner"}
MARKETING = {"X-User-Id": "mark", "X-User-Role": "marketing"}


async def add(booking: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await booking.post("/clients", json=fields, headers=OWNER)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def ids(booking: httpx.AsyncClient, **params: Any) -> set[str]:
    response = await booking.get("/clients", params=params)
    assert response.status_code == 200, response.text
    return {c["id"] for c in response.json()["items"]}


async def test_consent_given_on_a_paper_form_is_recorded_and_an_unsubscribe_withdraws_it(
    booking: httpx.AsyncClient, events: BookingEvents
) -> None:
    signed = "2026-11-20T10:30:00Z"
    ann = await add(
        booking,
        first_name="Ann",
        marketing_consent=True,
        marketing_consent_method="paper_form",
        marketing_consent_at=signed,
        marketing_consent_note="Ticked the box on the wedding contract",
    )
    assert ann["marketing_consent"] is True
    assert ann["marketing_consent_method"] == "paper_form"
    assert ann["marketing_consent_at"].startswith("2026-11-20T10:30:00")
    [given] = ann["marketing_consent_history"]
    assert given["given"] is True
    assert given["by"] == "owner-olga"
    assert given["note"] == "Ticked the box on the wedding contract"

    before = datetime.now(UTC) - timedelta(seconds=5)
    quit_ = await booking.post(f"/clients/{ann['id']}/unsubscribe", headers=OWNER)
    assert quit_.status_code == 200, quit_.text
    out = quit_.json()
    assert out["marketing_consent"] is False
    assert out["marketing_consent_method"] == "unsubscribe"
    assert datetime.fromisoformat(out["marketing_consent_at"]) >= before
    assert [c["given"] for c in out["marketing_consent_history"]] == [True, False]
    assert (await booking.get(f"/clients/{ann['id']}")).json() == out

    # Unsubscribing again records nothing and announces nothing.
    again = await booking.post(
        f"/clients/{ann['id']}/unsubscribe", json={"method": "email", "note": "asked twice"}
    )
    assert again.status_code == 200
    assert again.json()["marketing_consent_history"] == out["marketing_consent_history"]

    published = await events.about([ann["id"]], count=2)
    assert [(e.type, e.data["marketing_consent"]) for e in published] == [
        ("booking.client.created.v1", True),
        ("booking.client.updated.v1", False),
    ]


async def test_an_edit_records_a_consent_change_only_when_consent_changes(
    booking: httpx.AsyncClient,
) -> None:
    bob = await add(booking, first_name="Bob")
    assert bob["marketing_consent"] is False
    assert bob["marketing_consent_at"] is None  # never asked
    assert bob["marketing_consent_history"] == []

    given = await booking.patch(
        f"/clients/{bob['id']}",
        json={"marketing_consent": True, "marketing_consent_method": "phone"},
        headers={"X-User-Id": "sam", "X-User-Role": "staff"},
    )
    assert given.status_code == 200, given.text
    assert given.json()["marketing_consent_method"] == "phone"
    # The web form sends the box with every save: the same value again records nothing.
    same = await booking.patch(
        f"/clients/{bob['id']}",
        json={"marketing_consent": True, "last_name": "Cork", "marketing_consent_method": "email"},
    )
    assert same.status_code == 200, same.text
    history = same.json()["marketing_consent_history"]
    assert [(c["given"], c["method"], c["by"]) for c in history] == [(True, "phone", "sam")]

    withdrawn = await booking.patch(f"/clients/{bob['id']}", json={"marketing_consent": False})
    assert withdrawn.json()["marketing_consent_method"] == "staff_entry"  # not said how
    assert len(withdrawn.json()["marketing_consent_history"]) == 2

    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    for bad in (
        {"marketing_consent_method": "phone"},  # how, without saying what changed
        {"marketing_consent": True, "marketing_consent_at": future},
        {"marketing_consent": True, "marketing_consent_method": "carrier_pigeon"},
    ):
        refused = await booking.patch(f"/clients/{bob['id']}", json=bad)
        assert refused.status_code == 422, (bad, refused.text)
        assert set(refused.json()) == {"error", "message", "detail", "request_id"}
    assert (await booking.get(f"/clients/{bob['id']}")).json()["marketing_consent"] is False


async def test_lists_and_exports_filter_by_consent(booking: httpx.AsyncClient) -> None:
    yes = await add(booking, first_name="Yes", last_name="Filter", marketing_consent=True)
    no = await add(booking, first_name="No", last_name="Filter")
    quit_ = await add(booking, first_name="Quit", last_name="Filter", marketing_consent=True)
    await booking.post(f"/clients/{quit_['id']}/unsubscribe")

    assert await ids(booking, marketing_consent="true") == {yes["id"]}
    assert await ids(booking, marketing_consent="false") == {no["id"], quit_["id"]}
    assert await ids(booking, marketing_consent="true", name="filter") == {yes["id"]}
    assert await ids(booking) == {yes["id"], no["id"], quit_["id"]}
    bad = await booking.get("/clients", params={"marketing_consent": "perhaps"})
    assert bad.status_code == 422

    export = await booking.get("/clients/export.csv", params={"marketing_consent": "false"})
    assert export.status_code == 200
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(export.text))}
    assert set(rows) == {no["id"], quit_["id"]}
    assert rows[quit_["id"]]["marketing_consent"] == "no"
    assert rows[quit_["id"]]["marketing_consent_method"] == "unsubscribe"
    assert rows[quit_["id"]]["marketing_consent_at"] != ""
    assert rows[no["id"]]["marketing_consent_at"] == ""


async def test_marketing_users_never_see_the_staff_only_notes(booking: httpx.AsyncClient) -> None:
    cy = await add(booking, first_name="Cy", notes="Owes us for the last album", tags=["vip"])
    assert cy["notes"] == "Owes us for the last album"

    one = await booking.get(f"/clients/{cy['id']}", headers=MARKETING)
    assert one.status_code == 200
    assert one.json()["notes"] is None
    assert one.json()["tags"] == ["vip"]
    listed = await booking.get("/clients", params={"tag": "vip"}, headers=MARKETING)
    assert [c["notes"] for c in listed.json()["items"]] == [None]
    export = await booking.get("/clients/export.csv", headers=MARKETING)
    reader = csv.reader(io.StringIO(export.text))
    header = next(reader)
    assert "notes" not in header
    assert "marketing_consent" in header
    assert "Owes us" not in export.text

    # The studio's own people still see them.
    for headers in (OWNER, {"X-User-Role": "staff"}, {}):
        seen = await booking.get(f"/clients/{cy['id']}", headers=headers)
        assert seen.json()["notes"] == "Owes us for the last album"
    staff_export = await booking.get("/clients/export.csv", headers=OWNER)
    assert "Owes us for the last album" in staff_export.text


async def test_an_import_sets_consent_from_its_mapped_columns(booking: httpx.AsyncClient) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Name", "Mail", "Newsletter", "Opt-in date"])
    writer.writerow(["Dora", "dora@example.com", "yes", "2025-03-01"])
    writer.writerow(["Eli", "eli@example.com", "no", ""])
    writer.writerow(["Fay", "fay@example.com", "yes", "01/03/2025"])  # not a date it can read
    writer.writerow(["Gus", "gus@example.com", "x", ""])
    mapping = {
        "first_name": "Name",
        "email": "Mail",
        "marketing_consent": "Newsletter",
        "marketing_consent_at": "Opt-in date",
    }
    columns = await booking.post(
        "/clients/import/columns",
        files={"file": ("clients.csv", buffer.getvalue().encode(), "text/csv")},
    )
    assert columns.json()["suggested_mapping"]["marketing_consent_at"] == "Opt-in date"
    started = datetime.now(UTC) - timedelta(seconds=5)
    report = await booking.post(
        "/clients/import",
        files={"file": ("clients.csv", buffer.getvalue().encode(), "text/csv")},
        data={"mapping": json.dumps(mapping)},
        headers={"X-User-Id": "importer-ida", "X-User-Role": "staff"},
    )
    assert report.status_code == 200, report.text
    outcomes = report.json()["outcomes"]
    assert [o["outcome"] for o in outcomes] == ["created", "created", "rejected", "created"]
    assert outcomes[2]["problems"][0]["field"] == "marketing_consent_at"

    by_name = {
        c["first_name"]: c
        for c in (await booking.get("/clients", params={"page_size": 10})).json()["items"]
    }
    dora, eli, gus = by_name["Dora"], by_name["Eli"], by_name["Gus"]
    assert (dora["marketing_consent"], dora["marketing_consent_method"]) == (True, "import")
    assert dora["marketing_consent_at"].startswith("2025-03-01T00:00:00")
    assert (eli["marketing_consent"], eli["marketing_consent_history"]) == (False, [])
    assert dora["marketing_consent_history"][0]["by"] == "importer-ida"
    assert gus["marketing_consent_method"] == "import"
    assert datetime.fromisoformat(gus["marketing_consent_at"]) >= started  # when imported
