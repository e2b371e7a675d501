"""Client import without a browser: a file's columns read by booking with its encoding and
separator shown and fields suggested, a mapping saved as a template and chosen again, the dry
run per row (a refused row, a likely duplicate), the import in the background with its
progress page, refusals beside what caused them, CSRF, and marketing kept out."""

from __future__ import annotations

import asyncio
import io
import re
import time
import uuid
from typing import Any

import httpx
from openpyxl import Workbook
from web_harness import WebClient, html, text_of


def _unique() -> str:
    return uuid.uuid4().hex[:8]


def _csv(text: str, encoding: str = "utf-8") -> dict[str, Any]:
    return {"file": ("clients.csv", text.encode(encoding), "text/csv")}


def _selected(answer: httpx.Response) -> dict[str, str]:
    """map-<i> -> the client field chosen for column i on the mapping screen."""
    chosen: dict[str, str] = {}
    for select in html(answer).css("#import-steps select[name^='map-']"):
        option = select.css_first("option[selected]")
        chosen[select.attributes["name"] or ""] = (
            option.attributes.get("value") or "" if option else ""
        )
    return chosen


def _mapping_form(answer: httpx.Response) -> dict[str, Any]:
    """The hidden fields and choices of the mapping step, as the page would post them."""
    tree = html(answer)
    form: dict[str, Any] = {}
    for node in tree.css("#import-steps input[type=hidden]"):
        form[node.attributes["name"] or ""] = node.attributes.get("value") or ""
    form |= _selected(answer)
    return form


async def _create(owner: WebClient, **fields: str) -> str:
    await owner.get("/clients/new")
    made = await owner.post("/clients/new", fields)
    assert made.status_code == 303, made.text
    return made.headers["location"].rsplit("/", 1)[-1]


async def test_marketing_sees_no_import_or_merge_and_is_refused_them(
    owner: WebClient, marketing: WebClient
) -> None:
    client_id = await _create(owner, first_name="Mia", last_name=f"Market{_unique()}")

    listing = await marketing.get("/clients")
    record = await marketing.get(f"/clients/{client_id}")
    importing = await marketing.get("/clients/import")
    merging = await marketing.get(f"/clients/{client_id}/merge")
    posted = await marketing.post(
        "/clients/import/dry-run", {"column_count": "0"}, files=_csv("First Name\nX\n")
    )
    owners_list = await owner.get("/clients")

    assert listing.status_code == 200
    assert html(listing).css_first('a[href="/clients/import"]') is None
    assert html(owners_list).css_first('a[href="/clients/import"]') is not None
    assert record.status_code == 200
    assert html(record).css_first(f'a[href="/clients/{client_id}/merge"]') is None
    assert html(record).css_first("#c-invoices") is None
    assert (importing.status_code, merging.status_code, posted.status_code) == (403, 403, 403)
    assert "Not for your role" in importing.text
    assert "Not for your role" in posted.text


async def test_a_files_columns_come_with_booking_suggestions_and_how_it_was_read(
    owner: WebClient,
) -> None:
    await owner.get("/clients/import")
    text = "Vorname;Nachname;E-Mail;Stadt;Lieblingsfarbe\nJürgen;Müller;j@example.com;Köln;blau\n"

    read = await owner.post("/clients/import/columns", {}, files=_csv(text, "cp1252"), htmx=True)

    assert read.status_code == 200, read.text
    assert read.text.lstrip().startswith('<div id="import-steps"')
    source = text_of(read, "#import-source")
    assert "Windows-1252" in source
    assert "semicolon (;)" in source
    assert "found out from the file" in source
    assert "1 row after the header" in source
    assert _selected(read) == {
        "map-0": "first_name",
        "map-1": "last_name",
        "map-2": "email",
        "map-3": "city",
        "map-4": "",
    }
    assert "Jürgen" in text_of(read, ".import-mapping")


