"""The studio moves its client list in from a spreadsheet: map the columns, look at a dry run,
then import for real; duplicates are skipped and bad rows are named with their field."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx
import pytest
from openpyxl import Workbook
from pymongo.asynchronous.database import AsyncDatabase

from kit.mongo import Document

from .conftest import BookingEvents

MAPPING = {
    "first_name": "First Name",
    "last_name": "Surname",
    "email": "E-Mail",
    "phone": "Phone",
    "phone_sms": "Texts OK",
    "postal_code": "ZIP",
    "city": "Town",
    "tags": "Groups",
    "marketing_consent": "Newsletter",
}
HEADER = ["First Name", "Surname", "E-Mail", "Phone", "Texts OK", "ZIP", "Town", "Groups",
          "Newsletter", "Ignored"]  # fmt: skip


def csv_file(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def xlsx_file(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(
    content: bytes, name: str = "clients.csv", mapping: dict[str, str] | None = MAPPING, **form: str
) -> dict[str, Any]:
    data = dict(form)
    if mapping is not None:
        data["mapping"] = json.dumps(mapping)
    return {"files": {"file": (name, content, "application/octet-stream")}, "data": data}


# Row numbers as a spreadsheet shows them: the header is row 1.
MIXED_ROWS = [
    ["Ann", "Archer", "ann@example.com", "+1 555 0100", "yes", "12345", "Springfield", "family; vip", "1"],  # 2  # noqa: E501
    ["Bob", "Baker", "  BOB@example.com", "", "", "", "", "", ""],  # 3: the client already exists
    ["Annie", "Archer", "", "+1 (555) 0100", "", "", "", "", ""],  # 4: Ann's phone, row 2
    ["Cy", "Cole", "cy-at-example.com", "", "", "", "", "", ""],  # 5: bad email
    ["", "", "", "555 0200", "", "", "", "", ""],  # 6: no name at all
    ["", "", "", "", "", "", "", "", "", ""],  # 7: blank, skipped
    ["Di", "Dunn", "di@example.com", "", "", "", "", "", "perhaps"],  # 8: bad newsletter flag
    ["Ed", "Eve", "ed@example.com", "call me", "", "", "", "", ""],  # 9: bad phone
    ["Flo", "Fox", "", "", "", "54321", "", "", ""],  # 10
    ["flo", "FOX", "", "", "", "543 21", "", "", ""],  # 11: same name and ZIP as row 10
]  # fmt: skip


def outcomes_by_row(report: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {o["row"]: o for o in report["outcomes"]}


async def test_a_dry_run_reports_each_row_and_writes_nothing(
    booking: httpx.AsyncClient, db: AsyncDatabase[Document]
) -> None:
    bob = await booking.post("/clients", json={"first_name": "Bob", "email": "bob@example.com"})
    bob_id = bob.json()["id"]

    response = await booking.post("/clients/import/dry-run", **upload(csv_file(MIXED_ROWS)))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["dry_run"] is True
    assert (report["rows"], report["created"], report["duplicates"], report["rejected"]) == (
        9, 2, 3, 4,
    )  # fmt: skip
    rows = outcomes_by_row(report)
    assert sorted(rows) == [2, 3, 4, 5, 6, 8, 9, 10, 11]
    assert rows[2]["outcome"] == "created"
    assert rows[2]["client_id"] is None  # nothing was created
    assert rows[3] | {"matched_on": None} == rows[3] | {
        "outcome": "duplicate", "duplicate_of_client": bob_id, "duplicate_of_row": None,
        "matched_on": None,
    }  # fmt: skip
    assert rows[3]["matched_on"] == ["email"]
    assert (rows[4]["outcome"], rows[4]["duplicate_of_row"], rows[4]["matched_on"]) == (
        "duplicate", 2, ["phone"],
    )  # fmt: skip
    assert (rows[5]["outcome"], [p["field"] for p in rows[5]["problems"]]) == (
        "rejected",
        ["email"],
    )
    assert [p["field"] for p in rows[6]["problems"]] == ["name"]
    assert [p["field"] for p in rows[8]["problems"]] == ["marketing_consent"]
    assert [p["field"] for p in rows[9]["problems"]] == ["phone"]
    assert "digits" in rows[9]["problems"][0]["message"]
    assert rows[10]["outcome"] == "created"
    assert (rows[11]["outcome"], rows[11]["duplicate_of_row"], rows[11]["matched_on"]) == (
        "duplicate", 10, ["name_and_postal_code"],
    )  # fmt: skip

    assert await db["clients"].count_documents({}) == 1  # only Bob


async def test_the_real_import_creates_what_the_dry_run_promised_and_a_rerun_creates_nothing(
    booking: httpx.AsyncClient, db: AsyncDatabase[Document], events: BookingEvents
) -> None:
    await booking.post("/clients", json={"first_name": "Bob", "email": "bob@example.com"})
    dry = (await booking.post("/clients/import/dry-run", **upload(csv_file(MIXED_ROWS)))).json()

    response = await booking.post("/clients/import", **upload(csv_file(MIXED_ROWS)))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["dry_run"] is False
    assert [(o["row"], o["outcome"]) for o in report["outcomes"]] == [
        (o["row"], o["outcome"]) for o in dry["outcomes"]
    ]
    rows = outcomes_by_row(report)
    ann = (await booking.get(f"/clients/{rows[2]['client_id']}")).json()
    assert ann["email"] == "ann@example.com"
    assert ann["phones"] == [{"number": "+1 555 0100", "sms": True}]
    assert ann["address"]["postal_code"] == "12345"
    assert ann["address"]["city"] == "Springfield"
    assert ann["tags"] == ["family", "vip"]
    assert ann["marketing_consent"] is True
    assert await db["clients"].count_documents({}) == 3

    created_ids = [rows[2]["client_id"], rows[10]["client_id"]]
    found = await events.about(created_ids, count=2)
    assert sorted(e.subject for e in found) == sorted(created_ids)
    assert {e.type for e in found} == {"booking.client.created.v1"}

    rerun = (await booking.post("/clients/import", **upload(csv_file(MIXED_ROWS)))).json()
    assert rerun["created"] == 0
    assert outcomes_by_row(rerun)[2]["duplicate_of_client"] == rows[2]["client_id"]
    assert await db["clients"].count_documents({}) == 3


async def test_an_import_told_to_allow_duplicates_creates_them_and_still_names_the_match(
    booking: httpx.AsyncClient, db: AsyncDatabase[Document]
) -> None:
    bob = await booking.post("/clients", json={"first_name": "Bob", "email": "bob@example.com"})
    response = await booking.post(
        "/clients/import", **upload(csv_file(MIXED_ROWS), allow_duplicates="true")
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["created"], report["duplicates"], report["rejected"]) == (5, 0, 4)
    rows = outcomes_by_row(report)
    assert rows[3]["outcome"] == "created"
    assert rows[3]["duplicate_of_client"] == bob.json()["id"]
    assert (rows[11]["duplicate_of_row"], rows[11]["matched_on"]) == (10, ["name_and_postal_code"])
    assert await db["clients"].count_documents({}) == 6


async def test_an_excel_file_imports_through_a_saved_template(
    booking: httpx.AsyncClient, db: AsyncDatabase[Document]
) -> None:
    saved = await booking.put("/clients/import-templates/old-crm", json={"mapping": MAPPING})
    assert saved.status_code == 200, saved.text
    assert saved.json()["mapping"] == MAPPING
    listed = (await booking.get("/clients/import-templates")).json()
    assert [t["name"] for t in listed] == ["old-crm"]

    workbook = xlsx_file(
        [
            ["Gus", "Grey", "gus@example.com", 5550300, True, 2134, "Boston", "school", "no"],
            [None, None, None, None, None, None, None, None, None],
            ["Hal", "Hill", "hal@", None, None, None, None, None, None],
        ]
    )
    response = await booking.post(
        "/clients/import", **upload(workbook, "clients.xlsx", mapping=None, template="old-crm")
    )
    assert response.status_code == 200, response.text
    rows = outcomes_by_row(response.json())
    assert sorted(rows) == [2, 4]
    assert rows[4]["problems"][0]["field"] == "email"
    gus = await db["clients"].find_one({"_id": rows[2]["client_id"]})
    assert gus is not None
    assert gus["phones"] == [{"number": "5550300", "sms": True}]
    assert gus["address"]["postal_code"] == "2134"
    assert gus["marketing_consent"] is False

    assert (await booking.delete("/clients/import-templates/old-crm")).status_code == 204
    assert (await booking.get("/clients/import-templates/old-crm")).status_code == 404


@pytest.mark.parametrize(
    ("request_kwargs", "status", "error"),
    [
        (upload(csv_file(MIXED_ROWS), mapping={"shoe_size": "Phone"}), 422, "unprocessable"),
        (upload(csv_file(MIXED_ROWS), mapping={"email": "Mail"}), 422, "unprocessable"),
        (upload(csv_file(MIXED_ROWS), mapping=None), 422, "unprocessable"),
        (upload(csv_file(MIXED_ROWS), template="old-crm"), 422, "unprocessable"),
        (upload(csv_file(MIXED_ROWS), mapping=None, template="nope"), 404, "not_found"),
        (upload(b'{"mapping": "not json'), 422, "unprocessable"),
        (upload(csv_file(MIXED_ROWS), name="clients.pdf"), 415, "unsupported_media_type"),
        (upload(csv_file(MIXED_ROWS)[:200] + b"\xff\xfe broken" + csv_file(MIXED_ROWS),
                encoding="utf-8"), 400, "bad_request"),
        (upload(csv_file(MIXED_ROWS)[:200] + b"\x81\x8d\xc3" + csv_file(MIXED_ROWS)), 400,
         "bad_request"),
        (upload(b""), 422, "unprocessable"),
        (upload(b"PK\x03\x04 not really a workbook", name="clients.xlsx"), 400, "bad_request"),
        ({"data": {"mapping": json.dumps(MAPPING)}}, 422, "validation_error"),
    ],
    ids=[
        "unknown-field", "missing-column", "no-mapping", "mapping-and-template",
        "unknown-template", "mapping-not-json", "not-csv-or-xlsx", "not-utf8-halfway-as-chosen",
        "no-encoding-excel-writes",
        "empty-file", "broken-xlsx", "no-file",
    ],
)  # fmt: skip
async def test_an_import_that_cannot_run_is_refused_whole_and_writes_nothing(
    booking: httpx.AsyncClient,
    db: AsyncDatabase[Document],
    request_kwargs: dict[str, Any],
    status: int,
    error: str,
) -> None:
    for route in ("/clients/import/dry-run", "/clients/import"):
        response = await booking.post(route, **request_kwargs)
        assert response.status_code == status, (route, response.text)
        body = response.json()
        assert set(body) == {"error", "message", "detail", "request_id"}
        assert body["error"] == error
    assert await db["clients"].count_documents({}) == 0


async def test_a_mapping_with_a_bad_field_is_not_saved_as_a_template(
    booking: httpx.AsyncClient,
) -> None:
    for body in ({"mapping": {"shoe_size": "Size"}}, {"mapping": {}}, {"columns": MAPPING}):
        response = await booking.put("/clients/import-templates/bad", json=body)
        assert response.status_code == 422, response.text
    assert (await booking.get("/clients/import-templates")).json() == []


async def test_a_ten_thousand_row_file_imports_and_exports_with_its_duplicates_skipped(
    booking: httpx.AsyncClient, db: AsyncDatabase[Document]
) -> None:
    existing = await booking.post(
        "/clients", json={"first_name": "Known", "email": "client00042@example.com"}
    )
    rows = [
        [f"First{i}", f"Last{i}", f"client{i:05d}@example.com", f"+1 212 555 {i:05d}", "yes",
         f"{10000 + i % 500}", "New York", "bulk", "no"]
        for i in range(10_000)
    ]  # fmt: skip
    rows[9_000][2] = "CLIENT00010@example.com"  # row 9002 repeats row 12, two chunks apart

    response = await booking.post("/clients/import", **upload(csv_file(rows)))
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows"], report["created"], report["duplicates"], report["rejected"]) == (
        10_000, 9_998, 2, 0,
    )  # fmt: skip
    by_row = outcomes_by_row(report)
    assert by_row[44]["duplicate_of_client"] == existing.json()["id"]
    assert by_row[9_002]["duplicate_of_row"] == 12
    assert await db["clients"].count_documents({"deleted_at": None}) == 9_999

    export = await booking.get("/clients/export.csv", params={"tag": "bulk"})
    exported = list(csv.DictReader(io.StringIO(export.text)))
    assert len(exported) == 9_998
    assert len({r["id"] for r in exported}) == 9_998


async def test_a_semicolon_separated_csv_with_a_byte_order_mark_imports(
    booking: httpx.AsyncClient,
) -> None:
    content = "\ufeffFirst Name;Surname;ZIP\nJo;March;01742\n".encode()
    mapping = {"first_name": "First Name", "last_name": "Surname", "postal_code": "ZIP"}
    response = await booking.post("/clients/import", **upload(content, mapping=mapping))
    assert response.status_code == 200, response.text
    [outcome] = response.json()["outcomes"]
    client = (await booking.get(f"/clients/{outcome['client_id']}")).json()
    assert (client["first_name"], client["address"]["postal_code"]) == ("Jo", "01742")


async def test_a_file_over_the_row_limit_is_refused_before_anything_is_written(
    booking: httpx.AsyncClient, db: AsyncDatabase[Document]
) -> None:
    content = b"First Name\n" + b"Jo\n" * 100_001
    response = await booking.post(
        "/clients/import", **upload(content, mapping={"first_name": "First Name"})
    )
    assert response.status_code == 413
    assert response.json()["detail"] == {"max_rows": 100_000}
    assert await db["clients"].count_documents({}) == 0