async def test_a_chosen_encoding_is_used_and_a_file_booking_cannot_read_is_named(
    owner: WebClient,
) -> None:
    await owner.get("/clients/import")
    text = "First Name\tSurname\nZoë\tZhang\n"

    chosen = await owner.post(
        "/clients/import/columns",
        {"encoding": "utf-16", "delimiter": "tab"},
        files=_csv(text, "utf-16"),
        htmx=True,
    )
    nothing = await owner.post("/clients/import/columns", {}, htmx=True)
    wrong = await owner.post(
        "/clients/import/columns", {}, files={"file": ("c.pdf", b"%PDF", "application/pdf")}
    )

    assert "UTF-16" in text_of(chosen, "#import-source")
    assert "as chosen" in text_of(chosen, "#import-source")
    assert "Zoë" in text_of(chosen, ".import-mapping")
    assert nothing.status_code == 422
    assert "Choose a file" in text_of(nothing, "#e-file")
    assert wrong.status_code == 415
    assert ".csv or .xlsx" in text_of(wrong, "#e-file")


async def test_a_mapping_saved_as_a_template_is_chosen_again_for_another_file(
    owner: WebClient,
) -> None:
    name = f"crm-{_unique()}"
    await owner.get("/clients/import")
    first = await owner.post(
        "/clients/import/columns", {}, files=_csv("Given,Family,Reachable at\nA,B,a@b.example\n")
    )
    form = _mapping_form(first) | {"map-0": "first_name", "map-1": "last_name", "map-2": "email"}

    saved = await owner.post("/clients/import/template", form | {"template_name": name}, htmx=True)
    # Another export of the same system: its columns in another order.
    again = await owner.post(
        "/clients/import/columns",
        {"template": name},
        files=_csv("Reachable at,Family,Given\na@b.example,B,A\n"),
        htmx=True,
    )

    assert saved.status_code == 200, saved.text
    assert f"Saved as template '{name}'" in text_of(saved, ".notice")
    assert html(saved).css_first(f'#i-template option[value="{name}"]') is not None
    assert _selected(again) == {"map-0": "email", "map-1": "last_name", "map-2": "first_name"}
    assert "is chosen" in text_of(again, ".notice")


async def test_one_field_chosen_for_two_columns_is_refused_beside_the_mapping(
    owner: WebClient,
) -> None:
    await owner.get("/clients/import")
    content = "A,B\nx,y\n"
    read = await owner.post("/clients/import/columns", {}, files=_csv(content))
    form = _mapping_form(read) | {"map-0": "last_name", "map-1": "last_name"}

    refused = await owner.post("/clients/import/dry-run", form, files=_csv(content), htmx=True)
    no_file = await owner.post("/clients/import/dry-run", form | {"map-1": "first_name"}, htmx=True)

    assert refused.status_code == 422
    assert refused.text.lstrip().startswith('<div id="import-report"')
    assert "Last name is chosen for two columns" in text_of(refused, "#import-report")
    assert no_file.status_code == 422
    assert "Choose the file again" in text_of(no_file, "#import-report")


async def test_the_dry_run_names_each_rows_outcome_and_writes_nothing(owner: WebClient) -> None:
    tag = _unique()
    existing = await _create(
        owner, first_name="Old", last_name=f"Client{tag}", email=f"old{tag}@example.com"
    )
    content = (
        "First Name,Surname,Email\n"
        f"Ann,Dry{tag},ann{tag}@example.com\n"
        f"Ben,Dry{tag},not-an-email\n"
        f"Olda,Dry{tag},old{tag}@example.com\n"
    )
    await owner.get("/clients/import")
    read = await owner.post("/clients/import/columns", {}, files=_csv(content))

    report = await owner.post(
        "/clients/import/dry-run", _mapping_form(read), files=_csv(content), htmx=True
    )
    found = await owner.get(f"/clients?name=Dry{tag}")

    assert report.status_code == 200, report.text
    counts = [text_of(report, f"#count-{k}") for k in ("created", "duplicates", "rejected")]
    assert counts == ["1", "1", "1"]
    assert "would be created" in text_of(report, "#row-2")
    assert "email: not an email address" in text_of(report, "#row-3")
    assert "Ben Dry" in text_of(report, "#row-3")
    assert "same email as an existing client" in text_of(report, "#row-4")
    assert html(report).css_first(f'#row-4 a[href="/clients/{existing}"]') is not None
    assert "No client matches" in text_of(found, "#results")


async def _run_finished(owner: WebClient, path: str) -> tuple[list[str], httpx.Response]:
    states: list[str] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        answer = await owner.get(path, headers={"HX-Request": "true"})
        assert answer.status_code == 200, answer.text
        states.append(text_of(answer, "#import-status"))
        if states[-1] != "importing":
            return states, answer
        await asyncio.sleep(0.3)
    raise AssertionError(f"the import did not finish: {states[-5:]}")


async def test_the_import_runs_in_the_background_and_its_page_shows_each_row(
    owner: WebClient,
) -> None:
    tag = _unique()
    content = (
        f"First Name,Surname,ZIP\nCara,Run{tag},02134\nDev,Run{tag},10115\n,,\nEve,Run{tag},\n"
    )
    await owner.get("/clients/import")
    read = await owner.post("/clients/import/columns", {}, files=_csv(content))
    form = _mapping_form(read) | {"map-2": "postal_code"}

    started = await owner.post("/clients/import/start", form, files=_csv(content))
    assert started.status_code == 303, started.text
    path = started.headers["location"]
    assert re.fullmatch(r"/clients/import/runs/[0-9a-f-]{36}", path)
    page = await owner.get(path)
    states, final = await _run_finished(owner, path)
    found = await owner.get(f"/clients?name=Run{tag}")

    assert page.status_code == 200
    assert html(page).css_first("progress#import-bar") is not None
    assert states[-1] == "done"
    assert final.text.lstrip().startswith('<section id="import-progress"')
    assert html(final).css_first("#import-progress[hx-trigger]") is None  # polling stops
    assert "3 of 3 rows done" in text_of(final, "#import-progress")
    assert text_of(final, "#count-created") == "3"
    links = html(final).css("#import-progress .import-outcomes a[href^='/clients/']")
    assert sorted(a.text() for a in links) == [f"Cara Run{tag}", f"Dev Run{tag}", f"Eve Run{tag}"]
    assert "3 clients" in text_of(found, "#c-found")
    assert "02134" in text_of(found, "#results")


async def test_an_import_step_without_the_csrf_token_is_refused(owner: WebClient) -> None:
    await owner.get("/clients/import")
    content = "First Name\nNobody\n"

    refused = await owner.http.post(
        "/clients/import/start",
        data={"column_count": "1", "column-0": "First Name", "map-0": "first_name"},
        files=_csv(content),
    )

    assert refused.status_code == 403
    assert "Form expired" in refused.text


def _workbook(rows: list[list[tuple[object, str | None]]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for number, row in enumerate(rows, start=1):
        for column, (value, number_format) in enumerate(row, start=1):
            cell = sheet.cell(row=number, column=column, value=value)
            if number_format:
                cell.number_format = number_format
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def test_an_excel_zip_typed_as_a_number_keeps_its_leading_zero_on_the_screen(
    owner: WebClient,
) -> None:
    tag = _unique()
    content = _workbook(
        [
            [("First Name", None), ("Last Name", None), ("ZIP", None)],
            [("Gia", None), (f"Xlsx{tag}", None), (2134, "00000")],
        ]
    )
    upload = {
        "file": (
            "clients.xlsx",
            content,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    }
    await owner.get("/clients/import")

    read = await owner.post("/clients/import/columns", {}, files=upload, htmx=True)
    report = await owner.post(
        "/clients/import/dry-run", _mapping_form(read), files=upload, htmx=True
    )

    assert "Excel workbook" in text_of(read, "#import-source")
    assert _selected(read) == {"map-0": "first_name", "map-1": "last_name", "map-2": "postal_code"}
    assert "02134" in text_of(read, ".import-mapping")
    assert text_of(report, "#count-created") == "1"
